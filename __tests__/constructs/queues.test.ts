import { Queue, QueueAlarms, SafeBucketQueues, type QueueProps } from "../../constructs/queues";
import { Role } from "../../constructs/role";
import { bare, decodePolicy, type Json, onlyResource, resourcesOf, synth, synthWithHandles, testStack } from "../helpers";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-test-rds-alerts";

const JOBS: QueueProps = { queueName: "acme-test-jobs", purpose: "jobs" };

function queue(props: Partial<QueueProps> = {}) {
  const stack = testStack();
  const built = new Queue(stack, "jobs", { ...JOBS, ...props });
  const { json, refs } = synthWithHandles(stack, { queueArn: built.queueArn, deadLetterQueueArn: built.deadLetterQueueArn });
  return { stack, queue: built, json, refs };
}

const byName = (json: Json, name: string): Json => {
  const found = resourcesOf(json, "aws_sqs_queue").find((q) => q.name === name);
  if (!found) throw new Error(`no queue named ${name}`);
  return found;
};

describe("Queue", () => {
  test("SafeBucket's settings by default: 14-day retention, 30 s visibility, 20 s long polling", () => {
    expect(byName(queue().json, "acme-test-jobs")).toMatchObject({
      message_retention_seconds: 1209600,
      visibility_timeout_seconds: 30,
      receive_wait_time_seconds: 20,
    });
  });

  test("queue and dead-letter queue are both encrypted with SQS-managed keys", () => {
    const queues = resourcesOf(queue().json, "aws_sqs_queue");
    expect(queues).toHaveLength(2);
    for (const q of queues) expect(q.sqs_managed_sse_enabled).toBe(true);
  });

  test("failed messages move to the dead-letter queue after maxReceiveCount receives", () => {
    const { json, refs } = queue({ maxReceiveCount: 3 });
    expect(byName(json, "acme-test-jobs").redrive_policy).toBe(
      `\${jsonencode({"deadLetterTargetArn" = ${bare(refs.deadLetterQueueArn)}, "maxReceiveCount" = 3})}`,
    );
  });

  test("the dead-letter queue keeps messages as long as the queue and accepts redrives from this queue only", () => {
    const { json, refs } = queue({ messageRetentionDays: 4 });
    expect(byName(json, "acme-test-jobs-dlq").message_retention_seconds).toBe(4 * 86400);
    expect(onlyResource(json, "aws_sqs_queue_redrive_allow_policy").redrive_allow_policy).toContain(
      `"redrivePermission" = "byQueue", "sourceQueueArns" = [${bare(refs.queueArn)}]`,
    );
  });

  test("grantConsume and grantSend name valid SQS actions on this queue only", () => {
    const stack = testStack(undefined, "access");
    const jobs = new Queue(stack, "jobs", JOBS);
    const consumer = new Role(stack, "consumer", { roleName: "acme-test-consumer", assumedBy: ["ecs-tasks.amazonaws.com"] });
    jobs.grantConsume(consumer);
    jobs.grantSend(consumer);
    const { json, refs } = synthWithHandles(stack, { queueArn: jobs.queueArn });
    const statements = decodePolicy(onlyResource(json, "aws_iam_role_policy").policy).Statement;
    expect(statements[0].Action).toEqual([
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
    ]);
    expect(statements[1].Action).toEqual(["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]);
    for (const s of statements) expect(s.Resource).toEqual([bare(refs.queueArn)]);
  });

  test("S3 may send only this bucket's events from this account", () => {
    const stack = testStack();
    const jobs = new Queue(stack, "jobs", JOBS);
    jobs.allowBucketNotifications("arn:aws:s3:::acme-test-objects");
    // The account comes from the queue's ARN (a function call decodePolicy cannot read), so match the text.
    const { json, refs } = synthWithHandles(stack, { queueArn: jobs.queueArn });
    const policy = onlyResource(json, "aws_sqs_queue_policy").policy as string;
    expect(policy).toContain('"Effect" = "Allow", "Action" = ["sqs:SendMessage"]');
    expect(policy).toContain('"Principal" = {"Service" = ["s3.amazonaws.com"]}');
    expect(policy).toContain('"ArnEquals" = {"aws:SourceArn" = "arn:aws:s3:::acme-test-objects"}');
    expect(policy).toContain(`"StringEquals" = {"aws:SourceAccount" = element(split(":", ${bare(refs.queueArn)}), 4)}`);
  });

  test("settings outside SQS's limits are rejected naming the prop", () => {
    expect(() => queue({ receiveWaitTimeSeconds: 21 })).toThrow(/receiveWaitTimeSeconds must be a whole number 0-20 \(got 21\)/);
    expect(() => queue({ messageRetentionDays: 15 })).toThrow(/messageRetentionDays/);
    expect(() => queue({ queueName: "a".repeat(78) })).toThrow(/queueName must be 1-76/);
  });
});

describe("SafeBucketQueues", () => {
  test("three queues, each with its dead-letter queue, named after SafeBucket's", () => {
    const stack = testStack();
    new SafeBucketQueues(stack, "queues");
    const names = resourcesOf(synth(stack), "aws_sqs_queue").map((q) => q.name);
    expect(names.sort()).toEqual([
      "acme-test-notifications",
      "acme-test-notifications-dlq",
      "acme-test-object-deletion",
      "acme-test-object-deletion-dlq",
      "acme-test-s3-events",
      "acme-test-s3-events-dlq",
    ]);
  });
});

describe("QueueAlarms", () => {
  function alarms(oldestMessageAgeSeconds?: number) {
    const stack = testStack(undefined, "observability");
    const queues = new SafeBucketQueues(stack, "queues");
    new QueueAlarms(stack, "queue-alarms", { queues: [queues.events], topicArn: TOPIC, oldestMessageAgeSeconds });
    return resourcesOf(synth(stack), "aws_cloudwatch_metric_alarm");
  }

  test("a dead-letter queue holding any message raises an alarm", () => {
    const dlq = alarms().find((a) => a.metric_name === "ApproximateNumberOfMessagesVisible");
    expect(dlq).toMatchObject({
      namespace: "AWS/SQS",
      dimensions: { QueueName: "acme-test-s3-events-dlq" },
      comparison_operator: "GreaterThanThreshold",
      threshold: 0,
      alarm_actions: [TOPIC],
      ok_actions: [TOPIC],
    });
  });

  test("a message older than the threshold raises an alarm on the queue itself", () => {
    const oldest = alarms(600).find((a) => a.metric_name === "ApproximateAgeOfOldestMessage");
    expect(oldest).toMatchObject({ dimensions: { QueueName: "acme-test-s3-events" }, threshold: 600, statistic: "Maximum" });
  });
});
