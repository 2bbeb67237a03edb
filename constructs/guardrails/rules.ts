/**
 * The guardrail rules: each has an id (what `suppress()` names), what it requires, why, and how to
 * fix a violation. A rule reads the stack as synthesized (StackView) and returns its findings.
 * README's rule table lists the same id, what and why.
 */
import { isInterpolated, readAttribute, ReadError, Unknown, type Value } from "./expression";
import { documentStatements, isObject, readPolicy, type Statement } from "./policy";
import type { Attributes, Block, StackView } from "./stack-view";

export interface RuleContext {
  readonly view: StackView;
  /** The environment is production (`config.production`). */
  readonly production: boolean;
  /** The environment is protected from destroy (`config.protect`). */
  readonly protect: boolean;
}

export interface Finding {
  readonly block: Block;
  /** What is wrong with this block, e.g. `storage_encrypted is not true`. */
  readonly detail: string;
}

export interface Rule {
  readonly id: string;
  /** What the rule requires, one line. */
  readonly what: string;
  /** Why it matters: the AWS behaviour or incident behind it, one line. */
  readonly why: string;
  /** How to fix a violation. */
  readonly fix: string;
  check(context: RuleContext): Finding[];
}

const WORLD = ["0.0.0.0/0", "::/0"];
const WEB_PORTS = [80, 443];
const LOAD_BALANCERS = ["aws_lb", "aws_alb", "aws_elb"];
const DATABASES = ["aws_db_instance", "aws_rds_cluster"];

