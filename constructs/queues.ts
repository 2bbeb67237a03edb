import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { SqsQueueRedriveAllowPolicy } from "@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { metricAlarm } from "./alarm";
import { allow, policyDocument } from "./iam";
import { Naming } from "./naming";
import type { IGrantable } from "./role";
import { LIMITS, type Limit } from "./aws-limits";
import { propError } from "./errors";

const SECONDS_PER_DAY = 86400;

/** How long messages live and how they are received; shared by every queue of a set. */
export interface QueueSettings {
  /**
   * Days a message waits in the queue, and in its dead-letter queue, before SQS drops it (1-14).
   * @default 14
   */
  readonly messageRetentionDays?: number;
  /**
   * Seconds a received message stays hidden from other consumers (0-43200). Longer than the
   * consumer's slowest handling, or a message is processed twice.
   * @default 30
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Long polling: seconds a receive waits for a message before returning empty (0-20).
   * @default 20 - the longest: fewer empty receives, which SQS bills like any other
   */
  readonly receiveWaitTimeSeconds?: number;
  /**
   * Receives before a message that keeps failing moves to the dead-letter queue (1-1000).
   * @default 5
   */
  readonly maxReceiveCount?: number;
}

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const QUEUE_DEFAULTS = {
  messageRetentionDays: 14,
  visibilityTimeoutSeconds: 30,
  receiveWaitTimeSeconds: 20,
  maxReceiveCount: 5,
  oldestMessageAgeSeconds: 900,
} as const;

export interface QueueProps extends QueueSettings {
  /** The queue's name (from the naming helper); its dead-letter queue is `<queueName>-dlq`. */
  readonly queueName: string;
  /**
   * What the queue is for, in alarm and output names (`s3-events`): given, never taken from the
   * construct id, so renaming an id cannot rename an alarm.
   */
  readonly purpose: string;
}

/**
 * A standard SQS queue with its own dead-letter queue: both encrypted with SQS-managed keys
 * (SSE-SQS), a redrive policy sending a message there after `maxReceiveCount` failed receives, and a
 * redrive-allow policy on the dead-letter queue naming this queue alone.
 *
 * Why SSE-SQS and not a KMS key: S3 event notifications must be able to write to the queue, and S3
 * cannot use the AWS-managed key `alias/aws/sqs` (its policy cannot be edited to let S3 in). SSE-SQS
 * needs no key policy and costs nothing.
 */
export class Queue extends Construct {
  readonly queueUrl: string;
  readonly queueArn: string;
  /** The plain name (known at synth), so alarms in another stack need no cross-stack output. */
  readonly queueName: string;
  /** What the queue is for (`s3-events`), as its alarms and outputs name it. */
  readonly purpose: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
  /** The plain name of the dead-letter queue. */
  readonly deadLetterQueueName: string;
  private bucketPolicy?: SqsQueuePolicy;

