/**
 * The one reviewed list of checkov checks that do not apply to what we build, each with its scope and
 * reason. The Guardrails aspect writes every skip that matches a resource into that resource's
 * `"//": { "guardrails": { "suppressed": [...] } }` metadata, next to our own rule suppressions, and
 * `npm run scan` (scripts/lib/scan.ts) counts a checkov failure as skipped only when the failing
 * resource carries a skip for that check. So `grep -r '"suppressed"' cdktf.out/stacks` shows every
 * exception, ours and the scanner's, and a skip whose scope no longer matches stops hiding anything.
 *
 * checkov itself cannot skip per resource in `*.tf.json` (its inline `checkov:skip` comments exist for
 * HCL only, and its terraform_json runner ignores them), hence this list. README, scanners, shows it as
 * a table; a test keeps the two in step. A scope is a predicate on the resource as synthesized, so a
 * config nobody has seen gets the same treatment as the shipped ones: a skip that depends on a config
 * choice (`multi_az` false) names the setting that turns the check back on.
 */
import type { Attributes, Block, StackView } from "./stack-view";

export interface ScannerSkip {
  /** The checkov check id, e.g. `CKV_AWS_144`. */
  readonly check: string;
  /** The Terraform resource type it is skipped on. */
  readonly resourceType: string;
  /**
   * Which resources of that type, in words (README's scope column).
   * @default "every one"
   */
  readonly scope?: string;
  /**
   * Decides which resources of that type are in scope, reading the synthesized attributes.
   * @default - every resource of `resourceType`
   */
  readonly applies?: (block: Block, view: StackView) => boolean;
  /** Why the check does not apply there: the decision, its cost or the control that replaces it. */
  readonly reason: string;
}

/** The scanner whose checks these are; recorded next to each skip so readers can tell it from our rules. */
export const SCANNER = "checkov";

const HTTP_ONLY =
  "no certificate configured: the load balancer serves plain HTTP and synth warns about it; setting services.certificateArn adds HTTPS, HTTP then only redirects and the check passes";

const SG_RULES = ["aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"];

