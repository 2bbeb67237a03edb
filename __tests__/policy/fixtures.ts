/**
 * Small resources for the guardrail tests: each builder makes a resource that passes every rule,
 * and a test breaks exactly the setting it is about.
 */
import { DbInstance, type DbInstanceConfig } from "@cdktf/provider-aws/lib/db-instance";
import { Instance, type InstanceConfig } from "@cdktf/provider-aws/lib/instance";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { SecurityGroup, type SecurityGroupConfig } from "@cdktf/provider-aws/lib/security-group";
import type { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { GuardrailViolations, type Violation } from "../../constructs/guardrails";
import { denyInsecureTransport, policyDocument } from "../../constructs/iam";
import type { EnvironmentConfig } from "../../config/schema";
import { synth, testConfig, testStack } from "../helpers";

/** The violations synth reports for a stack built by `build` (empty when synth passes). */
export function violationsOf(build: (stack: TerraformStack) => void, config: EnvironmentConfig = testConfig()): Violation[] {
  const stack = testStack(config);
  build(stack);
  try {
    synth(stack);
    return [];
  } catch (err) {
    if (err instanceof GuardrailViolations) return [...err.violations];
    throw err;
  }
}

/** `[rule] path: detail` per violation, for assertions that print well. */
export function summaries(violations: readonly Violation[]): string[] {
  return violations.map((v) => `[${v.rule.id}] ${v.block.element.node.path}: ${v.detail}`);
}

/** The distinct rule ids of `violations`, sorted. */
export function ruleIds(violations: readonly Violation[]): string[] {
  return [...new Set(violations.map((v) => v.rule.id))].sort();
}

export type BucketPart = "encryption" | "public-access" | "tls-policy";

/** A bucket with its encryption configuration, public access block and TLS-only policy, minus `without`. */
export function safeBucket(scope: Construct, id: string, without: readonly BucketPart[] = []): S3Bucket {
  const bucket = new S3Bucket(scope, id, { bucket: `acme-test-${id}` });
  if (!without.includes("encryption")) {
    new S3BucketServerSideEncryptionConfigurationA(scope, `${id}-encryption`, {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
  }
  if (!without.includes("public-access")) {
    new S3BucketPublicAccessBlock(scope, `${id}-public-access`, {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  }
  if (!without.includes("tls-policy")) {
    new S3BucketPolicy(scope, `${id}-policy`, {
      bucket: bucket.id,
      policy: policyDocument([denyInsecureTransport([bucket.arn, `${bucket.arn}/*`])]),
    });
  }
  return bucket;
}

/** An encrypted, private, deletion-protected PostgreSQL instance with a final snapshot. */
export function safeDatabase(scope: Construct, props: Partial<DbInstanceConfig> = {}): DbInstance {
  return new DbInstance(scope, "db", {
    identifier: "acme-test",
    engine: "postgres",
    instanceClass: "db.t4g.micro",
    allocatedStorage: 20,
    username: "postgres",
    manageMasterUserPassword: true,
    storageEncrypted: true,
    deletionProtection: true,
    finalSnapshotIdentifier: "acme-test-final",
    ...props,
  });
}

/** An instance with an encrypted root volume and IMDSv2 required. */
export function safeInstance(scope: Construct, props: Partial<InstanceConfig> = {}): Instance {
  return new Instance(scope, "host", {
    ami: "ami-0123456789abcdef0",
    instanceType: "t4g.nano",
    rootBlockDevice: { encrypted: true },
    metadataOptions: { httpTokens: "required" },
    ...props,
  });
}

/** A described security group. */
export function safeGroup(scope: Construct, id: string, props: Partial<SecurityGroupConfig> = {}): SecurityGroup {
  return new SecurityGroup(scope, id, { name: `acme-test-${id}`, description: `test group ${id}`, ...props });
}