export const RULES: readonly Rule[] = [
  {
    id: "open-ingress",
    what: "no ingress from 0.0.0.0/0 or ::/0, except TCP 80/443 to a load balancer's security group",
    why: "scanners find an open port within minutes; only a load balancer faces the internet, and only for HTTP(S)",
    fix: "allow a security group (referenced_security_group_id) or a narrow CIDR instead; reach hosts through SSM, not SSH",
    check: ({ view }) => {
      const findings: Finding[] = [];
      const loadBalancerGroups = view
        .resources("aws_security_group")
        .filter((sg) => LOAD_BALANCERS.some((type) => view.resources(type).some((lb) => view.refersTo(lb.attributes.security_groups, sg))));
      const isLoadBalancerGroup = (groupId: unknown) => loadBalancerGroups.some((sg) => view.refersTo(groupId, sg));
      const open = (rule: Attributes, group: unknown, what: string, block: Block) => {
        const sources = [...list(rule.cidr_blocks), ...list(rule.ipv6_cidr_blocks), rule.cidr_ipv4, rule.cidr_ipv6];
        const world = sources.filter((s): s is string => typeof s === "string" && WORLD.includes(s));
        if (world.length === 0) return;
        const protocol = String(rule.protocol ?? rule.ip_protocol);
        const port = rule.from_port === rule.to_port && WEB_PORTS.includes(Number(rule.from_port)) ? Number(rule.from_port) : undefined;
        if ((protocol === "tcp" || protocol === "6") && port !== undefined && isLoadBalancerGroup(group)) return;
        const ports = protocol === "-1" ? "all traffic" : `${protocol} ${rule.from_port}-${rule.to_port}`;
        const reason = port === undefined ? "" : " to a group no load balancer of this stack uses";
        findings.push({ block, detail: `${what} allows ${ports} from ${world.join(", ")}${reason}` });
      };
      for (const sg of view.resources("aws_security_group")) {
        blocksIn(sg.attributes.ingress).forEach((rule, i) => open(rule, `\${${sg.address}.id}`, `ingress[${i}]`, sg));
      }
      for (const rule of view.resources("aws_vpc_security_group_ingress_rule")) {
        open(rule.attributes, rule.attributes.security_group_id, "the rule", rule);
      }
      for (const rule of view.resources("aws_security_group_rule").filter((r) => r.attributes.type === "ingress")) {
        open(rule.attributes, rule.attributes.security_group_id, "the rule", rule);
      }
      return findings;
    },
  },
  {
    id: "sg-description",
    what: "every security group and security group rule has a description",
    why: "a rule nobody can explain is never removed; without one the provider writes 'Managed by Terraform'",
    fix: "set description on the group and on each of its ingress/egress rules, saying who needs it and why",
    check: ({ view }) => {
      const findings: Finding[] = [];
      const missing = (d: unknown) => typeof d !== "string" || d.trim() === "" || d === "Managed by Terraform";
      for (const sg of view.resources("aws_security_group")) {
        if (missing(sg.attributes.description)) findings.push({ block: sg, detail: "the group has no description" });
        for (const direction of ["ingress", "egress"]) {
          blocksIn(sg.attributes[direction]).forEach((rule, i) => {
            if (missing(rule.description)) findings.push({ block: sg, detail: `${direction}[${i}] has no description` });
          });
        }
      }
      for (const type of ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"]) {
        for (const rule of view.resources(type)) {
          if (missing(rule.attributes.description)) findings.push({ block: rule, detail: "the rule has no description" });
        }
      }
      return findings;
    },
  },
  {
    id: "rds-encrypted",
    what: "RDS storage is encrypted",
    why: "encryption can only be chosen at creation; adding it later means snapshot, copy and restore with downtime",
    fix: "set storage_encrypted = true",
    check: ({ view }) =>
      DATABASES.flatMap((type) => view.resources(type))
        .filter((db) => !isTrue(db.attributes.storage_encrypted))
        .map((block) => ({ block, detail: "storage_encrypted is not true" })),
  },
  {
    id: "ebs-encrypted",
    what: "EBS volumes are encrypted: instance root and data volumes, standalone volumes, launch templates",
    why: "an unencrypted volume's snapshots can be shared or copied out in the clear",
    fix: "set encrypted = true in root_block_device and every ebs_block_device (aws_ebs_volume: encrypted = true)",
    check: ({ view }) => {
      const findings: Finding[] = [];
      for (const instance of view.resources("aws_instance")) {
        const root = blocksIn(instance.attributes.root_block_device);
        if (root.length === 0 || !isTrue(root[0].encrypted)) {
          findings.push({ block: instance, detail: "root_block_device.encrypted is not true" });
        }
        blocksIn(instance.attributes.ebs_block_device).forEach((d, i) => {
          if (!isTrue(d.encrypted)) findings.push({ block: instance, detail: `ebs_block_device[${i}].encrypted is not true` });
        });
      }
      for (const volume of view.resources("aws_ebs_volume")) {
        if (!isTrue(volume.attributes.encrypted)) findings.push({ block: volume, detail: "encrypted is not true" });
      }
      for (const template of view.resources("aws_launch_template")) {
        blocksIn(template.attributes.block_device_mappings).forEach((m, i) => {
          const ebs = blocksIn(m.ebs);
          if (ebs.length > 0 && !isTrue(ebs[0].encrypted)) {
            findings.push({ block: template, detail: `block_device_mappings[${i}].ebs.encrypted is not true` });
          }
        });
      }
      return findings;
    },
  },
  {
    id: "s3-encrypted",
    what: "every S3 bucket has a server-side encryption configuration in its stack",
    why: "the encryption a bucket promises must be written down, not left to an account default someone can change",
    fix: "add an aws_s3_bucket_server_side_encryption_configuration for the bucket (AES256 or aws:kms)",
    check: ({ view }) =>
      view
        .resources("aws_s3_bucket")
        .filter((bucket) => !hasCompanion(view, "aws_s3_bucket_server_side_encryption_configuration", bucket, () => true))
        .filter((bucket) => blocksIn(bucket.attributes.server_side_encryption_configuration).length === 0)
        .map((block) => ({ block, detail: "no aws_s3_bucket_server_side_encryption_configuration names this bucket" })),
  },
  {
    id: "sqs-encrypted",
    what: "SQS queues are encrypted at rest",
    why: "messages carry application data and sit on disk for up to 14 days",
    fix: "set sqs_managed_sse_enabled = true, or kms_master_key_id to a KMS key",
    check: ({ view }) =>
      view
        .resources("aws_sqs_queue")
        .filter((q) => !isTrue(q.attributes.sqs_managed_sse_enabled) && !present(q.attributes.kms_master_key_id))
        .map((block) => ({ block, detail: "neither sqs_managed_sse_enabled nor kms_master_key_id is set" })),
  },
  {
    id: "sns-encrypted",
    what: "SNS topics are encrypted at rest",
    why: "alerts and notifications carry data; SNS only encrypts with a KMS key",
    fix: "set kms_master_key_id to a customer managed key whose key policy lets the publishers (cloudwatch.amazonaws.com for alarms) use it; CloudWatch cannot publish to a topic under alias/aws/sns",
    check: ({ view }) =>
      view
        .resources("aws_sns_topic")
        .filter((t) => !present(t.attributes.kms_master_key_id))
        .map((block) => ({ block, detail: "kms_master_key_id is not set" })),
  },
  {
    id: "cache-encrypted",
    what: "ElastiCache storage is encrypted at rest",
    why: "cached sessions and query results are application data; at-rest encryption can only be chosen at creation",
    fix: "use aws_elasticache_replication_group with at_rest_encryption_enabled = true (or a serverless cache, always encrypted); a standalone aws_elasticache_cluster cannot encrypt",
    check: ({ view }) => [
      ...view
        .resources("aws_elasticache_replication_group")
        .filter((g) => !isTrue(g.attributes.at_rest_encryption_enabled))
        .map((block) => ({ block, detail: "at_rest_encryption_enabled is not true" })),
      ...view
        .resources("aws_elasticache_cluster")
        .filter((c) => !present(c.attributes.replication_group_id))
        .map((block) => ({ block, detail: "a cluster outside a replication group has no at-rest encryption" })),
    ],
  },
  {
    id: "rds-private",
    what: "RDS instances are never publicly accessible",
    why: "a public endpoint exposes PostgreSQL's login to the whole internet; operators reach it through the SSM tunnel",
    fix: "remove publicly_accessible (default false); connect through the bastion's SSM port forwarding",
    check: ({ view }) =>
      ["aws_db_instance", "aws_rds_cluster_instance"]
        .flatMap((type) => view.resources(type))
        .filter((db) => ![undefined, null, false, "false"].includes(db.attributes.publicly_accessible))
        .map((block) => ({ block, detail: `publicly_accessible is ${JSON.stringify(block.attributes.publicly_accessible)}` })),
  },
  {
    id: "prod-db-deletion-protection",
    what: "production databases have deletion protection (while the environment is protected)",
    why: "one mistaken destroy or console click must not delete production data",
    fix: 'set deletion_protection = true (database.deletionProtection); to tear production down deliberately, set "protect": false first (README, Protection)',
    check: ({ view, production, protect }) =>
      !(production && protect)
        ? []
        : DATABASES.flatMap((type) => view.resources(type))
            .filter((db) => !isTrue(db.attributes.deletion_protection))
            .map((block) => ({ block, detail: "deletion_protection is not true" })),
  },
  {
    id: "prod-db-final-snapshot",
    what: "production databases take a final snapshot when destroyed",
    why: "a destroyed production database with no final snapshot cannot be restored once its automated backups go with it",
    fix: "leave skip_final_snapshot false (database.skipFinalSnapshot) and set final_snapshot_identifier",
    check: ({ view, production }) =>
      !production
        ? []
        : DATABASES.flatMap((type) => view.resources(type)).flatMap((db) => {
            if (isTrue(db.attributes.skip_final_snapshot)) return [{ block: db, detail: "skip_final_snapshot is true" }];
            if (!present(db.attributes.final_snapshot_identifier)) {
              return [{ block: db, detail: "final_snapshot_identifier is not set, so destroy fails instead of snapshotting" }];
            }
            return [];
          }),
  },
  {
    id: "no-literal-secret",
    what: "no literal value in any password, secret or token attribute (nor in a secret JSON document)",
    why: "synthesized JSON is committed, uploaded as CI artifacts and copied into state: a literal secret leaks everywhere it goes",
    fix: "generate it (manage_master_user_password, ephemeral random_password with *_wo arguments) or take it from a sensitive variable (TF_VAR_...)",
    check: ({ view }) => {
      const findings: Finding[] = [];
      // Variables are left out: a default is what an operator's TF_VAR_ replaces, and the tenants
      // stack's defaults are deliberate, visibly fake placeholders.
      for (const block of view.blocks.filter((b) => b.kind !== "variable")) {
        for (const { path, detail } of literalSecrets(block.attributes)) findings.push({ block, detail: `${path} ${detail}` });
        if (block.type === "aws_ssm_parameter" && block.attributes.type === "SecureString" && isLiteral(block.attributes.value)) {
          findings.push({ block, detail: "value of a SecureString parameter is a literal" });
        }
      }
      return findings;
    },
  },
  {
    id: "iam-no-star",
    what: 'no IAM statement allows "*" actions on "*" resources (role, user and group policies, managed policies, resource policies)',
    why: "a statement that allows everything turns any leaked credential into the whole account",
    fix: "name the actions and the ARNs (constructs/iam.ts allow() refuses * on *); grant helpers such as secret.grantRead(role) do this",
    check: ({ view }) => {
      const findings: Finding[] = [];
      for (const block of view.blocks.filter((b) => b.kind === "resource")) {
        const policies: [string, unknown][] = POLICY_ATTRIBUTES.filter((a) => block.attributes[a] !== undefined).map((a) => [
          a,
          block.attributes[a],
        ]);
        blocksIn(block.attributes.inline_policy).forEach((p, i) => policies.push([`inline_policy[${i}].policy`, p.policy]));
        for (const [path, value] of policies) {
          const reading = readPolicy(value, view);
          if (reading.kind === "unreadable") {
            findings.push({
              block,
              detail: `${path} cannot be checked: ${reading.reason}; build it with policyDocument() (constructs/iam.ts) or an aws_iam_policy_document data source`,
            });
          } else if (reading.kind === "statements") {
            reading.statements.forEach((s, i) => {
              if (allowsStarOnStar(s)) findings.push({ block, detail: `${path} statement ${i} allows "*" on "*"` });
            });
          }
        }
      }
      for (const document of view.resources("aws_iam_policy_document", "data")) {
        const statements = documentStatements(document.attributes);
        if (!statements) findings.push({ block: document, detail: "statement is computed (a dynamic block) and cannot be checked" });
        statements?.forEach((s, i) => {
          if (allowsStarOnStar(s)) findings.push({ block: document, detail: `statement ${i} allows "*" on "*"` });
        });
      }
      return findings;
    },
  },
  {
    id: "s3-public-access-block",
    what: "every S3 bucket blocks all public access (all four settings)",
    why: "one public ACL or bucket policy exposes every object; a public bucket is the classic AWS data leak",
    fix: "add an aws_s3_bucket_public_access_block for the bucket with block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets true",
    check: ({ view }) => {
      const allFour = (a: Attributes) =>
        ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"].every((k) => isTrue(a[k]));
      return view
        .resources("aws_s3_bucket")
        .filter((bucket) => !hasCompanion(view, "aws_s3_bucket_public_access_block", bucket, allFour))
        .map((block) => ({ block, detail: "no aws_s3_bucket_public_access_block with all four settings true names this bucket" }));
    },
  },
  {
    id: "s3-tls-only",
    what: "every S3 bucket's policy denies requests not made over TLS",
    why: "without it S3 answers plain HTTP, and credentials and objects cross the network readable",
    fix: "add an aws_s3_bucket_policy with denyInsecureTransport([bucket.arn, `${bucket.arn}/*`]) (constructs/iam.ts)",
    check: ({ view }) => {
      const findings: Finding[] = [];
      for (const bucket of view.resources("aws_s3_bucket")) {
        const policies = view
          .resources("aws_s3_bucket_policy")
          .filter((p) => view.refersTo(p.attributes.bucket, bucket, bucket.attributes.bucket));
        const readings = policies.map((p) => readPolicy(p.attributes.policy, view));
        const statements = readings.flatMap((r) =>
          r.kind === "statements" ? r.statements : r.kind === "document" ? (documentStatements(r.document.attributes) ?? []) : [],
        );
        if (statements.some((s) => deniesInsecureTransport(s, view, bucket))) continue;
        const unreadable = readings.find((r) => r.kind === "unreadable");
        findings.push({
          block: bucket,
          detail:
            unreadable?.kind === "unreadable"
              ? `its bucket policy cannot be checked: ${unreadable.reason}`
              : "no bucket policy denies aws:SecureTransport = false on it",
        });
      }
      return findings;
    },
  },
  {
    id: "imdsv2",
    what: "every EC2 instance (and launch template) requires IMDSv2 session tokens",
    why: "IMDSv1 answers any request, so one SSRF bug hands out the instance role's credentials",
    fix: 'set metadata_options { http_tokens = "required" }',
    check: ({ view }) =>
      ["aws_instance", "aws_launch_template"]
        .flatMap((type) => view.resources(type))
        .filter((i) => blocksIn(i.attributes.metadata_options)[0]?.http_tokens !== "required")
        .map((block) => ({ block, detail: 'metadata_options.http_tokens is not "required"' })),
  },
  {
    // From checkov CKV_AWS_2 / CKV2_AWS_20: they flag any HTTP listener; ours holds where HTTPS exists,
    // so a load balancer without a certificate (warned at synth) still passes.
    id: "lb-http-redirect",
    what: "a load balancer that serves HTTPS answers plain HTTP only with a redirect, never by forwarding",
    why: "one forwarding HTTP listener next to HTTPS sends logins and session cookies in clear text to whoever types http://",
    fix: 'make the HTTP listener\'s default_action { type = "redirect", redirect { protocol = "HTTPS" } }',
    check: ({ view }) => {
      const listeners = view.resources("aws_lb_listener").concat(view.resources("aws_alb_listener"));
      const servesHttps = (lbArn: unknown) =>
        listeners.some((l) => l.attributes.protocol === "HTTPS" && sameValue(l.attributes.load_balancer_arn, lbArn));
      return listeners
        .filter((l) => l.attributes.protocol === "HTTP" && servesHttps(l.attributes.load_balancer_arn))
        .filter((l) => blocksIn(l.attributes.default_action).some((a) => a.type !== "redirect"))
        .map((block) => ({ block, detail: "HTTP listener forwards next to an HTTPS listener instead of redirecting" }));
    },
  },
  {
    id: "ecr-immutable-scanned",
    what: "ECR repositories have immutable tags and scan every pushed image",
    why: "a mutable tag can be pushed again, so two tasks of one deployment, or a rollback, run different code; scan on push reports known CVEs before the image runs",
    fix: 'set image_tag_mutability = "IMMUTABLE" and image_scanning_configuration { scan_on_push = true } (constructs/container-registry.ts)',
    check: ({ view }) =>
      view.resources("aws_ecr_repository").flatMap((repository) => {
        const problems: string[] = [];
        if (repository.attributes.image_tag_mutability !== "IMMUTABLE") problems.push("image_tag_mutability is not IMMUTABLE");
        if (!isTrue(blocksIn(repository.attributes.image_scanning_configuration)[0]?.scan_on_push)) {
          problems.push("image_scanning_configuration.scan_on_push is not true");
        }
        return problems.length > 0 ? [{ block: repository, detail: problems.join("; ") }] : [];
      }),
  },
  {
    id: "cloudfront-https",
    what: "CloudFront serves viewers only over HTTPS with TLS 1.2 or later, and reaches custom origins only over HTTPS",
    why: "one behaviour that allows HTTP, an old TLS policy or a plain-HTTP hop to the load balancer sends session cookies and logins readable",
    fix: 'set viewer_protocol_policy "redirect-to-https" on every cache behaviour, an ACM viewer_certificate with minimum_protocol_version TLSv1.2_2021, and origin_protocol_policy "https-only" (constructs/web-distribution.ts)',
    check: ({ view }) =>
      view.resources("aws_cloudfront_distribution").flatMap((distribution) => {
        const a = distribution.attributes;
        const problems: string[] = [];
        const behaviours = [...blocksIn(a.default_cache_behavior), ...blocksIn(a.ordered_cache_behavior)];
        behaviours.forEach((b, i) => {
          if (!["redirect-to-https", "https-only"].includes(String(b.viewer_protocol_policy))) {
            const which = i === 0 ? "default_cache_behavior" : `ordered_cache_behavior ${String(b.path_pattern)}`;
            problems.push(`${which} viewer_protocol_policy is ${String(b.viewer_protocol_policy)}`);
          }
        });
        const certificate = blocksIn(a.viewer_certificate)[0] ?? {};
        if (!/^TLSv1\.2_/.test(String(certificate.minimum_protocol_version ?? ""))) {
          problems.push(
            `viewer_certificate.minimum_protocol_version is ${String(certificate.minimum_protocol_version ?? "unset")}, not TLSv1.2_*`,
          );
        }
        for (const origin of blocksIn(a.origin)) {
          const custom = blocksIn(origin.custom_origin_config)[0];
          if (custom && custom.origin_protocol_policy !== "https-only") {
            problems.push(`origin ${String(origin.origin_id)} origin_protocol_policy is ${String(custom.origin_protocol_policy)}`);
          }
        }
        return problems.length > 0 ? [{ block: distribution, detail: problems.join("; ") }] : [];
      }),
  },
];