export const SCANNER_SKIPS: readonly ScannerSkip[] = [
  // S3
  {
    check: "CKV_AWS_144",
    resourceType: "aws_s3_bucket",
    reason:
      "one region by design: cross-region replication doubles storage and needs a second region's bucket; state and object buckets are versioned, logs are disposable",
  },
  {
    check: "CKV_AWS_145",
    resourceType: "aws_s3_bucket",
    reason:
      "SSE-S3 (AES256) is the deliberate, cheaper choice: no KMS request charges or key policy; ELB writes access logs only to SSE-S3 buckets (s3-encrypted requires the configuration)",
  },
  {
    check: "CKV_AWS_18",
    resourceType: "aws_s3_bucket",
    reason:
      "no per-bucket server access logs: only this platform's roles can reach the buckets (s3-public-access-block, s3-tls-only), and a log bucket per bucket would need its own log bucket",
  },
  {
    check: "CKV2_AWS_62",
    resourceType: "aws_s3_bucket",
    scope: "with no event notification (all but SafeBucket's object storage, whose events feed its queue)",
    applies: (bucket, view) => !view.resources("aws_s3_bucket_notification").some((n) => view.refersTo(n.attributes.bucket, bucket)),
    reason: "nothing consumes these buckets' object events (state, logs): a notification with no consumer adds nothing",
  },
  {
    check: "CKV_AWS_21",
    resourceType: "aws_s3_bucket",
    scope: "a load balancer's access-log bucket",
    applies: (bucket, view) => isLoadBalancerLogBucket(bucket, view),
    reason: "ELB writes each access log once and the lifecycle rule expires it; versions would only keep expired logs",
  },
  // Secrets Manager
  {
    check: "CKV_AWS_149",
    resourceType: "aws_secretsmanager_secret",
    reason:
      "encrypted with the AWS managed key aws/secretsmanager: access is decided by the secret's IAM grants (grantRead names one ARN), a CMK would add cost and a key policy to keep in step",
  },
  {
    check: "CKV2_AWS_57",
    resourceType: "aws_secretsmanager_secret",
    reason:
      "values are generated at deploy (write-only, never in state) and rotated by bumping tenants.credentialsVersion or credentials.version (README, rotation): the role follows in the same apply; a rotation Lambda would have to change the database role and the running tasks at once",
  },
  // CloudWatch Logs
  {
    check: "CKV_AWS_158",
    resourceType: "aws_cloudwatch_log_group",
    reason:
      "CloudWatch Logs encrypts every log group at rest with service keys; the logs hold no secrets (no-literal-secret), a CMK per log group adds cost and a key policy",
  },
  {
    check: "CKV_AWS_338",
    resourceType: "aws_cloudwatch_log_group",
    scope: "retention under one year",
    applies: (group) => Number(group.attributes.retention_in_days) < 365,
    reason:
      "retention comes from the config's *RetentionDays settings (30 days shipped): a year of logs is a cost each environment chooses",
  },
  // EC2: the SSM bastion is the only instance
  {
    check: "CKV_AWS_88",
    resourceType: "aws_instance",
    scope: "with a public IP (the SSM bastion)",
    applies: (instance) => instance.attributes.associate_public_ip_address === true,
    reason:
      "without NAT the SSM agent reaches Systems Manager only through a public IP; the security group has no inbound rule (open-ingress), so nothing can connect in",
  },
  {
    check: "CKV_AWS_126",
    resourceType: "aws_instance",
    reason: "a bastion carries no load: 5-minute basic metrics are enough, detailed monitoring is billed per metric",
  },
  {
    check: "CKV_AWS_135",
    resourceType: "aws_instance",
    reason:
      "Nitro types (t3, t4g and newer; default t4g.nano) are EBS-optimized whatever ebs_optimized says, and setting it on an older type fails at apply",
  },
  // VPC
  {
    check: "CKV2_AWS_5",
    resourceType: "aws_security_group",
    scope: "not used by a resource of its own stack (the network stack's groups)",
    applies: (group, view) => !usedInStack(group, view),
    reason:
      "created in the network stack, attached in the data, access and services stacks through cross-stack references (the backend group by the application's compute, through the backend_security_group_id output); checkov scans one stack at a time",
  },
  {
    check: "CKV2_AWS_11",
    resourceType: "aws_vpc",
    scope: "with no flow log (network.flowLogs off)",
    applies: (vpc, view) => !view.resources("aws_flow_log").some((log) => view.refersTo(log.attributes.vpc_id, vpc)),
    reason: "network.flowLogs is off outside production by default (billed per GB ingested); turning it on passes the check",
  },
  // RDS
  {
    check: "CKV_AWS_157",
    resourceType: "aws_db_instance",
    scope: "single-AZ (database.multiAz off)",
    applies: (db) => db.attributes.multi_az !== true,
    reason: "a standby doubles the instance cost; recovery is backups and point-in-time restore; database.multiAz turns it on",
  },
  {
    check: "CKV_AWS_118",
    resourceType: "aws_db_instance",
    scope: "enhanced monitoring off (database.monitoringIntervalSeconds 0)",
    applies: (db) => !(Number(db.attributes.monitoring_interval) > 0),
    reason: "an environment's choice (CloudWatch charges per metric); database.monitoringIntervalSeconds > 0 turns it on",
  },
  {
    check: "CKV_AWS_293",
    resourceType: "aws_db_instance",
    scope: "deletion protection off (outside production)",
    applies: (db) => db.attributes.deletion_protection !== true,
    reason: "only non-production databases may go without: prod-db-deletion-protection fails the synth of a protected production one",
  },
  {
    check: "CKV_AWS_161",
    resourceType: "aws_db_instance",
    reason:
      "applications and tenant roles log in with passwords kept in Secrets Manager (master: RDS-managed); IAM database authentication would be a second login path nobody uses",
  },
  {
    check: "CKV_AWS_354",
    resourceType: "aws_db_instance",
    reason: "Performance Insights data is encrypted with the AWS managed RDS key, like the storage (rds-encrypted); a CMK adds cost only",
  },
  // ElastiCache
  {
    check: "CKV_AWS_191",
    resourceType: "aws_elasticache_replication_group",
    reason: "encrypted at rest with the AWS managed key (cache-encrypted); a CMK adds cost only",
  },
  {
    check: "CKV2_AWS_50",
    resourceType: "aws_elasticache_replication_group",
    scope: "one node, no failover (cache.numNodes 1)",
    applies: (group) => group.attributes.automatic_failover_enabled !== true,
    reason: "failover needs a replica: an environment's cost choice; cache.numNodes >= 2 turns it on",
  },
  // Load balancer
  {
    check: "CKV2_AWS_28",
    resourceType: "aws_lb",
    reason:
      "no WAF web ACL yet ($5/month plus per rule and request): the load balancer only forwards to an application that authenticates every request; revisit with public sign-up",
  },
  {
    check: "CKV2_AWS_20",
    resourceType: "aws_lb",
    scope: "with no HTTPS listener (services.certificateArn unset)",
    applies: (lb, view) => !listenersOf(lb, view).some((l) => l.attributes.protocol === "HTTPS"),
    reason: HTTP_ONLY,
  },
  {
    check: "CKV_AWS_2",
    resourceType: "aws_lb_listener",
    scope: "HTTP forwarding (services.certificateArn unset)",
    applies: (listener) => isForwardingHttp(listener.attributes),
    reason: HTTP_ONLY,
  },
  {
    check: "CKV_AWS_103",
    resourceType: "aws_lb_listener",
    scope: "HTTP forwarding (services.certificateArn unset)",
    applies: (listener) => isForwardingHttp(listener.attributes),
    reason: HTTP_ONLY,
  },
  {
    check: "CKV_AWS_150",
    resourceType: "aws_lb",
    scope: "deletion protection off (environment not protected)",
    applies: (lb) => lb.attributes.enable_deletion_protection !== true,
    reason: "follows the environment's protect setting: an unprotected environment must be destroyable in one run",
  },
  {
    check: "CKV_AWS_378",
    resourceType: "aws_lb_target_group",
    reason: "TLS ends at the load balancer; targets are tasks in the VPC whose security group admits only the load balancer's group",
  },
  {
    check: "CKV_AWS_260",
    resourceType: "aws_vpc_security_group_ingress_rule",
    scope: "TCP 80 to a load balancer's group",
    applies: (rule, view) =>
      Number(rule.attributes.from_port) === 80 &&
      view
        .resources("aws_lb")
        .some((lb) =>
          view
            .resources("aws_security_group")
            .some((sg) => view.refersTo(lb.attributes.security_groups, sg) && view.refersTo(rule.attributes.security_group_id, sg)),
        ),
    reason:
      "the load balancer answers HTTP (a redirect to HTTPS once a certificate is set); open-ingress allows exactly 80/443 on load balancer groups",
  },
  // ECS
  {
    check: "CKV_AWS_333",
    resourceType: "aws_ecs_service",
    scope: "tasks in public subnets (SafeBucket's services.subnets public; StartupWebApp's web without network.natGateway)",
    applies: (service) => asObject(service.attributes.network_configuration).assign_public_ip === true,
    reason:
      "without a NAT gateway tasks pull images and reach AWS APIs through a public IP; their security group admits only the load balancer; network.natGateway (with services.subnets private for SafeBucket) removes it",
  },
  // SES
  {
    check: "CKV_AWS_273",
    resourceType: "aws_iam_user",
    reason:
      "the SES SMTP sender: SMTP authenticates with an IAM user's access key (its password is derived from the key), which SSO cannot issue; the user's only permission is ses:SendRawEmail on the identity, and no key is in Terraform",
  },
  // ECR
  {
    check: "CKV_AWS_136",
    resourceType: "aws_ecr_repository",
    reason:
      "AES256 (ECR's default, AWS-managed keys) is the deliberate choice, as for the buckets: images hold no secrets (no-literal-secret), a KMS key adds request charges and a key policy",
  },
  // CloudFront
  {
    check: "CKV_AWS_68",
    resourceType: "aws_cloudfront_distribution",
    reason:
      "no AWS WAF yet (StartupWebApp's phase 12, about $5/month per web ACL plus rules): the load balancer drops invalid headers, Django validates hosts and CSRF; a web ACL is one web_acl_id away",
  },
  {
    check: "CKV2_AWS_47",
    resourceType: "aws_cloudfront_distribution",
    reason: "no web ACL to attach the Log4j managed rules to (see CKV_AWS_68); the backend is Python, not Java",
  },
  {
    check: "CKV_AWS_86",
    resourceType: "aws_cloudfront_distribution",
    reason:
      "CloudFront standard logs need a bucket with ACLs enabled, which every SecureBucket disables; every request that reaches the app is in the load balancer's access logs, and CloudWatch has the distribution's metrics",
  },
  {
    check: "CKV_AWS_374",
    resourceType: "aws_cloudfront_distribution",
    reason: "the apps are public on purpose, for visitors from any country: a geo restriction would turn customers away",
  },
  {
    check: "CKV_AWS_310",
    resourceType: "aws_cloudfront_distribution",
    reason:
      "one region and one load balancer by design (REFERENCE part D): an origin group needs a second origin, and fails over only GET and HEAD",
  },
  {
    check: "CKV_AWS_305",
    resourceType: "aws_cloudfront_distribution",
    reason: "the default behaviour goes to Django, which answers / itself; a default root object is for a bucket website",
  },
];

