// The SecureBucket options a load balancer's access-log bucket needs (web helper's addition; the
// default bucket is covered by secure-bucket.test.ts).
import { SecureBucket, type SecureBucketProps } from "../../constructs/secure-bucket";
import { decodePolicy, onlyResource, resourcesOf, synth, testStack } from "../helpers";

function build(props: Omit<SecureBucketProps, "nameTag">) {
  const stack = testStack();
  const bucket = new SecureBucket(stack, "logs", { nameTag: "acme-test-logs", ...props });
  return { stack, bucket };
}

describe("SecureBucket options for disposable data", () => {
  test("a prefix lets S3 complete the name, and exactly one of name and prefix is required", () => {
    const json = synth(build({ bucketPrefix: "acme-test-logs-" }).stack);
    expect(onlyResource(json, "aws_s3_bucket")).toMatchObject({ bucket_prefix: "acme-test-logs-" });
    expect(onlyResource(json, "aws_s3_bucket").bucket).toBeUndefined();
    expect(() => build({})).toThrow(/give exactly one of bucketName and bucketPrefix/);
    expect(() => build({ bucketName: "a-b-c", bucketPrefix: "a-" })).toThrow(/exactly one/);
    expect(() => build({ bucketPrefix: "x".repeat(38) })).toThrow(/bucketPrefix must be 1-37/);
  });

  test("an unversioned bucket expiring its objects has no versioning and one expiry rule", () => {
    const json = synth(build({ bucketPrefix: "acme-logs-", versioned: false, expireObjectsAfterDays: 30 }).stack);
    expect(resourcesOf(json, "aws_s3_bucket_versioning")).toHaveLength(0);
    const rules = onlyResource(json, "aws_s3_bucket_lifecycle_configuration").rule;
    expect(rules).toHaveLength(1);
    expect(rules[0]).toMatchObject({ id: "expire-objects", expiration: [{ days: 30 }] });
    expect(rules[0].abort_incomplete_multipart_upload[0].days_after_initiation).toBe(7);
  });

  test("noncurrent version days on an unversioned bucket, or a bad expiry, are refused", () => {
    expect(() => build({ bucketPrefix: "a-", versioned: false, noncurrentVersionExpirationDays: 3 })).toThrow(/needs versioned true/);
    expect(() => build({ bucketPrefix: "a-", expireObjectsAfterDays: 0 })).toThrow(/expireObjectsAfterDays must be a whole number/);
  });

  test("statements added later join the TLS-only deny in one policy", () => {
    const { stack, bucket } = build({ bucketName: "acme-test-static" });
    bucket.addToResourcePolicy({
      sid: "Reader",
      actions: ["s3:GetObject"],
      resources: [`${bucket.bucketArn}/*`],
      principals: { Service: ["cloudfront.amazonaws.com"] },
    });
    const statements = decodePolicy(onlyResource(synth(stack), "aws_s3_bucket_policy").policy).Statement;
    expect(statements.map((s: { Sid: string }) => s.Sid)).toEqual(["DenyInsecureTransport", "Reader"]);
  });

  test("forceDestroy is off unless asked", () => {
    expect(onlyResource(synth(build({ bucketName: "acme-a" }).stack), "aws_s3_bucket").force_destroy).toBe(false);
    const bucket = onlyResource(synth(build({ bucketName: "acme-a", forceDestroy: true, protect: false }).stack), "aws_s3_bucket");
    expect(bucket).toMatchObject({ force_destroy: true, lifecycle: { prevent_destroy: false } });
  });
});