  constructor(scope: Construct, id: string, props: QueueProps) {
    super(scope, id);
    const queueName = props.queueName;
    const retentionDays = props.messageRetentionDays ?? QUEUE_DEFAULTS.messageRetentionDays;
    const visibilityTimeoutSeconds = props.visibilityTimeoutSeconds ?? QUEUE_DEFAULTS.visibilityTimeoutSeconds;
    const receiveWaitTimeSeconds = props.receiveWaitTimeSeconds ?? QUEUE_DEFAULTS.receiveWaitTimeSeconds;
    const maxReceiveCount = props.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount;
    this.check("messageRetentionDays", retentionDays, LIMITS.sqsMessageRetentionDays);
    this.check("visibilityTimeoutSeconds", visibilityTimeoutSeconds, LIMITS.sqsVisibilityTimeoutSeconds);
    this.check("receiveWaitTimeSeconds", receiveWaitTimeSeconds, LIMITS.sqsReceiveWaitTimeSeconds);
    this.check("maxReceiveCount", maxReceiveCount, LIMITS.sqsMaxReceiveCount);
    const deadLetterQueueName = `${queueName}-dlq`;
    // SQS names: up to 80 of letters, digits, '-' and '_'; the dead-letter queue's name is the longer one.
    if (!Token.isUnresolved(queueName) && !/^[A-Za-z0-9_-]{1,80}$/.test(deadLetterQueueName)) {
      throw propError(
        this,
        `queueName`,
        `must be 1-76 of letters, digits, '-', '_' (its dead-letter queue adds "-dlq") (got "${queueName}")`,
      );
    }

    // A standard queue keeps a message's original enqueue time when it moves to the dead-letter
    // queue, so the dead-letter queue keeps messages at least as long as the queue itself.
    const retentionSeconds = retentionDays * SECONDS_PER_DAY;
    const deadLetter = new SqsQueue(this, "dlq", {
      name: deadLetterQueueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: retentionSeconds,
      tags: { Name: deadLetterQueueName },
    });
    const queue = new SqsQueue(this, "queue", {
      name: queueName,
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: retentionSeconds,
      visibilityTimeoutSeconds,
      receiveWaitTimeSeconds,
      redrivePolicy: Fn.jsonencode({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount }),
      tags: { Name: queueName },
    });
    // A separate resource: on the dead-letter queue itself it would reference the queue that
    // references it, a cycle.
    new SqsQueueRedriveAllowPolicy(this, "dlq-redrive-allow", {
      queueUrl: deadLetter.url,
      redriveAllowPolicy: Fn.jsonencode({ redrivePermission: "byQueue", sourceQueueArns: [queue.arn] }),
    });

    this.queueUrl = queue.url;
    this.queueArn = queue.arn;
    this.queueName = queueName;
    this.purpose = props.purpose;
    this.deadLetterQueueUrl = deadLetter.url;
    this.deadLetterQueueArn = deadLetter.arn;
    this.deadLetterQueueName = deadLetterQueueName;
  }

  /** Lets `grantable` receive, delete and extend the visibility of this queue's messages. */
  grantConsume(grantable: IGrantable): void {
    grantable.addToPolicy(
      allow(
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
        [this.queueArn],
      ),
    );
  }

