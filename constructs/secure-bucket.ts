import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { denyInsecureTransport, policyDocument } from "./iam";
import { LIMITS } from "./aws-limits";
import { propError } from "./errors";
import { Naming } from "./naming";

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const SECURE_BUCKET_DEFAULTS = {
  noncurrentVersionExpirationDays: 90,
} as const;

export interface SecureBucketProps {
  /** Globally unique bucket name (3-63 of a-z, 0-9, '.', '-'). */
  readonly bucketName: string;
  /**
   * Days an overwritten or deleted object version is kept before it expires.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * `prevent_destroy` on the bucket.
   * @default true
   */
  readonly protect?: boolean;
  /**
   * The bucket's `Name` tag. Give it: the default is the last tag derived from a construct id, kept
   * so existing buckets are not retagged.
   * @default - `<project>-<env>-<id>`
   */
  readonly nameTag?: string;
}

/**
 * An S3 bucket with every safety on: versioned (old versions expire), SSE-S3 encrypted, all public
 * access blocked, ACLs disabled, a policy refusing any request not made over TLS, never
 * force-destroyed. The state bucket, SafeBucket's object bucket and Loki's bucket are all one.
 */
export class SecureBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** The id other S3 resources take as `bucket`. */
  readonly bucketId: string;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const expireAfterDays = props.noncurrentVersionExpirationDays ?? SECURE_BUCKET_DEFAULTS.noncurrentVersionExpirationDays;
    const protect = props.protect ?? true;
    if (!Token.isUnresolved(props.bucketName) && !LIMITS.s3BucketName.check(props.bucketName)) {
      throw propError(this, "bucketName", `${LIMITS.s3BucketName.rule} (got "${props.bucketName}")`);
    }
    if (!Number.isInteger(expireAfterDays) || expireAfterDays < 1) {
      throw new Error(
        `SecureBucket ${this.node.path}: noncurrentVersionExpirationDays must be a whole number of days >= 1 (got ${expireAfterDays})`,
      );
    }

    const bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      // Destroying a bucket must never take its objects with it: empty it on purpose first.
      forceDestroy: false,
      lifecycle: { preventDestroy: protect },
      tags: { Name: props.nameTag ?? Naming.of(this).name(id) },
    });
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.bucketId = bucket.id;

    new S3BucketVersioningA(this, "versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
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
    new S3BucketPolicy(this, "policy", {
      bucket: bucket.id,
      policy: policyDocument([denyInsecureTransport([bucket.arn, `${bucket.arn}/*`])]),
      // S3 rejects a bucket policy while the public access block is still being applied.
      dependsOn: [publicAccess],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: bucket.id,
      rule: [
        {
          id: "expire-old-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: expireAfterDays }],
          // Once a deleted object's old versions expire, its delete marker is all that is left: drop it.
          expiration: [{ expiredObjectDeleteMarker: true }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
  }
}
