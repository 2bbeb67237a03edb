import { CloudfrontDistribution } from "@cdktf/provider-aws/lib/cloudfront-distribution";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { ElasticacheCluster } from "@cdktf/provider-aws/lib/elasticache-cluster";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, TerraformVariable, type TerraformStack } from "cdktf";
import { RULE_IDS } from "../../constructs/guardrails";
import type { EnvironmentConfig } from "../../config/schema";
import { testConfig } from "../helpers";
import { ruleIds, summaries, safeBucket, safeDatabase, safeGroup, safeInstance, violationsOf } from "./fixtures";

const production = () => testConfig({ production: true });

interface Breach {
  readonly name: string;
  readonly build: (stack: TerraformStack) => void;
  readonly config?: () => EnvironmentConfig;
}

/** For every rule, stacks that break it and nothing else. */
const BREACHES: Record<string, Breach[]> = {
  "open-ingress": [
    {
      name: "SSH open to the world in an inline ingress block",
      build: (s) =>
        safeGroup(s, "ssh", { ingress: [{ description: "ssh", protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] }] }),
    },
    {
      name: "PostgreSQL open to ::/0 through a vpc_security_group_ingress_rule",
      build: (s) => {
        const sg = safeGroup(s, "db");
        new VpcSecurityGroupIngressRule(s, "pg", {
          securityGroupId: sg.id,
          description: "pg",
          ipProtocol: "tcp",
          fromPort: 5432,
          toPort: 5432,
          cidrIpv6: "::/0",
        });
      },
    },
    {
      name: "HTTPS from the world to a group no load balancer uses",
      build: (s) => {
        const sg = safeGroup(s, "web");
        new VpcSecurityGroupIngressRule(s, "https", {
          securityGroupId: sg.id,
          description: "https",
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "0.0.0.0/0",
        });
      },
    },
    {
      name: "all traffic from the world to a load balancer's group (aws_security_group_rule)",
      build: (s) => {
        const sg = safeGroup(s, "alb");
        new Lb(s, "lb", { name: "acme-test", securityGroups: [sg.id], subnets: ["subnet-1", "subnet-2"] });
        new SecurityGroupRule(s, "all", {
          type: "ingress",
          securityGroupId: sg.id,
          description: "everything",
          protocol: "-1",
          fromPort: 0,
          toPort: 0,
          cidrBlocks: ["0.0.0.0/0"],
        });
      },
    },
  ],
  "sg-description": [
    { name: "a group without a description", build: (s) => safeGroup(s, "bare", { description: undefined }) },
    {
      name: "a group that keeps the provider's 'Managed by Terraform'",
      build: (s) => safeGroup(s, "default", { description: "Managed by Terraform" }),
    },
    {
      name: "an inline egress block without a description",
      build: (s) => safeGroup(s, "out", { egress: [{ protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["10.0.0.0/16"] }] }),
    },
    {
      name: "a vpc_security_group_egress_rule without a description",
      build: (s) =>
        new VpcSecurityGroupEgressRule(s, "out", {
          securityGroupId: safeGroup(s, "g").id,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          cidrIpv4: "10.0.0.0/16",
        }),
    },
  ],
  "rds-encrypted": [{ name: "unencrypted RDS storage", build: (s) => safeDatabase(s, { storageEncrypted: false }) }],
  "ebs-encrypted": [
    { name: "an instance whose root volume is not encrypted", build: (s) => safeInstance(s, { rootBlockDevice: { volumeSize: 8 } }) },
    {
      name: "an instance with an unencrypted data volume",
      build: (s) => safeInstance(s, { ebsBlockDevice: [{ deviceName: "/dev/sdf", volumeSize: 10 }] }),
    },
    { name: "a standalone unencrypted volume", build: (s) => new EbsVolume(s, "vol", { availabilityZone: "us-east-1a", size: 10 }) },
  ],
  "s3-encrypted": [{ name: "a bucket with no encryption configuration", build: (s) => safeBucket(s, "plain", ["encryption"]) }],
  "sqs-encrypted": [{ name: "a queue without SSE", build: (s) => new SqsQueue(s, "q", { name: "acme-test-q" }) }],
  "sns-encrypted": [{ name: "a topic without a KMS key", build: (s) => new SnsTopic(s, "t", { name: "acme-test-t" }) }],
  "cache-encrypted": [
    {
      name: "a replication group without at-rest encryption",
      build: (s) =>
        new ElasticacheReplicationGroup(s, "cache", { replicationGroupId: "acme-test", description: "cache", nodeType: "cache.t4g.micro" }),
    },
    {
      name: "a standalone cache cluster",
      build: (s) =>
        new ElasticacheCluster(s, "cache", { clusterId: "acme-test", engine: "redis", nodeType: "cache.t4g.micro", numCacheNodes: 1 }),
    },
  ],
  "rds-private": [{ name: "a publicly accessible instance", build: (s) => safeDatabase(s, { publiclyAccessible: true }) }],
  "prod-db-deletion-protection": [
    {
      name: "a production database without deletion protection",
      build: (s) => safeDatabase(s, { deletionProtection: false }),
      config: production,
    },
  ],
  "prod-db-final-snapshot": [
    {
      name: "a production database that skips its final snapshot",
      build: (s) => safeDatabase(s, { skipFinalSnapshot: true }),
      config: production,
    },
    {
      name: "a production database with no final snapshot identifier (destroy would fail)",
      build: (s) => safeDatabase(s, { finalSnapshotIdentifier: undefined }),
      config: production,
    },
  ],
  "no-literal-secret": [
    {
      name: "a literal master password",
      build: (s) => safeDatabase(s, { manageMasterUserPassword: undefined, password: "correct-horse-battery" }),
    },
    {
      name: "a literal password inside a jsonencode'd secret value",
      build: (s) =>
        new SecretsmanagerSecretVersion(s, "v", {
          secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
          secretString: Fn.jsonencode({ username: "app", password: "correct-horse-battery" }),
        }),
    },
    {
      name: "a literal auth token on a cache",
      build: (s) =>
        new ElasticacheReplicationGroup(s, "cache", {
          replicationGroupId: "acme-test",
          description: "cache",
          nodeType: "cache.t4g.micro",
          atRestEncryptionEnabled: "true",
          transitEncryptionEnabled: true,
          authToken: "0123456789abcdef0123456789abcdef",
        }),
    },
    {
      name: "a SecureString parameter with a literal value",
      build: (s) => new SsmParameter(s, "p", { name: "/acme/test/key", type: "SecureString", value: "correct-horse-battery" }),
    },
  ],
  "iam-no-star": [
    {
      name: "an inline role policy allowing * on * (jsonencode)",
      build: (s) =>
        new IamRolePolicy(s, "admin", {
          role: "acme-test",
          policy: Fn.jsonencode({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }),
        }),
    },
    {
      name: "a managed policy allowing * on * (JSON string)",
      build: (s) =>
        new IamPolicy(s, "admin", {
          name: "acme-test-admin",
          policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["*"], Resource: ["*"] }] }),
        }),
    },
    {
      name: "a role's inline_policy allowing * on *",
      build: (s) =>
        new IamRole(s, "role", {
          name: "acme-test",
          assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
          inlinePolicy: [{ name: "admin", policy: JSON.stringify({ Statement: { Effect: "Allow", Action: "*", Resource: "*" } }) }],
        }),
    },
    {
      name: "an aws_iam_policy_document allowing * on *",
      build: (s) => new DataAwsIamPolicyDocument(s, "doc", { statement: [{ actions: ["*"], resources: ["*"] }] }),
    },
    {
      name: "a policy computed by Terraform, which cannot be checked",
      build: (s) => new IamPolicy(s, "opaque", { name: "acme-test-opaque", policy: Fn.file("policy.json") }),
    },
  ],
  "s3-public-access-block": [
    { name: "a bucket with no public access block", build: (s) => safeBucket(s, "open", ["public-access"]) },
    {
      name: "a public access block with one setting off",
      build: (s) => {
        const bucket = safeBucket(s, "half", ["public-access"]);
        new S3BucketPublicAccessBlock(s, "half-pab", {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: false,
        });
      },
    },
  ],
  "s3-tls-only": [{ name: "a bucket with no TLS-only policy", build: (s) => safeBucket(s, "plaintext", ["tls-policy"]) }],
  imdsv2: [
    { name: "an instance without metadata options", build: (s) => safeInstance(s, { metadataOptions: undefined }) },
    { name: "an instance that makes tokens optional", build: (s) => safeInstance(s, { metadataOptions: { httpTokens: "optional" } }) },
  ],
  "lb-http-redirect": [
    {
      name: "an HTTP listener that forwards next to HTTPS",
      build: (s) => loadBalancer(s, { type: "forward", targetGroupArn: TARGET_GROUP }),
    },
  ],
  "ecr-immutable-scanned": [
    {
      name: "a repository with mutable tags",
      build: (s) =>
        new EcrRepository(s, "repo", { name: "app", imageTagMutability: "MUTABLE", imageScanningConfiguration: { scanOnPush: true } }),
    },
    {
      name: "a repository that does not scan on push",
      build: (s) => new EcrRepository(s, "repo", { name: "app", imageTagMutability: "IMMUTABLE" }),
    },
  ],
  "cloudfront-https": [
    { name: "a behaviour that allows plain HTTP", build: (s) => distribution(s, { viewerProtocolPolicy: "allow-all" }) },
    { name: "TLS 1.0 allowed to viewers", build: (s) => distribution(s, { minimumProtocolVersion: "TLSv1" }) },
    { name: "plain HTTP to the load balancer origin", build: (s) => distribution(s, { originProtocolPolicy: "http-only" }) },
  ],
};

