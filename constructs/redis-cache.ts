import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { Construct } from "constructs";
import { metricAlarm } from "./alarm";
import { LIMITS } from "./aws-limits";
import { FINAL_SNAPSHOT_IGNORED, finalSnapshotName } from "./final-snapshot";
import { allow } from "./iam";
import { Naming } from "./naming";
import type { IGrantable } from "./role";
import { propError } from "./errors";

/** Redis's well-known port; the cache security group opens exactly this one. */
export const REDIS_PORT = 6379;

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const REDIS_DEFAULTS = {
  nodeType: "cache.t4g.micro",
  engineVersion: "7.1",
  numNodes: 1,
  snapshotRetentionDays: 5,
  snapshotWindow: "03:00-05:00",
  maintenanceWindow: "sun:05:00-sun:07:00",
  slowLogRetentionDays: 30,
  cpuHighPercent: 70,
  memoryHighPercent: 80,
} as const;

export interface RedisCacheProps {
  /** ElastiCache subnet group over the private subnets (from the network stack). */
  readonly subnetGroupName: string;
  /** Security groups of the nodes; the network stack's cache group lets the backend in on 6379. */
  readonly securityGroupIds: readonly string[];
  /**
   * The replication group's id (at most 40 of a-z, 0-9, '-', starting with a letter).
   * @default - `<project>-<env>-redis`
   */
  readonly replicationGroupId?: string;
  /**
   * @default "cache.t4g.micro"
   */
  readonly nodeType?: string;
  /**
   * Redis OSS 7 version; IAM authentication needs 7 or later.
   * @default "7.1"
   */
  readonly engineVersion?: "7.0" | "7.1";
  /**
   * Nodes: a primary plus read replicas (1-6). Two or more turn on Multi-AZ with automatic failover,
   * so losing the primary's AZ promotes a replica in another.
   * @default 1
   */
  readonly numNodes?: number;
  /**
   * Days daily snapshots are kept (0-35; 0 takes none).
   * @default 5
   */
  readonly snapshotRetentionDays?: number;
  /**
   * Daily snapshot window, UTC, at least 60 minutes.
   * @default "03:00-05:00"
   */
  readonly snapshotWindow?: string;
  /**
   * Weekly maintenance window, UTC, at least 60 minutes, not overlapping the snapshot window.
   * @default "sun:05:00-sun:07:00"
   */
  readonly maintenanceWindow?: string;
  /**
   * Days the slow log is kept in CloudWatch; one of CloudWatch's retention periods.
   * @default 30
   */
  readonly slowLogRetentionDays?: number;
  /**
   * Take a snapshot named `<replicationGroupId>-final` when the group is destroyed.
   * @default true
   */
  readonly finalSnapshot?: boolean;
  /**
   * What the application user may do, as a Redis ACL rule.
   * @default "on ~* &* +@all" - every key and channel; ElastiCache already blocks the admin commands
   */
  readonly accessString?: string;
}

/**
 * A Redis 7 replication group in private subnets: encrypted at rest and in transit (TLS required),
 * `allkeys-lru` eviction, slow log to CloudWatch, snapshots and maintenance in set windows.
 *
 * Who may connect is decided by a user group attached to it, with two users:
 * - the application user, authenticated through IAM (`authentication_mode` `iam`): the client signs a
 *   short-lived token with its role's credentials, so no password exists anywhere. The AWS provider
 *   5.100 has no write-only password argument for `aws_elasticache_user` (nor `auth_token`), so a
 *   password would have to sit in the state; IAM authentication needs none. `grantConnect` lets a role
 *   connect as this user.
 * - a user named `default`, which ElastiCache requires in every user group, switched off with no
 *   permissions: the built-in passwordless `default` user can then never connect.
 */
