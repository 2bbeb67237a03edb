import { SecureBucket, type SecureBucketProps } from "../../constructs/secure-bucket";
import { decodePolicy, onlyResource, synth, testStack } from "../helpers";

function secureBucket(props: Partial<SecureBucketProps> = {}) {
  const stack = testStack();
  new SecureBucket(stack, "files", { bucketName: "acme-test-files", nameTag: "acme-test-files", ...props });
  return synth(stack);
}

describe("SecureBucket", () => {
  test("the Name tag is nameTag when given, whatever the construct id", () => {
    expect(onlyResource(secureBucket({ nameTag: "acme-test-uploads" }), "aws_s3_bucket").tags).toEqual({ Name: "acme-test-uploads" });
  });

  test("bucket is versioned and encrypted with SSE-S3", () => {
    const json = secureBucket();
    expect(onlyResource(json, "aws_s3_bucket_versioning").versioning_configuration.status).toBe("Enabled");
    const rule = onlyResource(json, "aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(rule.apply_server_side_encryption_by_default.sse_algorithm).toBe("AES256");
  });

  test("all four public access blocks are on and ACLs are disabled", () => {
    const json = secureBucket();
    expect(onlyResource(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(onlyResource(json, "aws_s3_bucket_ownership_controls").rule.object_ownership).toBe("BucketOwnerEnforced");
  });

  test("bucket policy denies every request not made over TLS, on the bucket and its objects", () => {
    const statement = decodePolicy(onlyResource(secureBucket(), "aws_s3_bucket_policy").policy).Statement[0];
    expect(statement).toMatchObject({ Effect: "Deny", Action: ["s3:*"], Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(statement.Resource).toHaveLength(2);
    expect(statement.Resource[1]).toMatch(/\.arn\}\/\*$/);
  });

  test("old versions expire after the configured days, then their delete markers go", () => {
    const rule = onlyResource(secureBucket({ noncurrentVersionExpirationDays: 14 }), "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.noncurrent_version_expiration[0].noncurrent_days).toBe(14);
    expect(rule.expiration[0].expired_object_delete_marker).toBe(true);
    expect(rule.abort_incomplete_multipart_upload[0].days_after_initiation).toBe(7);
  });

  test("bucket is protected by default and never force-destroyed", () => {
    const bucket = onlyResource(secureBucket(), "aws_s3_bucket");
    expect(bucket.lifecycle.prevent_destroy).toBe(true);
    expect(bucket.force_destroy).toBe(false);
    expect(onlyResource(secureBucket({ protect: false }), "aws_s3_bucket").lifecycle.prevent_destroy).toBe(false);
  });

  test("an invalid bucket name is rejected naming the prop", () => {
    expect(() => secureBucket({ bucketName: "Acme_Files" })).toThrow(/bucketName must be a valid S3 bucket name: 3-63/);
  });
});
