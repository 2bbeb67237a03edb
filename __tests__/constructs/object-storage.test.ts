import { ObjectStorage, ObjectStorageAlarms, type ObjectStorageProps } from "../../constructs/object-storage";
import { Queue } from "../../constructs/queues";
import { Role } from "../../constructs/role";
import { bare, decodePolicy, onlyResource, resourcesOf, synth, synthWithHandles, testStack } from "../helpers";

function objectStorage(props: ObjectStorageProps = {}) {
  const stack = testStack();
  const storage = new ObjectStorage(stack, "object-storage", props);
  return { stack, storage, json: synth(stack) };
}

describe("ObjectStorage", () => {
  test("bucket is named from project, environment and suffix", () => {
    expect(onlyResource(objectStorage().json, "aws_s3_bucket").bucket).toBe("acme-test-objects");
    expect(onlyResource(objectStorage({ bucketSuffix: "files-7f3a" }).json, "aws_s3_bucket").bucket).toBe("acme-test-files-7f3a");
  });

  test("bucket is versioned, encrypted, private and TLS-only (a SecureBucket)", () => {
    const { json } = objectStorage();
    expect(onlyResource(json, "aws_s3_bucket_versioning").versioning_configuration.status).toBe("Enabled");
    expect(resourcesOf(json, "aws_s3_bucket_server_side_encryption_configuration")).toHaveLength(1);
    expect(onlyResource(json, "aws_s3_bucket_public_access_block").restrict_public_buckets).toBe(true);
    expect(onlyResource(json, "aws_s3_bucket_policy").policy).toContain('"aws:SecureTransport" = "false"');
  });

  test("noncurrent versions expire after 30 days by default", () => {
    const rule = onlyResource(objectStorage().json, "aws_s3_bucket_lifecycle_configuration").rule[0];
    expect(rule.noncurrent_version_expiration[0].noncurrent_days).toBe(30);
  });

  test("no CORS rule unless origins are given", () => {
    expect(resourcesOf(objectStorage().json, "aws_s3_bucket_cors_configuration")).toHaveLength(0);
  });

  test("CORS allows the given origins with SafeBucket's methods and max age", () => {
    const { json } = objectStorage({ cors: { allowedOrigins: ["https://app.example.com"] } });
    expect(onlyResource(json, "aws_s3_bucket_cors_configuration").cors_rule[0]).toMatchObject({
      allowed_origins: ["https://app.example.com"],
      allowed_methods: ["GET", "POST", "PUT", "DELETE"],
      max_age_seconds: 3000,
    });
  });

  test("a wildcard or a path as CORS origin is rejected naming the prop", () => {
    expect(() => objectStorage({ cors: { allowedOrigins: ["*"] } })).toThrow(/cors\.allowedOrigins\[0\]/);
    expect(() => objectStorage({ cors: { allowedOrigins: ["https://app.example.com/upload"] } })).toThrow(/not \* or a path/);
  });

  test("object events go to the events queue, after S3 is allowed to send to it", () => {
    const stack = testStack();
    const events = new Queue(stack, "s3-events", { queueName: "acme-test-s3-events", purpose: "s3-events" });
    const storage = new ObjectStorage(stack, "object-storage", { eventsQueue: events });
    const { json, refs } = synthWithHandles(stack, { queueArn: events.queueArn, bucketArn: storage.bucketArn });
    const notification = onlyResource(json, "aws_s3_bucket_notification");
    expect(notification.queue[0].events).toEqual(["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]);
    expect(notification.queue[0].queue_arn).toBe(refs.queueArn);
    expect(notification.depends_on).toEqual([expect.stringMatching(/^aws_sqs_queue_policy\./)]);
    expect(onlyResource(json, "aws_sqs_queue_policy").policy).toContain(`"aws:SourceArn" = ${bare(refs.bucketArn)}`);
  });

  test("grantReadWrite gives exactly the object actions on the objects and listing on the bucket", () => {
    const stack = testStack(undefined, "access");
    const storage = new ObjectStorage(stack, "object-storage");
    const role = new Role(stack, "app-role", { roleName: "acme-test-app-role", assumedBy: ["ecs-tasks.amazonaws.com"] });
    storage.grantReadWrite(role);
    const { json, refs } = synthWithHandles(stack, { bucketArn: storage.bucketArn });
    const [objects, bucket] = decodePolicy(onlyResource(json, "aws_iam_role_policy").policy).Statement;
    expect(objects.Action).toEqual([
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]);
    expect(objects.Resource).toEqual([`${refs.bucketArn}/*`]);
    expect(bucket.Action).toEqual(["s3:ListBucket"]);
    expect(bucket.Resource).toEqual([bare(refs.bucketArn)]);
  });

  test("request metrics are off by default and on only when asked (they are billed)", () => {
    expect(resourcesOf(objectStorage().json, "aws_s3_bucket_metric")).toHaveLength(0);
    const { json, storage } = objectStorage({ requestMetrics: true });
    expect(onlyResource(json, "aws_s3_bucket_metric").name).toBe("EntireBucket");
    expect(storage.requestMetricsFilterId).toBe("EntireBucket");
  });

  test("the bucket is protected from destroy unless protect is false", () => {
    expect(onlyResource(objectStorage().json, "aws_s3_bucket").lifecycle.prevent_destroy).toBe(true);
    expect(onlyResource(objectStorage({ protect: false }).json, "aws_s3_bucket").lifecycle.prevent_destroy).toBe(false);
  });

  test("a suffix making the name longer than 63 characters is rejected", () => {
    expect(() => objectStorage({ bucketSuffix: "x".repeat(60) })).toThrow(/bucketSuffix makes the bucket name/);
  });
});

describe("ObjectStorageAlarms", () => {
  test("5xx answers of the bucket's request metrics raise an alarm", () => {
    const stack = testStack(undefined, "observability");
    new ObjectStorageAlarms(stack, "s3-alarms", { bucketName: "acme-test-objects", filterId: "EntireBucket", topicArn: "arn:topic" });
    expect(onlyResource(synth(stack), "aws_cloudwatch_metric_alarm")).toMatchObject({
      namespace: "AWS/S3",
      metric_name: "5xxErrors",
      dimensions: { BucketName: "acme-test-objects", FilterId: "EntireBucket" },
      statistic: "Sum",
      threshold: 5,
      alarm_actions: ["arn:topic"],
    });
  });
});