export class RedisCache extends Construct {
  /** The plain id (known at synth), so alarms in another stack need no cross-stack output. */
  readonly replicationGroupId: string;
  readonly replicationGroupArn: string;
  /** Address of the primary node; clients connect with TLS. */
  readonly primaryEndpointAddress: string;
  /** Address spreading reads over the replicas. */
  readonly readerEndpointAddress: string;
  readonly port: number;
  /** The Redis user name the application connects as (equal to its user id, as IAM auth requires). */
  readonly userName: string;
  readonly userArn: string;
  /** Undefined: the application user authenticates through IAM and has no password to store. */
  readonly secretArn?: string;
  /** The member clusters' ids (`<group>-001`, ...): the CacheClusterId dimension of node metrics. */
  readonly memberClusterIds: string[];
  readonly slowLogGroupName: string;
  readonly numNodes: number;

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const replicationGroupId = props.replicationGroupId ?? naming.name("redis");
    const nodeType = props.nodeType ?? REDIS_DEFAULTS.nodeType;
    const engineVersion = props.engineVersion ?? REDIS_DEFAULTS.engineVersion;
    const numNodes = props.numNodes ?? REDIS_DEFAULTS.numNodes;
    const snapshotRetentionDays = props.snapshotRetentionDays ?? REDIS_DEFAULTS.snapshotRetentionDays;
    const snapshotWindow = props.snapshotWindow ?? REDIS_DEFAULTS.snapshotWindow;
    const maintenanceWindow = props.maintenanceWindow ?? REDIS_DEFAULTS.maintenanceWindow;
    const slowLogRetentionDays = props.slowLogRetentionDays ?? REDIS_DEFAULTS.slowLogRetentionDays;
    const finalSnapshot = props.finalSnapshot ?? true;
    const accessString = props.accessString ?? "on ~* &* +@all";
    const userName = `${replicationGroupId}-app`;
    this.check(replicationGroupId, numNodes, snapshotRetentionDays, slowLogRetentionDays, props);
    const multiAz = numNodes >= 2;

    const parameters = new ElasticacheParameterGroup(this, "parameters", {
      name: `${replicationGroupId}-redis7`,
      family: "redis7",
      description: "Evicts the least recently used key of any kind when memory is full (a cache, not a store)",
      parameter: [{ name: "maxmemory-policy", value: "allkeys-lru" }],
      tags: naming.tags("redis7"),
    });

    const appUser = new ElasticacheUser(this, "app-user", {
      // IAM authentication requires the user id and the user name to be the same.
      userId: userName,
      userName,
      engine: "redis",
      accessString,
      authenticationMode: { type: "iam" },
      tags: { Name: userName },
    });
    // ElastiCache refuses a user group without a user named `default`; this one is off and may run nothing.
    const defaultUser = new ElasticacheUser(this, "default-user", {
      userId: `${replicationGroupId}-default`,
      userName: "default",
      engine: "redis",
      accessString: "off -@all",
      authenticationMode: { type: "no-password-required" },
      tags: { Name: `${replicationGroupId}-default` },
    });
    const userGroup = new ElasticacheUserGroup(this, "user-group", {
      userGroupId: replicationGroupId,
      engine: "redis",
      userIds: [defaultUser.userId, appUser.userId],
      tags: naming.tags("redis", "users"),
    });

    const slowLog = new CloudwatchLogGroup(this, "slow-log", {
      name: `/aws/elasticache/${replicationGroupId}/slow-log`,
      retentionInDays: slowLogRetentionDays,
      tags: naming.tags("redis", "slow-log"),
    });

    const group = new ElasticacheReplicationGroup(this, "group", {
      replicationGroupId,
      description: `Redis ${engineVersion}, ${numNodes} node(s) of ${nodeType}, IAM-authenticated users only`,
      engine: "redis",
      engineVersion,
      nodeType,
      numCacheClusters: numNodes,
      port: REDIS_PORT,
      parameterGroupName: parameters.name,
      subnetGroupName: props.subnetGroupName,
      securityGroupIds: [...props.securityGroupIds],
      atRestEncryptionEnabled: "true",
      transitEncryptionEnabled: true,
      // `required`: plaintext connections are refused, not merely allowed alongside TLS.
      transitEncryptionMode: "required",
      userGroupIds: [userGroup.userGroupId],
      automaticFailoverEnabled: multiAz,
      multiAzEnabled: multiAz,
      autoMinorVersionUpgrade: "true",
      snapshotRetentionLimit: snapshotRetentionDays,
      snapshotWindow,
      maintenanceWindow,
      finalSnapshotIdentifier: finalSnapshot ? finalSnapshotName(replicationGroupId) : undefined,
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      tags: naming.tags("redis"),
      lifecycle: { ignoreChanges: [FINAL_SNAPSHOT_IGNORED] },
    });

