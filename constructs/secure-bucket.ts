import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  type S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Lazy, Token, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { denyInsecureTransport, policyDocument, type PolicyStatement } from "./iam";
import { LIMITS } from "./aws-limits";
import { propError } from "./errors";

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const SECURE_BUCKET_DEFAULTS = {
  noncurrentVersionExpirationDays: 90,
} as const;

export interface SecureBucketProps {
  /**
   * Globally unique bucket name (3-63 of a-z, 0-9, '.', '-'). Exactly one of `bucketName` and `bucketPrefix`.
   * @default - none: give `bucketPrefix` instead
   */
  readonly bucketName?: string;
  /**
   * Start of a name S3 completes with a generated suffix (for buckets nobody types the name of, such
   * as log buckets: a fixed name collides with any other account's).
   * @default - none: give `bucketName` instead
   */
  readonly bucketPrefix?: string;
  /**
   * Keep every version of every object. Off only for write-once data that expires anyway (access logs).
   * @default true
   */
  readonly versioned?: boolean;
  /**
   * Days an overwritten or deleted object version is kept before it expires (versioned buckets only).
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Days after which current objects expire (logs).
   * @default - objects are kept until deleted
   */
  readonly expireObjectsAfterDays?: number;
  /**
   * Let a destroy delete the objects with the bucket. Only for disposable data such as access logs.
   * @default false
   */
  readonly forceDestroy?: boolean;
  /**
   * `prevent_destroy` on the bucket.
   * @default true
   */
  readonly protect?: boolean;
  /** The bucket's `Name` tag: the caller's, never derived from the construct id. */
  readonly nameTag: string;
}

/**
 * An S3 bucket with every safety on: versioned (old versions expire), SSE-S3 encrypted, all public
 * access blocked, ACLs disabled, a policy refusing any request not made over TLS, never
 * force-destroyed. The state bucket, SafeBucket's object bucket and Loki's bucket are all one; a load
 * balancer's access-log bucket is one too, unversioned, its objects expiring, force-destroyable
 * outside production (SSE-S3 is also the only encryption ELB delivers logs to).
 */
export class SecureBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** The id other S3 resources take as `bucket`. */
  readonly bucketId: string;
  /** `<name>.s3.<region>.amazonaws.com`: what a CloudFront origin names. */
  readonly bucketRegionalDomainName: string;
  /** The bucket policy: what a service that checks its write access at setup (ELB logging) must wait for. */
  readonly policy: ITerraformDependable;
  private readonly extraStatements: PolicyStatement[] = [];

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const versioned = props.versioned ?? true;
    const expireAfterDays = props.noncurrentVersionExpirationDays ?? SECURE_BUCKET_DEFAULTS.noncurrentVersionExpirationDays;
    const protect = props.protect ?? true;
    this.validate(props, versioned, expireAfterDays);

    const bucket = new S3Bucket(this, "bucket", {
      ...(props.bucketName !== undefined ? { bucket: props.bucketName } : { bucketPrefix: props.bucketPrefix }),
      // Destroying a bucket must never take its objects with it: empty it on purpose first.
      forceDestroy: props.forceDestroy ?? false,
      lifecycle: { preventDestroy: protect },
      tags: { Name: props.nameTag },
    });
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.bucketId = bucket.id;
    this.bucketRegionalDomainName = bucket.bucketRegionalDomainName;

    if (versioned) {
      new S3BucketVersioningA(this, "versioning", {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      });
    }
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    // ACLs off: the bucket owner owns every object, access is decided by policies alone.
    new S3BucketOwnershipControls(this, "ownership", {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    const tlsOnly = denyInsecureTransport([bucket.arn, `${bucket.arn}/*`]);
    this.policy = new S3BucketPolicy(this, "policy", {
      bucket: bucket.id,
      // Lazy: statements added with addToResourcePolicy after construction belong in the same document.
      policy: Lazy.stringValue({ produce: () => policyDocument([tlsOnly, ...this.extraStatements]) }),
      // S3 rejects a bucket policy while the public access block is still being applied.
      dependsOn: [publicAccess],
    });
    const abortUploads = { abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }] };
    const rules: S3BucketLifecycleConfigurationRule[] = [];
    if (versioned) {
      rules.push({
        id: "expire-old-versions",
        status: "Enabled",
        filter: [{ prefix: "" }],
        noncurrentVersionExpiration: [{ noncurrentDays: expireAfterDays }],
        // Once a deleted object's old versions expire, its delete marker is all that is left: drop it.
        expiration: [{ expiredObjectDeleteMarker: true }],
        ...abortUploads,
      });
    }
    if (props.expireObjectsAfterDays !== undefined) {
      rules.push({
        id: "expire-objects",
        status: "Enabled",
        filter: [{ prefix: "" }],
        expiration: [{ days: props.expireObjectsAfterDays }],
        ...(versioned ? {} : abortUploads),
      });
    }
    if (rules.length === 0) rules.push({ id: "abort-incomplete-uploads", status: "Enabled", filter: [{ prefix: "" }], ...abortUploads });
    new S3BucketLifecycleConfiguration(this, "lifecycle", { bucket: bucket.id, rule: rules });
  }

  /** Adds a statement to the bucket policy (after the TLS-only deny), e.g. a service principal that writes logs. */
  addToResourcePolicy(statement: PolicyStatement): void {
    this.extraStatements.push(statement);
  }

  private validate(props: SecureBucketProps, versioned: boolean, expireAfterDays: number): void {
    const fail = (message: string): never => {
      throw new Error(`SecureBucket ${this.node.path}: ${message}`);
    };
    if ((props.bucketName === undefined) === (props.bucketPrefix === undefined)) {
      fail("give exactly one of bucketName and bucketPrefix");
    }
    const name = props.bucketName;
    if (name !== undefined && !Token.isUnresolved(name) && !LIMITS.s3BucketName.check(name)) {
      throw propError(this, "bucketName", `${LIMITS.s3BucketName.rule} (got "${name}")`);
    }
    // S3 appends 26 characters to a prefix, and a name stops at 63.
    const prefix = props.bucketPrefix;
    if (prefix !== undefined && !Token.isUnresolved(prefix) && !/^(?!xn--)[a-z0-9][a-z0-9.-]{0,36}$/.test(prefix)) {
      fail(`bucketPrefix must be 1-37 of a-z, 0-9, '.', '-', starting with a letter or digit (got "${prefix}")`);
    }
    if (!Number.isInteger(expireAfterDays) || expireAfterDays < 1) {
      fail(`noncurrentVersionExpirationDays must be a whole number of days >= 1 (got ${expireAfterDays})`);
    }
    if (!versioned && props.noncurrentVersionExpirationDays !== undefined) {
      fail("noncurrentVersionExpirationDays needs versioned true: an unversioned bucket keeps no old versions");
    }
    const days = props.expireObjectsAfterDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1)) {
      fail(`expireObjectsAfterDays must be a whole number of days >= 1 (got ${days})`);
    }
  }
}
