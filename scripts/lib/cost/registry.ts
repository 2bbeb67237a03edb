/**
 * Which pricer prices which resource type, in the order the table lists them within a stack. A type
 * missing here is not priced: add its typed view (resources.ts) and a pricer (pricers/) together.
 */
import type { Pricer } from "./pricer";
import { ec2Instances, ecsServices, loadBalancers } from "./pricers/compute";
import { dbInstances, elastiCacheClusters, elastiCacheReplicationGroups } from "./pricers/database";
import { cloudFrontDistributions } from "./pricers/edge";
import { sesIdentities, snsSubscriptions, sqsQueues } from "./pricers/messaging";
import { dashboards, logGroups, metricAlarms } from "./pricers/monitoring";
import { elasticIps, flowLogs, natGateways } from "./pricers/network";
import { acmCertificates, kmsKeys, secrets } from "./pricers/security";
import { ecrRepositories, s3Buckets } from "./pricers/storage";
import type { ResourceType } from "./resources";

/** Types read only by another type's pricer: an instance's state, a service's task definition, a repository's lifecycle policy. */
type ReadByOthers = "aws_ec2_instance_state" | "aws_ecs_task_definition" | "aws_ecr_lifecycle_policy";

export type PricedType = Exclude<ResourceType, ReadByOthers>;

export const PRICERS: { readonly [K in PricedType]: Pricer<K> } = {
  aws_db_instance: dbInstances,
  aws_instance: ec2Instances,
  aws_nat_gateway: natGateways,
  aws_eip: elasticIps,
  aws_lb: loadBalancers,
  aws_ecs_service: ecsServices,
  aws_flow_log: flowLogs,
  aws_cloudwatch_log_group: logGroups,
  aws_cloudwatch_metric_alarm: metricAlarms,
  aws_cloudwatch_dashboard: dashboards,
  aws_sns_topic_subscription: snsSubscriptions,
  aws_secretsmanager_secret: secrets,
  aws_kms_key: kmsKeys,
  aws_elasticache_replication_group: elastiCacheReplicationGroups,
  aws_elasticache_cluster: elastiCacheClusters,
  aws_sesv2_email_identity: sesIdentities,
  aws_s3_bucket: s3Buckets,
  aws_sqs_queue: sqsQueues,
  aws_ecr_repository: ecrRepositories,
  aws_acm_certificate: acmCertificates,
  aws_cloudfront_distribution: cloudFrontDistributions,
};

/** The registry's types in its order. */
export const PRICED_TYPES = Object.keys(PRICERS) as PricedType[];
