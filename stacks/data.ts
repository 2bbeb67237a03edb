import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { ApplicationSecret } from "../constructs/application-secret";
import { ObjectStorage } from "../constructs/object-storage";
import { PostgresInstance } from "../constructs/postgres-instance";
import { SafeBucketQueues } from "../constructs/queues";
import { RedisCache } from "../constructs/redis-cache";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";

export interface DataStackProps {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
}

/**
 * `<env>-data`: the PostgreSQL instance (in the network stack's DB subnet group, behind its database
 * security group) and the container of the application secret whose value the tenants stack writes.
 */
export class DataStack extends EnvironmentStack {
  readonly database: PostgresInstance;
  readonly appSecret: ApplicationSecret;
  /**
   * The secret each tenant database's credentials go into, by database name: the application secret
   * for every database when `tenants.isolation` is "shared", one `<secretName>/<database>` each when
   * "per-database". The tenants stack writes their values.
   */
  readonly tenantSecrets: Readonly<Record<string, ApplicationSecret>>;

  readonly instanceIdentifier: string;
  readonly instanceResourceId: string;
  readonly address: string;
  readonly port: number;
  readonly masterUsername: string;
  readonly masterSecretArn: string;
  readonly appSecretArn: string;
  readonly appSecretName: string;
  /** Undefined when enhanced monitoring is off (`database.monitoringIntervalSeconds: 0`). */
  readonly monitoringRoleArn?: string;
  /** SafeBucket's components, each set when `components.<name>` is on. */
  readonly objectStorage?: ObjectStorage;
  readonly queues?: SafeBucketQueues;
  readonly cache?: RedisCache;

  constructor(scope: Construct, props: DataStackProps) {
    super(scope, { config: props.config, layer: "data" });
    const { database: db, tenants, protect } = this.config;
    const { network } = props;

    this.database = new PostgresInstance(this, "postgres", {
      identifier: db.identifier,
      subnetGroupName: network.dbSubnetGroupName,
      securityGroupIds: [network.databaseSecurityGroupId],
      engineVersion: db.engineVersion,
      // engineVersion changes only through a reviewed config change; without this AWS rejects it.
      allowMajorVersionUpgrade: true,
      instanceClass: db.instanceClass,
      allocatedStorageGb: db.allocatedStorageGb,
      maxAllocatedStorageGb: db.maxAllocatedStorageGb,
      backupRetentionDays: db.backupRetentionDays,
      backupWindow: db.backupWindow,
      maintenanceWindow: db.maintenanceWindow,
      multiAz: db.multiAz,
      deletionProtection: db.deletionProtection,
      skipFinalSnapshot: db.skipFinalSnapshot,
      performanceInsightsRetentionDays: db.performanceInsightsRetentionDays,
      monitoringIntervalSeconds: db.monitoringIntervalSeconds,
      logRetentionDays: db.logRetentionDays,
      logMinDurationStatementMs: db.logMinDurationStatementMs,
      protect,
    });
    this.appSecret = new ApplicationSecret(this, "app-secret", {
      secretName: tenants.secretName,
      recoveryWindowDays: tenants.secretRecoveryWindowDays,
      protect,
    });
    this.tenantSecrets = Object.fromEntries(
      tenants.databases.map((name) => [
        name,
        tenants.isolation === "shared"
          ? this.appSecret
          : new ApplicationSecret(this, `secret-${name}`, {
              secretName: `${tenants.secretName}/${name}`,
              description: `Credentials of tenant database ${name}; value written by the tenants stack`,
              recoveryWindowDays: tenants.secretRecoveryWindowDays,
              protect,
            }),
      ]),
    );

    this.instanceIdentifier = this.database.instanceIdentifier;
    this.instanceResourceId = this.database.instanceResourceId;
    this.address = this.database.address;
    this.port = this.database.port;
    this.masterUsername = this.database.masterUsername;
    this.masterSecretArn = this.database.masterSecretArn;
    this.monitoringRoleArn = this.database.monitoringRoleArn;
    this.appSecretArn = this.appSecret.secretArn;
    this.appSecretName = this.appSecret.secretName;

    const { components, objectStorage: storage, queues, cache } = this.config;
    if (components.queues) this.queues = new SafeBucketQueues(this, "queues", queues);
    if (components.objectStorage) {
      this.objectStorage = new ObjectStorage(this, "object-storage", {
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
        eventsQueue: storage.eventNotifications ? this.queues?.events : undefined,
        requestMetrics: storage.requestMetrics,
        protect,
      });
    }
    if (components.cache) {
      if (!network.cacheSubnetGroupName || !network.securityGroups.cache) {
        throw new Error("components.cache: the network stack was built without the cache subnet group and security group");
      }
      this.cache = new RedisCache(this, "redis", {
        subnetGroupName: network.cacheSubnetGroupName,
        securityGroupIds: [network.securityGroups.cache.securityGroupId],
        nodeType: cache.nodeType,
        engineVersion: cache.engineVersion,
        numNodes: cache.numNodes,
        snapshotRetentionDays: cache.snapshotRetentionDays,
        snapshotWindow: cache.snapshotWindow,
        maintenanceWindow: cache.maintenanceWindow,
        slowLogRetentionDays: cache.slowLogRetentionDays,
        finalSnapshot: this.config.production,
      });
    }

    const outputs: Record<string, [string | number, string]> = {
      db_instance_identifier: [this.instanceIdentifier, "RDS instance identifier"],
      db_instance_address: [this.address, "Host name of the instance (private: reach it through the bastion)"],
      db_instance_port: [this.port, "PostgreSQL port"],
      db_instance_resource_id: [this.instanceResourceId, "RDS resource id (db-...) of the instance"],
      db_instance_master_user_secret_arn: [this.masterSecretArn, "ARN of the RDS-managed secret with the master credentials"],
      app_secret_arn: [this.appSecretArn, "ARN of the application secret"],
      app_secret_name: [this.appSecretName, "Name of the application secret (the app's DB_SECRET_NAME)"],
    };
    if (this.objectStorage) {
      outputs.bucket_name = [this.objectStorage.bucketName, "Name of the object bucket"];
      outputs.bucket_arn = [this.objectStorage.bucketArn, "ARN of the object bucket"];
    }
    for (const queue of this.queues?.all ?? []) {
      const name = queue.purpose.replace(/-/g, "_");
      outputs[`${name}_queue_url`] = [queue.queueUrl, `URL of the ${queue.purpose} queue`];
      outputs[`${name}_queue_arn`] = [queue.queueArn, `ARN of the ${queue.purpose} queue`];
      outputs[`${name}_dlq_arn`] = [queue.deadLetterQueueArn, `ARN of the ${queue.purpose} dead-letter queue`];
    }
    if (this.cache) {
      outputs.redis_endpoint = [this.cache.primaryEndpointAddress, "Primary endpoint of the Redis replication group (TLS only)"];
      outputs.redis_reader_endpoint = [this.cache.readerEndpointAddress, "Reader endpoint of the Redis replication group"];
      outputs.redis_port = [this.cache.port, "Redis port"];
      outputs.redis_user_name = [this.cache.userName, "Redis user the application connects as, with an IAM auth token"];
      outputs.redis_replication_group_id = [this.cache.replicationGroupId, "ElastiCache replication group id"];
    }
    for (const [name, [value, description]] of Object.entries(outputs)) new TerraformOutput(this, name, { value, description });
  }
}
