import type { Construct } from "constructs";
import type { SafeBucketConfig } from "../../config/schema";
import { ApplicationSecret } from "../../constructs/application-secret";
import { ObjectStorage, ObjectStorageAlarms } from "../../constructs/object-storage";
import { type Queue, QueueAlarms, SafeBucketQueues } from "../../constructs/queues";
import { RedisCache, RedisCacheAlarms } from "../../constructs/redis-cache";
import { Port, SecurityGroup } from "../../constructs/security-group";
import type { ApplicationData, ApplicationModule, CoreStacks } from "../application";
import type { DataStack } from "../data";
import type { NetworkStack } from "../network";
import type { ObservabilityStack } from "../observability";
import { SafeBucketDatabaseStack } from "./database";
import { ServicesStack } from "./services";
import { fromConfig } from "../config-errors";
import { SAFEBUCKET_DATA_OUTPUTS, SAFEBUCKET_NETWORK_OUTPUTS } from "./outputs";

/** Where the SafeBucket topic's key was before SafeBucket had its own module: it must not be replaced. */
const PREVIOUS_TOPIC_KEY = "aws_kms_key.rds-alerts_key_0740B668";

/**
 * SafeBucket: file sharing on S3, SQS and Redis, served by Fargate. Its data stores (bucket, queues,
 * Redis) live in the core data stack next to the database, its alarms on the core topic
 * (`<env>-alerts`); it adds `<env>-database` (its login role, database and secret value) and
 * `<env>-services` (the containers). Its grants are written once, on the task role that runs it.
 */
export class SafeBucket implements ApplicationModule {
  readonly alertTopic = { id: "alerts", nameParts: ["alerts"] } as const;
  readonly network: ApplicationModule["network"];
  private readonly handles: {
    cacheSubnetGroupName?: string;
    cacheSecurityGroup?: SecurityGroup;
    appSecret?: ApplicationSecret;
    objectStorage?: ObjectStorage;
    queues?: SafeBucketQueues;
    cache?: RedisCache;
  };

  constructor(readonly config: SafeBucketConfig) {
    // Outside production mail goes to Mailpit inside the VPC; only a relay needs the way out.
    this.handles = {};
    this.network = { cacheSubnetGroup: true, smtpPort: config.mail.smtpHost === undefined ? undefined : config.mail.smtpPort };
  }

  /** The handle a hook created, or a clear error when a later hook runs before it. */
  private get<K extends keyof SafeBucket["handles"]>(key: K): NonNullable<SafeBucket["handles"][K]> {
    const value = this.handles[key];
    if (value === undefined) throw new Error(`SafeBucket: ${key} is used before the stack that creates it was built`);
    return value as NonNullable<SafeBucket["handles"][K]>;
  }

  get objectStorage(): ObjectStorage {
    return this.get("objectStorage");
  }
  get queues(): SafeBucketQueues {
    return this.get("queues");
  }
  get cache(): RedisCache {
    return this.get("cache");
  }
  get appSecret(): ApplicationSecret {
    return this.get("appSecret");
  }

  /** The cache's security group: Redis only from the backend group. */
  addNetwork(stack: NetworkStack): void {
    const backend = stack.securityGroups.backend;
    const cache = new SecurityGroup(stack, "cache-sg", {
      vpcId: stack.vpc.vpcId,
      groupName: stack.naming.name("cache-sg"),
      description: "Redis: reachable only from the backend group",
    });
    cache.allowFrom(backend, Port.REDIS, "Redis from the backend");
    backend.allowTo(cache, Port.REDIS, "Redis to the cache");
    const subnetGroupName = stack.vpc.cacheSubnetGroupName;
    if (subnetGroupName === undefined) throw new Error("SafeBucket: the network stack was built without the cache subnet group");
    this.handles.cacheSecurityGroup = cache;
    this.handles.cacheSubnetGroupName = subnetGroupName;
    stack.declareOutputs(SAFEBUCKET_NETWORK_OUTPUTS, {
      elasticacheSubnetGroupName: { value: subnetGroupName, description: "Name of the ElastiCache subnet group over the private subnets" },
      cacheSecurityGroupId: { value: cache.securityGroupId, description: "ID of the cache security group" },
    });
  }

