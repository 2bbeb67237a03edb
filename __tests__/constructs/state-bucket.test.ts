import { StateBucket } from "../../constructs/state-bucket";
import { onlyResource, synth, testStack } from "../helpers";

function stateBucket(props: Partial<ConstructorParameters<typeof StateBucket>[2]> = {}) {
  const stack = testStack();
  new StateBucket(stack, "state", { bucketName: "acme-test-tfstate", nameTag: "acme-test-state", ...props });
  return synth(stack);
}

describe("StateBucket", () => {
  test("bucket keeps every state version", () => {
    expect(onlyResource(stateBucket(), "aws_s3_bucket_versioning").versioning_configuration.status).toBe("Enabled");
  });

  test("objects are encrypted at rest", () => {
    const rule = onlyResource(stateBucket(), "aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(rule.apply_server_side_encryption_by_default.sse_algorithm).toBe("AES256");
  });

  test("all four public access blocks are on", () => {
    expect(onlyResource(stateBucket(), "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  test("bucket policy denies any request not made over TLS, on the bucket and its objects", () => {
    const policy = onlyResource(stateBucket(), "aws_s3_bucket_policy").policy as string;
    expect(policy).toContain('"Effect" = "Deny"');
    expect(policy).toContain('"aws:SecureTransport" = "false"');
    expect(policy).toMatch(/"Resource" = \[aws_s3_bucket\.[^,]+\.arn, "\$\{aws_s3_bucket\.[^}]+\.arn\}\/\*"\]/);
  });

  test("old state versions expire after the configured days", () => {
    const rule = onlyResource(stateBucket({ noncurrentVersionExpirationDays: 30 }), "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.noncurrent_version_expiration[0].noncurrent_days).toBe(30);
    expect(rule.status).toBe("Enabled");
  });

  test("bucket is protected from destroy by default and never force-destroyed", () => {
    const bucket = onlyResource(stateBucket(), "aws_s3_bucket");
    expect(bucket.lifecycle.prevent_destroy).toBe(true);
    expect(bucket.force_destroy).toBe(false);
  });

  test("protect: false drops prevent_destroy", () => {
    expect(onlyResource(stateBucket({ protect: false }), "aws_s3_bucket").lifecycle.prevent_destroy).toBe(false);
  });

  test("a zero expiry is rejected naming the prop", () => {
    expect(() => stateBucket({ noncurrentVersionExpirationDays: 0 })).toThrow(/noncurrentVersionExpirationDays/);
  });
});