/** A CloudFront distribution in front of a load balancer, HTTPS everywhere unless `breach` says otherwise. */
function distribution(
  stack: TerraformStack,
  breach: { viewerProtocolPolicy?: string; minimumProtocolVersion?: string; originProtocolPolicy?: string } = {},
): void {
  new CloudfrontDistribution(stack, "cdn", {
    enabled: true,
    origin: [
      {
        originId: "app",
        domainName: "app-123.us-east-1.elb.amazonaws.com",
        customOriginConfig: {
          httpPort: 80,
          httpsPort: 443,
          originProtocolPolicy: breach.originProtocolPolicy ?? "https-only",
          originSslProtocols: ["TLSv1.2"],
        },
      },
    ],
    defaultCacheBehavior: {
      targetOriginId: "app",
      viewerProtocolPolicy: breach.viewerProtocolPolicy ?? "redirect-to-https",
      allowedMethods: ["GET", "HEAD"],
      cachedMethods: ["GET", "HEAD"],
      cachePolicyId: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
    },
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: {
      acmCertificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: breach.minimumProtocolVersion ?? "TLSv1.2_2021",
    },
  });
}

const TARGET_GROUP = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/app/0123456789abcdef";

/** A load balancer with an HTTPS listener and an HTTP listener whose default action is `http` (or none). */
function loadBalancer(stack: TerraformStack, http?: { type: string; targetGroupArn?: string }): void {
  const lb = new Lb(stack, "lb", { name: "app", loadBalancerType: "application", internal: true, dropInvalidHeaderFields: true });
  new LbListener(stack, "https", {
    loadBalancerArn: lb.arn,
    port: 443,
    protocol: "HTTPS",
    certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789",
    defaultAction: [{ type: "forward", targetGroupArn: TARGET_GROUP }],
  });
  if (http) new LbListener(stack, "http", { loadBalancerArn: lb.arn, port: 80, protocol: "HTTP", defaultAction: [http] });
}

