/**
 * Typed views of the synthesized resource blocks the pricers read. They describe the cdk.tf.json
 * this project writes, not every shape Terraform accepts: a value Terraform resolves at apply time
 * is a `${...}` string there (a Token), so every field a pricer computes with is checked before use.
 */

/** `${aws_ecs_task_definition.app.arn}`: resolved by Terraform at apply time. */
export type Token = string;

export const isToken = (v: unknown): v is Token => typeof v === "string" && v.includes("${");

/** `value` when it is a number the JSON states, else `fallback` (absent, or a Token). */
export const numberOr = (value: unknown, fallback: number): number => (typeof value === "number" ? value : fallback);

/** A nested block cdktf writes as an object or, for some, as a one-element list. */
type Nested<T> = T | readonly T[];

export const firstOf = <T>(block: Nested<T> | undefined): T | undefined =>
  Array.isArray(block) ? (block as readonly T[])[0] : (block as T | undefined);

interface Base {
  readonly count?: number | Token;
  readonly tags?: Readonly<Record<string, string>>;
}

export interface DbInstanceBlock extends Base {
  readonly identifier?: string;
  readonly instance_class?: string;
  readonly multi_az?: boolean;
  readonly storage_type?: string;
  readonly allocated_storage?: number;
  readonly max_allocated_storage?: number;
  readonly monitoring_interval?: number;
  readonly performance_insights_enabled?: boolean;
  readonly performance_insights_retention_period?: number;
  readonly enabled_cloudwatch_logs_exports?: readonly string[];
  readonly manage_master_user_password?: boolean;
}

export interface InstanceBlock extends Base {
  readonly instance_type?: string;
  readonly associate_public_ip_address?: boolean;
  readonly root_block_device?: Nested<{ readonly volume_size?: number; readonly volume_type?: string }>;
}

export interface InstanceStateBlock extends Base {
  readonly instance_id?: Token;
  readonly state?: "running" | "stopped";
}

export interface NatGatewayBlock extends Base {
  readonly connectivity_type?: "public" | "private";
}

export type EipBlock = Base;

export interface LbBlock extends Base {
  readonly load_balancer_type?: "application" | "network" | "gateway";
  readonly internal?: boolean;
  readonly subnets?: readonly string[] | Token;
}

export interface EcsTaskDefinitionBlock extends Base {
  /** CPU units (1024 = 1 vCPU) and MiB, as strings. */
  readonly cpu?: string | number;
  readonly memory?: string | number;
  readonly runtime_platform?: Nested<{ readonly cpu_architecture?: "X86_64" | "ARM64" }>;
}

export interface EcsServiceBlock extends Base {
  readonly name?: string;
  readonly task_definition?: Token;
  readonly desired_count?: number;
  readonly capacity_provider_strategy?: readonly { readonly capacity_provider?: string }[];
  readonly lifecycle?: { readonly ignore_changes?: readonly string[] | string };
  readonly network_configuration?: Nested<{ readonly assign_public_ip?: boolean }>;
}

export interface FlowLogBlock extends Base {
  readonly log_destination_type?: "cloud-watch-logs" | "s3" | "kinesis-data-firehose";
}

export interface LogGroupBlock extends Base {
  readonly name?: string;
}

export interface ElastiCacheReplicationGroupBlock extends Base {
  readonly node_type?: string;
  readonly num_cache_clusters?: number;
}

export interface ElastiCacheClusterBlock extends Base {
  readonly node_type?: string;
  readonly num_cache_nodes?: number;
}

export interface CloudFrontDistributionBlock extends Base {
  readonly enabled?: boolean;
  readonly price_class?: "PriceClass_All" | "PriceClass_200" | "PriceClass_100";
  readonly aliases?: readonly string[];
}

export interface EcrRepositoryBlock extends Base {
  readonly name?: string;
}