  /** Lets `grantable` send messages to this queue (`sqs:SendMessage` also covers SendMessageBatch). */
  grantSend(grantable: IGrantable): void {
    grantable.addToPolicy(allow(["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], [this.queueArn]));
  }

  /**
   * The queue policy letting S3 deliver event notifications of `bucketArn`, and no other bucket or
   * account (`aws:SourceArn` + `aws:SourceAccount`, the confused-deputy guard S3's documentation
   * gives). S3 tests this permission when the notification is configured: make the bucket's
   * notification depend on the returned policy.
   */
  allowBucketNotifications(bucketArn: string): SqsQueuePolicy {
    if (this.bucketPolicy) throw propError(this, `allowBucketNotifications`, `was already called; one bucket per queue`);
    // The queue's ARN holds the account (arn:partition:sqs:region:account:name): no AWS data source.
    const account = Fn.element(Fn.split(":", this.queueArn), 4);
    this.bucketPolicy = new SqsQueuePolicy(this, "policy", {
      queueUrl: this.queueUrl,
      policy: policyDocument([
        {
          sid: "S3SendsThisBucketsEvents",
          actions: ["sqs:SendMessage"],
          resources: [this.queueArn],
          principals: { Service: ["s3.amazonaws.com"] },
          conditions: { ArnEquals: { "aws:SourceArn": bucketArn }, StringEquals: { "aws:SourceAccount": account } },
        },
      ]),
    });
    return this.bucketPolicy;
  }

  private check(prop: string, value: number, limit: Limit<number>): void {
    if (!limit.check(value)) throw propError(this, prop, `${limit.rule} (got ${value})`);
  }
}

export type SafeBucketQueuesProps = QueueSettings;

/**
 * SafeBucket's three queues: `s3-events` (the bucket's ObjectCreated/ObjectRemoved notifications),
 * `notifications` and `object-deletion`, each with its dead-letter queue and the same settings.
 */
export class SafeBucketQueues extends Construct {
  /** `<project>-<env>-s3-events`: receives the bucket's event notifications. */
  readonly events: Queue;
  readonly notifications: Queue;
  readonly objectDeletion: Queue;
  /** The three, in the order events, notifications, object deletion. */
  readonly all: readonly Queue[];

  constructor(scope: Construct, id: string, props: SafeBucketQueuesProps = {}) {
    super(scope, id);
    const naming = Naming.of(this);
    const queue = (purpose: string) => new Queue(this, purpose, { ...props, purpose, queueName: naming.name(purpose) });
    this.events = queue("s3-events");
    this.notifications = queue("notifications");
    this.objectDeletion = queue("object-deletion");
    this.all = [this.events, this.notifications, this.objectDeletion];
  }
}

export interface QueueAlarmsProps {
  /** The queues to watch. */
  readonly queues: readonly Queue[];
  /** SNS topic ARN that receives both ALARM and OK notifications. */
  readonly topicArn: string;
  /**
   * Alarm when a queue's oldest message is older than this many seconds: consumers stopped or
   * cannot keep up.
   * @default 900
   */
  readonly oldestMessageAgeSeconds?: number;
}

/**
 * Two alarms per queue: its dead-letter queue holds any message (something failed `maxReceiveCount`
 * times and needs a person), and its oldest message is older than a threshold (consumers stopped).
 */
export class QueueAlarms extends Construct {
  readonly alarmNames: string[];

  constructor(scope: Construct, id: string, props: QueueAlarmsProps) {
    super(scope, id);
    const oldestMessageAgeSeconds = props.oldestMessageAgeSeconds ?? QUEUE_DEFAULTS.oldestMessageAgeSeconds;
    if (!Number.isInteger(oldestMessageAgeSeconds) || oldestMessageAgeSeconds < 1) {
      throw propError(this, `oldestMessageAgeSeconds`, `must be a whole number >= 1 (got ${oldestMessageAgeSeconds})`);
    }
    const naming = Naming.of(this);
    const alarm = (
      queue: Queue,
      purpose: string,
      spec: { queueName: string; metricName: string; threshold: number; description: string },
    ) =>
      metricAlarm(this, `${queue.purpose}-${purpose}`, {
        alarmName: naming.name("sqs", queue.purpose, purpose),
        description: spec.description,
        namespace: "AWS/SQS",
        metricName: spec.metricName,
        dimensions: { QueueName: spec.queueName },
        statistic: "Maximum",
        evaluationPeriods: 1,
        comparison: "GreaterThanThreshold",
        threshold: spec.threshold,
        // SQS stops publishing for a queue idle for six hours: an empty, quiet queue is healthy.
        treatMissingData: "notBreaching",
        topicArn: props.topicArn,
      });

    this.alarmNames = props.queues.flatMap((queue) => [
      alarm(queue, "dlq-not-empty", {
        queueName: queue.deadLetterQueueName,
        metricName: "ApproximateNumberOfMessagesVisible",
        threshold: 0,
        description: `SQS ${queue.deadLetterQueueName}: holds messages that failed processing; inspect them, fix the cause, then redrive them to ${queue.queueName}.`,
      }).alarmName,
      alarm(queue, "oldest-message", {
        queueName: queue.queueName,
        metricName: "ApproximateAgeOfOldestMessage",
        threshold: oldestMessageAgeSeconds,
        description: `SQS ${queue.queueName}: a message waits longer than ${oldestMessageAgeSeconds} s; its consumers stopped or cannot keep up.`,
      }).alarmName,
    ]);
  }
}