  /** Its secret's container, the queues, the object bucket and the Redis replication group. */
  addData(stack: DataStack): ApplicationData {
    const { credentials, objectStorage: storage, queues: queueSettings, cache: cacheSettings, protect, production } = this.config;
    const appSecret = new ApplicationSecret(stack, "app-secret", {
      secretName: credentials.secretName,
      description: "SafeBucket's database login, JWT secret and admin password; value written by the database stack",
      recoveryWindowDays: credentials.secretRecoveryWindowDays,
      protect,
    });
    const queues = fromConfig(this.config, "queues", () => new SafeBucketQueues(stack, "queues", queueSettings));
    const objectStorage = fromConfig(
      this.config,
      "objectStorage",
      () =>
        new ObjectStorage(stack, "object-storage", {
          bucketSuffix: storage.bucketSuffix,
          noncurrentVersionExpirationDays: storage.noncurrentVersionExpirationDays,
          cors:
            storage.corsAllowedOrigins.length === 0
              ? undefined
              : {
                  allowedOrigins: storage.corsAllowedOrigins,
                  allowedMethods: storage.corsAllowedMethods,
                  maxAgeSeconds: storage.corsMaxAgeSeconds,
                },
          eventsQueue: storage.eventNotifications ? queues.events : undefined,
          requestMetrics: storage.requestMetrics,
          protect,
        }),
    );
    const cache = fromConfig(
      this.config,
      "cache",
      () =>
        new RedisCache(stack, "redis", {
          subnetGroupName: this.get("cacheSubnetGroupName"),
          securityGroupIds: [this.get("cacheSecurityGroup").securityGroupId],
          nodeType: cacheSettings.nodeType,
          engineVersion: cacheSettings.engineVersion,
          numNodes: cacheSettings.numNodes,
          snapshotRetentionDays: cacheSettings.snapshotRetentionDays,
          snapshotWindow: cacheSettings.snapshotWindow,
          maintenanceWindow: cacheSettings.maintenanceWindow,
          slowLogRetentionDays: cacheSettings.slowLogRetentionDays,
          finalSnapshot: production,
        }),
    );
    Object.assign(this.handles, { appSecret, queues, objectStorage, cache });

    const queue = (q: Queue) => ({
      url: { value: q.queueUrl, description: `URL of the ${q.purpose} queue` },
      arn: { value: q.queueArn, description: `ARN of the ${q.purpose} queue` },
      dlqArn: { value: q.deadLetterQueueArn, description: `ARN of the ${q.purpose} dead-letter queue` },
    });
    const [events, notifications, objectDeletion] = [queues.events, queues.notifications, queues.objectDeletion].map(queue);
    stack.declareOutputs(SAFEBUCKET_DATA_OUTPUTS, {
      bucketName: { value: objectStorage.bucketName, description: "Name of the object bucket" },
      bucketArn: { value: objectStorage.bucketArn, description: "ARN of the object bucket" },
      redisEndpoint: { value: cache.primaryEndpointAddress, description: "Primary endpoint of the Redis replication group (TLS only)" },
      redisReaderEndpoint: { value: cache.readerEndpointAddress, description: "Reader endpoint of the Redis replication group" },
      redisPort: { value: cache.port, description: "Redis port" },
      redisUserName: { value: cache.userName, description: "Redis user the application connects as, with an IAM auth token" },
      redisReplicationGroupId: { value: cache.replicationGroupId, description: "ElastiCache replication group id" },
      s3EventsQueueUrl: events.url,
      s3EventsQueueArn: events.arn,
      s3EventsDlqArn: events.dlqArn,
      notificationsQueueUrl: notifications.url,
      notificationsQueueArn: notifications.arn,
      notificationsDlqArn: notifications.dlqArn,
      objectDeletionQueueUrl: objectDeletion.url,
      objectDeletionQueueArn: objectDeletion.arn,
      objectDeletionDlqArn: objectDeletion.dlqArn,
    });
    return { appSecret, appSecrets: [appSecret] };
  }

  /** Alarms on the queues, the cache and (with request metrics) the bucket's 5xx. */
  addObservability(stack: ObservabilityStack): string[] {
    // The topic was created as StartupWebApp's `rds-alerts` before SafeBucket had its own module.
    // The topic itself is renamed (a new topic; e-mail subscriptions confirm again), its key stays.
    stack.alarmTopic.kmsKey.moveFromId(PREVIOUS_TOPIC_KEY);
    const topicArn = stack.alarmTopic.topicArn;
    const { queues, cache } = this.config;
    const objectStorage = this.objectStorage;
    return [
      ...fromConfig(
        this.config,
        "queues",
        () =>
          new QueueAlarms(stack, "queue-alarms", {
            queues: this.queues.all,
            topicArn,
            oldestMessageAgeSeconds: queues.oldestMessageAlarmSeconds,
          }),
        { oldestMessageAgeSeconds: "oldestMessageAlarmSeconds" },
      ).alarmNames,
      ...fromConfig(
        this.config,
        "cache",
        () =>
          new RedisCacheAlarms(stack, "redis-alarms", {
            cache: this.cache,
            topicArn,
            cpuHighPercent: cache.cpuHighPercent,
            memoryHighPercent: cache.memoryHighPercent,
          }),
      ).alarmNames,
      // Only with request metrics: S3 publishes no 5xx count without them, and they are billed.
      ...(objectStorage.requestMetricsFilterId
        ? new ObjectStorageAlarms(stack, "s3-alarms", {
            bucketName: objectStorage.bucketName,
            filterId: objectStorage.requestMetricsFilterId,
            topicArn,
          }).alarmNames
        : []),
    ];
  }

  addStacks(scope: Construct, core: CoreStacks): { database: SafeBucketDatabaseStack; services: ServicesStack } {
    const database = new SafeBucketDatabaseStack(scope, { config: this.config, data: core.data });
    // The tunnel to the database runs through the access stack's bastion.
    database.addDependency(core.access);
    // Created last: security group rules that name earlier stacks' groups are placed in the later stack.
    const services = new ServicesStack(scope, { config: this.config, core, app: this });
    services.addDependency(database);
    services.addDependency(core.observability);
    return { database, services };
  }
}
