/**
 * SafeBucket's stack outputs, by layer (see stacks/outputs.ts): what it adds to the core network and
 * data stacks, and its own layers'. Light, so scripts import the names without loading cdktf.
 */
import type { OutputNames } from "../outputs";

/** Added to `<env>-network`: the cache's subnet group and security group. */
export const SAFEBUCKET_NETWORK_OUTPUTS = {
  elasticacheSubnetGroupName: "elasticache_subnet_group_name",
  cacheSecurityGroupId: "cache_security_group_id",
} as const satisfies OutputNames;

/** Added to `<env>-data`: the object bucket, the Redis replication group and each queue (URL, ARN, dead-letter ARN). */
export const SAFEBUCKET_DATA_OUTPUTS = {
  bucketName: "bucket_name",
  bucketArn: "bucket_arn",
  redisEndpoint: "redis_endpoint",
  redisReaderEndpoint: "redis_reader_endpoint",
  redisPort: "redis_port",
  redisUserName: "redis_user_name",
  redisReplicationGroupId: "redis_replication_group_id",
  s3EventsQueueUrl: "s3_events_queue_url",
  s3EventsQueueArn: "s3_events_queue_arn",
  s3EventsDlqArn: "s3_events_dlq_arn",
  notificationsQueueUrl: "notifications_queue_url",
  notificationsQueueArn: "notifications_queue_arn",
  notificationsDlqArn: "notifications_dlq_arn",
  objectDeletionQueueUrl: "object_deletion_queue_url",
  objectDeletionQueueArn: "object_deletion_queue_arn",
  objectDeletionDlqArn: "object_deletion_dlq_arn",
} as const satisfies OutputNames;

/** `<env>-database`. */
export const DATABASE_OUTPUTS = {
  databaseName: "database_name",
  databaseUsername: "database_username",
} as const satisfies OutputNames;

/** `<env>-services`; `mailpitUiTunnelCommand` only with Mailpit and a bastion. */
export const SERVICES_OUTPUTS = {
  ecsClusterName: "ecs_cluster_name",
  ecsClusterArn: "ecs_cluster_arn",
  ecsServiceNames: "ecs_service_names",
  logGroupNames: "log_group_names",
  albDnsName: "alb_dns_name",
  albZoneId: "alb_zone_id",
  appUrl: "app_url",
  albAccessLogsBucket: "alb_access_logs_bucket",
  lokiBucketName: "loki_bucket_name",
  serviceDiscoveryNamespace: "service_discovery_namespace",
  safebucketTaskRoleArn: "safebucket_task_role_arn",
  mailpitUiTunnelCommand: "mailpit_ui_tunnel_command",
} as const satisfies OutputNames;