/** Attributes that hold an IAM policy document. `assume_role_policy` (trust) is not one of them. */
const POLICY_ATTRIBUTES = ["policy", "policy_document", "access_policies"];

/**
 * Attribute names that hold a secret: `password`, `master_password`, `secret_string_wo`,
 * `auth_token`, `private_key`... but not `secret_id`, `password_length` or `http_tokens`.
 */
const SECRET_ATTRIBUTE =
  /(^|_)(password|passwords|passphrase|secret|secret_string|secret_binary|secret_key|auth_token|token|private_key|api_key|client_secret|access_key)(_wo)?$/;
/** Keys inside a secret's JSON document that hold a secret value (`password`, `DJANGO_SECRET_KEY`, `stripeApiKey`). */
const SECRET_KEY = /pass(word|wd|phrase)|secret|token|private_?key|api_?key/i;
const NOT_SECRET_KEY = /(_|^)(arn|id|name|url|uri|length|version|enabled)$/i;

/** Literal secrets under `attributes`, with their path. */
function literalSecrets(attributes: Attributes, prefix = ""): { path: string; detail: string }[] {
  const out: { path: string; detail: string }[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "//") continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (SECRET_ATTRIBUTE.test(key)) {
      for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) {
        const at = Array.isArray(value) ? `${path}[${i}]` : path;
        if (isLiteral(item)) out.push({ path: at, detail: "is a literal" });
        else out.push(...documentSecrets(item).map((p) => ({ path: `${at} ${p}`, detail: "is a literal" })));
      }
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => isObject(v) && out.push(...literalSecrets(v as Attributes, `${path}[${i}]`)));
    } else if (isObject(value)) {
      out.push(...literalSecrets(value as Attributes, path));
    }
  }
  return out;
}