export interface EcrLifecyclePolicyBlock extends Base {
  /** The repository's name, usually a Token of its resource. */
  readonly repository?: string;
  /** The policy document as JSON text (a Token when built with a Terraform function). */
  readonly policy?: string;
}

export interface AcmCertificateBlock extends Base {
  readonly domain_name?: string;
  /** Set for a private certificate issued by AWS Private CA. */
  readonly certificate_authority_arn?: string;
}

/** Blocks read only to be counted, or for a note. */
export type CountedBlock = Base;

/** Every resource type a pricer reads, with the view it reads it through. */
export interface ResourceBlocks {
  aws_db_instance: DbInstanceBlock;
  aws_instance: InstanceBlock;
  aws_ec2_instance_state: InstanceStateBlock;
  aws_nat_gateway: NatGatewayBlock;
  aws_eip: EipBlock;
  aws_lb: LbBlock;
  aws_ecs_task_definition: EcsTaskDefinitionBlock;
  aws_ecs_service: EcsServiceBlock;
  aws_flow_log: FlowLogBlock;
  aws_cloudwatch_log_group: LogGroupBlock;
  aws_cloudwatch_metric_alarm: CountedBlock;
  aws_cloudwatch_dashboard: CountedBlock;
  aws_sns_topic_subscription: CountedBlock;
  aws_secretsmanager_secret: CountedBlock;
  aws_kms_key: CountedBlock;
  aws_elasticache_replication_group: ElastiCacheReplicationGroupBlock;
  aws_elasticache_cluster: ElastiCacheClusterBlock;
  aws_sesv2_email_identity: CountedBlock;
  aws_s3_bucket: CountedBlock;
  aws_sqs_queue: CountedBlock;
  aws_cloudfront_distribution: CloudFrontDistributionBlock;
  aws_ecr_repository: EcrRepositoryBlock;
  aws_ecr_lifecycle_policy: EcrLifecyclePolicyBlock;
  aws_acm_certificate: AcmCertificateBlock;
}

export type ResourceType = keyof ResourceBlocks;

/** One resource of a stack: its key in cdk.tf.json (`postgres_instance_919E2690`) and its block. */
export interface Resource<K extends ResourceType> {
  readonly key: string;
  readonly block: ResourceBlocks[K];
}

/** The parts of a synthesized cdk.tf.json the estimate reads. */
export interface TerraformDocument {
  readonly provider?: { readonly aws?: readonly { readonly region?: unknown }[] };
  readonly resource?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** One stack's resources by type, read through the views above. */
export class StackResources {
  constructor(private readonly document: TerraformDocument) {}

  /** Every resource of `type`, in the document's order. */
  of<K extends ResourceType>(type: K): Resource<K>[] {
    const blocks = (this.document.resource?.[type] ?? {}) as Readonly<Record<string, ResourceBlocks[K]>>;
    return Object.entries(blocks).map(([key, block]) => ({ key, block }));
  }

  /** The AWS provider regions the stack names. */
  regions(): string[] {
    return (this.document.provider?.aws ?? []).flatMap((p) => (typeof p.region === "string" ? [p.region] : []));
  }
}

/** How many resources a block makes: its `count` when the JSON states it, else one. */
export const countOf = (block: Base): number => numberOr(block.count, 1);

/** The sum of `countOf` over `resources`. */
export const countAll = (resources: readonly { block: Base }[]): number => resources.reduce((sum, r) => sum + countOf(r.block), 0);

/** A resource as a person knows it: its identifier or Name tag, else its key without cdktf's hash suffix. */
export function labelOf(resource: { key: string; block: Base & { identifier?: string } }): string {
  const name = resource.block.identifier ?? resource.block.tags?.Name;
  return typeof name === "string" && !isToken(name) ? name : resource.key.replace(/_[0-9A-F]{8}$/, "");
}

/** True when `reference` (a Token) points at the resource `<type>.<key>`. */
export const refersTo = (reference: unknown, type: ResourceType, key: string): boolean => String(reference).includes(`${type}.${key}.`);