    this.replicationGroupId = replicationGroupId;
    this.replicationGroupArn = group.arn;
    this.primaryEndpointAddress = group.primaryEndpointAddress;
    this.readerEndpointAddress = group.readerEndpointAddress;
    this.port = REDIS_PORT;
    this.userName = userName;
    this.userArn = appUser.arn;
    this.secretArn = undefined;
    // ElastiCache numbers the member clusters of a group without cluster mode 001, 002, ...
    this.memberClusterIds = Array.from({ length: numNodes }, (_, i) => `${replicationGroupId}-${String(i + 1).padStart(3, "0")}`);
    this.slowLogGroupName = slowLog.name;
    this.numNodes = numNodes;
  }

  /**
   * Lets `grantable` connect as the application user: `elasticache:Connect` on this group and this
   * user. The client then signs an IAM auth token (valid 15 minutes) and sends it as the password of
   * `AUTH <userName> <token>` over TLS; ElastiCache closes IAM connections after 12 hours.
   */
  grantConnect(grantable: IGrantable): void {
    grantable.addToPolicy(allow(["elasticache:Connect"], [this.replicationGroupArn, this.userArn]));
  }

  private check(
    groupId: string,
    numNodes: number,
    snapshotRetentionDays: number,
    slowLogRetentionDays: number,
    props: RedisCacheProps,
  ): void {
    // ElastiCache ids: letters, digits and single hyphens, starting with a letter; the group's at most
    // 40, and the user ids add "-app" and "-default" within the same limit.
    if (!/^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/.test(groupId) || groupId.length > 32) {
      throw propError(this, "replicationGroupId", `must be 2-32 of a-z, 0-9, single '-', starting with a letter (got "${groupId}")`);
    }
    if (!LIMITS.cacheNumNodes.check(numNodes)) throw propError(this, "numNodes", `${LIMITS.cacheNumNodes.rule} (got ${numNodes})`);
    if (!LIMITS.cacheSnapshotRetentionDays.check(snapshotRetentionDays)) {
      throw propError(this, "snapshotRetentionDays", `${LIMITS.cacheSnapshotRetentionDays.rule} (got ${snapshotRetentionDays})`);
    }
    if (!LIMITS.logRetentionDays.check(slowLogRetentionDays)) {
      throw propError(this, "slowLogRetentionDays", `${LIMITS.logRetentionDays.rule} (got ${slowLogRetentionDays})`);
    }
    if (props.nodeType !== undefined && !LIMITS.cacheNodeType.check(props.nodeType)) {
      throw propError(this, "nodeType", `${LIMITS.cacheNodeType.rule} (got "${props.nodeType}")`);
    }
    if (props.securityGroupIds.length === 0) {
      throw propError(this, "securityGroupIds", `needs at least one group; without one the nodes get the VPC's default group`);
    }
  }
}

export interface RedisCacheAlarmsProps {
  readonly cache: RedisCache;
  /** SNS topic ARN that receives both ALARM and OK notifications. */
  readonly topicArn: string;
  /**
   * Alarm when a node's Redis engine thread stays above this CPU percentage for 10 minutes.
   * @default 70
   */
  readonly cpuHighPercent?: number;
  /**
   * Alarm when a node's used memory stays above this percentage of maxmemory for 10 minutes.
   * @default 80
   */
  readonly memoryHighPercent?: number;
}

/**
 * Per node: engine CPU (Redis runs commands on one thread, so host CPU hides a saturated engine on
 * multi-core nodes) and memory use (past maxmemory, `allkeys-lru` evicts keys the app may still want).
 */
export class RedisCacheAlarms extends Construct {
  readonly alarmNames: string[];

  constructor(scope: Construct, id: string, props: RedisCacheAlarmsProps) {
    super(scope, id);
    const cpuHighPercent = props.cpuHighPercent ?? REDIS_DEFAULTS.cpuHighPercent;
    const memoryHighPercent = props.memoryHighPercent ?? REDIS_DEFAULTS.memoryHighPercent;
    for (const [prop, value] of [
      ["cpuHighPercent", cpuHighPercent],
      ["memoryHighPercent", memoryHighPercent],
    ] as const) {
      if (!LIMITS.alarmPercent.check(value)) throw propError(this, prop, `${LIMITS.alarmPercent.rule} (got ${value})`);
    }
    const naming = Naming.of(this);
    const specs = [
      { purpose: "cpu-high", metricName: "EngineCPUUtilization", threshold: cpuHighPercent, what: "Redis engine CPU" },
      {
        purpose: "memory-high",
        metricName: "DatabaseMemoryUsagePercentage",
        threshold: memoryHighPercent,
        what: "used memory (percent of maxmemory)",
      },
    ];
    this.alarmNames = props.cache.memberClusterIds.flatMap((clusterId, i) => {
      const node = String(i + 1).padStart(3, "0");
      return specs.map(
        (spec) =>
          metricAlarm(this, `${node}-${spec.purpose}`, {
            alarmName: naming.name("redis", node, spec.purpose),
            description: `ElastiCache ${clusterId}: average ${spec.what} above ${spec.threshold}% for 10 minutes.`,
            namespace: "AWS/ElastiCache",
            metricName: spec.metricName,
            // Each member cluster of a replication group has one node, 0001.
            dimensions: { CacheClusterId: clusterId, CacheNodeId: "0001" },
            statistic: "Average",
            evaluationPeriods: 2,
            comparison: "GreaterThanThreshold",
            threshold: spec.threshold,
            topicArn: props.topicArn,
          }).alarmName,
      );
    });
  }
}