describe("guardrail rules", () => {
  test("every rule has at least one stack that breaks it", () => {
    expect(Object.keys(BREACHES).sort()).toEqual([...RULE_IDS].sort());
  });

  describe.each(Object.entries(BREACHES))("%s", (ruleId, breaches) => {
    test.each(breaches.map((b) => [b.name, b] as const))("rejects %s", (_name, breach) => {
      const violations = violationsOf(breach.build, breach.config?.());
      expect(ruleIds(violations)).toEqual([ruleId]);
    });
  });

  test("the safe fixtures pass every rule, in production too", () => {
    const build = (s: TerraformStack) => {
      safeBucket(s, "data");
      safeDatabase(s);
      safeInstance(s);
      safeGroup(s, "app", {
        egress: [{ description: "HTTPS out", protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"] }],
      });
    };
    expect(summaries(violationsOf(build))).toEqual([]);
    expect(summaries(violationsOf(build, production()))).toEqual([]);
  });

  test("a distribution with HTTPS to viewers and origins passes cloudfront-https", () => {
    expect(summaries(violationsOf((s) => distribution(s)))).toEqual([]);
  });

  test("an immutable repository scanning on push passes ecr-immutable-scanned", () => {
    const build = (s: TerraformStack) =>
      new EcrRepository(s, "repo", { name: "app", imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } });
    expect(summaries(violationsOf(build))).toEqual([]);
  });

  test("an HTTP listener that redirects to HTTPS passes lb-http-redirect", () => {
    const redirect = { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } };
    expect(summaries(violationsOf((s) => loadBalancer(s, redirect)))).toEqual([]);
  });

  test("a load balancer without HTTPS may forward HTTP (no certificate: warned at synth, not a violation)", () => {
    const build = (s: TerraformStack) => {
      const lb = new Lb(s, "lb", { name: "app", loadBalancerType: "application", internal: true });
      new LbListener(s, "http", {
        loadBalancerArn: lb.arn,
        port: 80,
        protocol: "HTTP",
        defaultAction: [{ type: "forward", targetGroupArn: TARGET_GROUP }],
      });
    };
    expect(summaries(violationsOf(build))).toEqual([]);
  });

  test("HTTPS and HTTP from the world are allowed to a load balancer's group", () => {
    const build = (s: TerraformStack) => {
      const sg = safeGroup(s, "alb", {
        ingress: [{ description: "HTTP, redirected to HTTPS", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"] }],
      });
      new Lb(s, "lb", { name: "acme-test", securityGroups: [sg.id], subnets: ["subnet-1", "subnet-2"] });
      new VpcSecurityGroupIngressRule(s, "https", {
        securityGroupId: sg.id,
        description: "HTTPS from anyone",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv6: "::/0",
      });
    };
    expect(summaries(violationsOf(build))).toEqual([]);
  });

  test("production database rules do not apply outside production", () => {
    expect(summaries(violationsOf((s) => safeDatabase(s, { deletionProtection: false, skipFinalSnapshot: true })))).toEqual([]);
  });

  test("an unprotected production environment may drop deletion protection, but keeps its final snapshot", () => {
    const config = testConfig({ production: true, protect: false });
    expect(summaries(violationsOf((s) => safeDatabase(s, { deletionProtection: false }), config))).toEqual([]);
    expect(ruleIds(violationsOf((s) => safeDatabase(s, { skipFinalSnapshot: true }), config))).toEqual(["prod-db-final-snapshot"]);
  });

  test("secrets taken from references are not literals", () => {
    const build = (s: TerraformStack) => {
      const db = safeDatabase(s);
      const password = new TerraformVariable(s, "app_password", { type: "string", sensitive: true });
      new SecretsmanagerSecretVersion(s, "v", {
        secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        secretString: Fn.jsonencode({ username: "app", host: db.address, password: password.stringValue }),
      });
    };
    expect(summaries(violationsOf(build))).toEqual([]);
  });

  test('a "${...}" written inside jsonencode is escaped to a literal, and caught', () => {
    const build = (s: TerraformStack) =>
      new SecretsmanagerSecretVersion(s, "v", {
        secretId: "arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
        secretString: Fn.jsonencode({ password: "${var.app_password}" }),
      });
    expect(summaries(violationsOf(build))).toEqual(['[no-literal-secret] test-data/v: secret_string key "password" is a literal']);
  });

  test("the violation names the construct path and the Terraform address", () => {
    const [violation] = violationsOf((s) => safeDatabase(s, { storageEncrypted: false }));
    expect(violation.block.element.node.path).toBe("test-data/db");
    expect(violation.block.address).toBe("aws_db_instance.db");
    expect(violation.detail).toBe("storage_encrypted is not true");
  });
});
