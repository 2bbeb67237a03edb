import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Construct } from "constructs";
import { denyInsecureTransport, policyDocument } from "./iam";

export interface StateBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /**
   * Days an overwritten or deleted state version is kept, so a bad apply can be rolled back.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * `prevent_destroy` on the bucket: losing it loses every stack's state.
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * The bucket that holds Terraform state: versioned, encrypted, private, TLS only, never force-destroyed.
 * Locking uses S3 lock files next to each state object (`use_lockfile`), so no DynamoDB table.
 */
export class StateBucket extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    const expireAfterDays = props.noncurrentVersionExpirationDays ?? 90;
    if (!Number.isInteger(expireAfterDays) || expireAfterDays < 1) {
      throw new Error(
        `StateBucket ${this.node.path}: noncurrentVersionExpirationDays must be a whole number of days >= 1 (got ${expireAfterDays})`,
      );
    }

    const bucket = new S3Bucket(this, "bucket", {
      bucket: props.bucketName,
      forceDestroy: false,
      lifecycle: { preventDestroy: props.protect ?? true },
    });
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;

    new S3BucketVersioningA(this, "versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    });
    const publicAccess = new S3BucketPublicAccessBlock(this, "public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
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
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: expireAfterDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
  }
}
