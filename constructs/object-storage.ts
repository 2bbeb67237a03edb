import { S3BucketCorsConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-cors-configuration";
import { S3BucketMetric } from "@cdktf/provider-aws/lib/s3-bucket-metric";
import { S3BucketNotification } from "@cdktf/provider-aws/lib/s3-bucket-notification";
import { Construct } from "constructs";
import { metricAlarm } from "./alarm";
import { allow } from "./iam";
import { Naming } from "./naming";
import type { Queue } from "./queues";
import type { IGrantable } from "./role";
import { SecureBucket } from "./secure-bucket";
import { propError } from "./errors";

/** The S3 actions on objects an application that stores files needs, and nothing on the bucket's configuration. */
export const OBJECT_ACTIONS = [
  "s3:GetObject",
  "s3:PutObject",
  "s3:DeleteObject",
  "s3:AbortMultipartUpload",
  "s3:ListMultipartUploadParts",
] as const;

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const OBJECT_STORAGE_DEFAULTS = {
  bucketSuffix: "objects",
  noncurrentVersionExpirationDays: 30,
  corsAllowedMethods: ["GET", "POST", "PUT", "DELETE"],
  corsMaxAgeSeconds: 3000,
  requestMetrics: false,
} as const;

/** What a browser page may do with the bucket directly (presigned uploads and downloads). */
export interface BucketCors {
  /** Origins allowed, e.g. `https://app.example.com`. */
  readonly allowedOrigins: readonly string[];
  /**
   * @default ["GET", "POST", "PUT", "DELETE"]
   */
  readonly allowedMethods?: readonly string[];
  /**
   * Seconds a browser caches the preflight answer.
   * @default 3000
   */
  readonly maxAgeSeconds?: number;
}

export interface ObjectStorageProps {
  /**
   * Last part of the bucket name `<project>-<env>-<suffix>`. Bucket names are global across every
   * AWS account: change it when S3 answers BucketAlreadyExists.
   * @default "objects"
   */
  readonly bucketSuffix?: string;
  /**
   * Days an overwritten or deleted object version is kept (versioning is always on).
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * CORS for browsers.
   * @default - no CORS rule: browsers on other origins cannot call the bucket
   */
  readonly cors?: BucketCors;
  /**
   * Queue that receives `s3:ObjectCreated:*` and `s3:ObjectRemoved:*` events; its policy is set to
   * accept them from this bucket only.
   * @default - no event notifications
   */
  readonly eventsQueue?: Queue;
  /**
   * Publish S3 request metrics (needed for a 5xx alarm). CloudWatch bills them as custom metrics.
   * @default false
   */
  readonly requestMetrics?: boolean;
  /**
   * `prevent_destroy` on the bucket: it holds the users' files.
   * @default true
   */
  readonly protect?: boolean;
}

/**
 * SafeBucket's object bucket: a SecureBucket (versioned, encrypted, private, TLS only) named from the
 * project, environment and a suffix, with optional CORS, event notifications to a queue and request
 * metrics. `grantReadWrite` gives a role exactly the object actions on it.
 */
export class ObjectStorage extends Construct {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** The metrics configuration's name (`FilterId` of the AWS/S3 request metrics); set with `requestMetrics`. */
  readonly requestMetricsFilterId?: string;

  constructor(scope: Construct, id: string, props: ObjectStorageProps = {}) {
    super(scope, id);
    const suffix = props.bucketSuffix ?? OBJECT_STORAGE_DEFAULTS.bucketSuffix;
    const bucketName = Naming.of(this).name(suffix);
    if (bucketName.length > 63) {
      throw propError(this, `bucketSuffix`, `makes the bucket name ${bucketName} longer than 63 characters`);
    }
    const bucket = new SecureBucket(this, "bucket", {
      bucketName,
      // The tag it has always had, though the bucket is named `-objects`: a new tag is a needless change.
      nameTag: Naming.of(this).name("bucket"),
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays ?? OBJECT_STORAGE_DEFAULTS.noncurrentVersionExpirationDays,
      protect: props.protect ?? true,
    });
    this.bucketName = bucket.bucketName;
    this.bucketArn = bucket.bucketArn;

    if (props.cors) this.addCors(bucket, props.cors);

    if (props.eventsQueue) {
      const queuePolicy = props.eventsQueue.allowBucketNotifications(bucket.bucketArn);
      new S3BucketNotification(this, "notifications", {
        bucket: bucket.bucketId,
        queue: [{ id: "object-events", queueArn: props.eventsQueue.queueArn, events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"] }],
        // S3 sends a test event when the configuration is saved and refuses it if the queue denies it.
        dependsOn: [queuePolicy],
      });
    }

    if (props.requestMetrics ?? OBJECT_STORAGE_DEFAULTS.requestMetrics) {
      const filterId = "EntireBucket";
      new S3BucketMetric(this, "request-metrics", { bucket: bucket.bucketId, name: filterId });
      this.requestMetricsFilterId = filterId;
    }
  }

  /**
   * Lets `grantable` read, write and delete objects (including multipart uploads) and list the
   * bucket. Listing lets a missing key answer 404 instead of 403, and costs nothing in exposure: the
   * role can read every object anyway.
   */
  grantReadWrite(grantable: IGrantable): void {
    grantable.addToPolicy(allow(OBJECT_ACTIONS, [`${this.bucketArn}/*`]));
    grantable.addToPolicy(allow(["s3:ListBucket"], [this.bucketArn]));
  }

  private addCors(bucket: SecureBucket, cors: BucketCors): void {
    const allowedMethods = cors.allowedMethods ?? OBJECT_STORAGE_DEFAULTS.corsAllowedMethods;
    const maxAgeSeconds = cors.maxAgeSeconds ?? OBJECT_STORAGE_DEFAULTS.corsMaxAgeSeconds;
    if (cors.allowedOrigins.length === 0) throw propError(this, `cors.allowedOrigins`, `needs at least one origin (or leave cors out)`);
    cors.allowedOrigins.forEach((origin, i) => {
      if (origin === "*" || !/^https?:\/\/[^/\s]+$/.test(origin)) {
        throw propError(this, `cors.allowedOrigins[${i}]`, `must be one origin scheme://host[:port], not * or a path (got "${origin}")`);
      }
    });
    const known = ["GET", "PUT", "POST", "DELETE", "HEAD"];
    allowedMethods.forEach((method, i) => {
      if (!known.includes(method))
        throw propError(this, `cors.allowedMethods[${i}]`, `must be one of ${known.join(", ")} (got "${method}")`);
    });
    new S3BucketCorsConfiguration(this, "cors", {
      bucket: bucket.bucketId,
      corsRule: [
        {
          allowedOrigins: [...cors.allowedOrigins],
          allowedMethods: [...allowedMethods],
          allowedHeaders: ["*"],
          // Multipart uploads from a browser read the ETag of each part.
          exposeHeaders: ["ETag"],
          maxAgeSeconds,
        },
      ],
    });
  }
}

export interface ObjectStorageAlarmsProps {
  readonly bucketName: string;
  /** The request metrics' FilterId (`ObjectStorage.requestMetricsFilterId`). */
  readonly filterId: string;
  /** SNS topic ARN that receives both ALARM and OK notifications. */
  readonly topicArn: string;
  /**
   * Alarm when S3 answers more than this many requests with a 5xx in 5 minutes.
   * @default 5 - SDKs retry the odd 503 SlowDown; a steady stream is what matters
   */
  readonly serverErrorsPerFiveMinutes?: number;
}

/** An alarm on the bucket's 5xx answers; needs the bucket's request metrics on. */
export class ObjectStorageAlarms extends Construct {
  readonly alarmNames: string[];

  constructor(scope: Construct, id: string, props: ObjectStorageAlarmsProps) {
    super(scope, id);
    const threshold = props.serverErrorsPerFiveMinutes ?? 5;
    if (!Number.isInteger(threshold) || threshold < 0) {
      throw propError(this, `serverErrorsPerFiveMinutes`, `must be a whole number >= 0 (got ${threshold})`);
    }
    const naming = Naming.of(this);
    const alarm = metricAlarm(this, "5xx", {
      alarmName: naming.name("s3", "5xx"),
      description: `S3 ${props.bucketName}: more than ${threshold} requests answered with 5xx in 5 minutes; uploads and downloads are failing.`,
      namespace: "AWS/S3",
      metricName: "5xxErrors",
      dimensions: { BucketName: props.bucketName, FilterId: props.filterId },
      statistic: "Sum",
      evaluationPeriods: 1,
      comparison: "GreaterThanThreshold",
      threshold,
      // Request metrics exist only for minutes with requests: no requests, no errors.
      treatMissingData: "notBreaching",
      topicArn: props.topicArn,
    });
    this.alarmNames = [alarm.alarmName];
  }
}