/** The skips of `SCANNER_SKIPS` that apply to `block`. */
export function scannerSkipsFor(block: Block, view: StackView, skips: readonly ScannerSkip[] = SCANNER_SKIPS): ScannerSkip[] {
  if (block.kind !== "resource") return [];
  return skips.filter((s) => s.resourceType === block.type && (s.applies?.(block, view) ?? true));
}

/** README's wording of a skip's scope. */
export function scopeOf(skip: ScannerSkip): string {
  return `${skip.resourceType}: ${skip.scope ?? "every one"}`;
}

function isLoadBalancerLogBucket(bucket: Block, view: StackView): boolean {
  return view.resources("aws_lb").some((lb) => view.refersTo(asObject(lb.attributes.access_logs).bucket, bucket));
}

function usedInStack(group: Block, view: StackView): boolean {
  return view.blocks.some(
    (b) =>
      b !== group &&
      b.kind === "resource" &&
      !SG_RULES.includes(b.type) &&
      b.type !== "aws_security_group" &&
      view.refersTo(b.attributes, group),
  );
}

function listenersOf(lb: Block, view: StackView): Block[] {
  return view.resources("aws_lb_listener").filter((l) => view.refersTo(l.attributes.load_balancer_arn, lb));
}

function isForwardingHttp(listener: Attributes): boolean {
  const actions: unknown[] = Array.isArray(listener.default_action) ? listener.default_action : [listener.default_action];
  return listener.protocol === "HTTP" && actions.some((a) => asObject(a).type === "forward");
}

function asObject(value: unknown): Attributes {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === "object" && first !== null ? (first as Attributes) : {};
}