/** Keys of a `${jsonencode({...})}` (or JSON) secret document whose value is a literal. */
function documentSecrets(value: unknown): string[] {
  let doc: Value;
  try {
    doc = readAttribute(value);
  } catch (err) {
    if (err instanceof ReadError) return [];
    throw err;
  }
  if (doc instanceof Unknown && doc.call?.name === "jsonencode") doc = doc.call.args[0];
  if (typeof doc === "string" && doc.trim().startsWith("{")) {
    try {
      doc = JSON.parse(doc) as Value;
    } catch {
      return [];
    }
  }
  const found: string[] = [];
  const walk = (v: Value, path: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (SECRET_KEY.test(k) && !NOT_SECRET_KEY.test(k) && isLiteral(x)) found.push(`key "${k}"`);
        else walk(x, `${path}.${k}`);
      }
    }
  };
  walk(doc, "");
  return found;
}

function allowsStarOnStar(s: Statement): boolean {
  return s.effect === "Allow" && s.actions.some((a) => a === "*" || a === "*:*") && s.resources.includes("*");
}

function deniesInsecureTransport(s: Statement, view: StackView, bucket: Block): boolean {
  const secureTransport = s.conditions.Bool?.["aws:SecureTransport"];
  const values = Array.isArray(secureTransport) ? secureTransport : [secureTransport];
  return (
    s.effect === "Deny" &&
    values.some((v) => v === "false" || v === false) &&
    s.actions.some((a) => a === "*" || a === "s3:*") &&
    (s.resources.includes("*") || s.resources.some((r) => view.refersTo(r instanceof Unknown ? `\${${r.expression}}` : r, bucket)))
  );
}

/** A resource of `type` whose `bucket` names `bucket` and whose attributes pass `ok`. */
function hasCompanion(view: StackView, type: string, bucket: Block, ok: (a: Attributes) => boolean): boolean {
  return view.resources(type).some((c) => view.refersTo(c.attributes.bucket, bucket, bucket.attributes.bucket) && ok(c.attributes));
}

/** Nested blocks as a list: cdktf writes single blocks as objects and repeated ones as arrays. */
function blocksIn(value: unknown): Attributes[] {
  if (Array.isArray(value)) return value.filter(isObject) as Attributes[];
  return isObject(value) ? [value as Attributes] : [];
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function isTrue(value: unknown): boolean {
  return value === true || value === "true";
}

function present(value: unknown): boolean {
  return typeof value === "string" && value.trim() !== "";
}

function isLiteral(value: unknown): value is string {
  return typeof value === "string" && value !== "" && !isInterpolated(value);
}

export const RULE_IDS: readonly string[] = RULES.map((r) => r.id);

/** The rule with `id`. */
export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}
