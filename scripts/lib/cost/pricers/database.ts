/** RDS instances and ElastiCache nodes: instance hours by class, storage, and what RDS monitoring ingests. */
import { money } from "../model";
import type { Pricer, PricingContext } from "../pricer";
import { countOf, numberOr, type Resource } from "../resources";

export const dbInstances: Pricer<"aws_db_instance"> = (resources, ctx) => {
  for (const resource of resources) dbInstance(resource, ctx);
};

function dbInstance({ key, block: db }: Resource<"aws_db_instance">, ctx: PricingContext): void {
  const { prices, hours } = ctx;
  const n = countOf(db);
  const cls = String(db.instance_class);
  const multiAz = db.multi_az === true;
  const factor = multiAz ? prices.rds.multiAzFactor : 1;
  const hourly = (prices.rds.postgresInstanceHourly as Record<string, number>)[cls];
  const label = `RDS ${cls} ${multiAz ? "Multi-AZ" : "Single-AZ"}`;
  if (hourly === undefined) {
    ctx.add("database", label, `not in prices.json: add its hourly price`, 0);
    ctx.note(`${cls} has no price in scripts/prices.json: the total leaves it out`);
  } else {
    ctx.add("database", label, `${n * hours} h x ${money(hourly)}/h${multiAz ? " x 2 (standby)" : ""}`, n * hours * hourly * factor);
  }
  const storageType = typeof db.storage_type === "string" ? db.storage_type : "gp2";
  const gb = numberOr(db.allocated_storage, 20);
  const perGb = (prices.rds.storagePerGbMonth as Record<string, number>)[storageType] ?? prices.rds.storagePerGbMonth.gp3;
  ctx.add(
    "database",
    `RDS ${storageType} storage`,
    `${n * gb} GB x ${money(perGb)}/GB-month${multiAz ? " x 2" : ""}`,
    n * gb * perGb * factor,
  );
  if (typeof db.max_allocated_storage === "number" && db.max_allocated_storage > gb) {
    ctx.note(
      `storage autoscaling may grow ${key} to ${db.max_allocated_storage} GB (${money(db.max_allocated_storage * perGb * factor)}/month at the ceiling)`,
    );
  }
  const interval = numberOr(db.monitoring_interval, 0);
  if (interval > 0) {
    const samples = (n * hours * 3600) / interval;
    const gbPerMonth = (samples * prices.assumptions.enhancedMonitoringKbPerSample) / (1024 * 1024);
    ctx.logs(
      "monitoring",
      `RDS enhanced monitoring every ${interval} s`,
      gbPerMonth,
      `${prices.assumptions.enhancedMonitoringKbPerSample} KB per sample`,
    );
  }
  if (db.performance_insights_enabled === true) {
    const retention = numberOr(db.performance_insights_retention_period, 7);
    const vcpus = (prices.rds.vcpus as Record<string, number>)[cls] ?? 2;
    if (retention <= prices.rds.performanceInsightsFreeRetentionDays) {
      ctx.add("monitoring", "Performance Insights, 7 days", "free retention", 0);
    } else {
      const rate = prices.rds.performanceInsightsLongTermPerVcpuHour;
      ctx.add(
        "monitoring",
        `Performance Insights, ${retention} days`,
        `${vcpus} vCPU x ${hours} h x ${money(rate)}`,
        n * vcpus * hours * rate,
      );
    }
  }
  if (Array.isArray(db.enabled_cloudwatch_logs_exports) && db.enabled_cloudwatch_logs_exports.includes("postgresql")) {
    ctx.logs("monitoring", "PostgreSQL log export", n * prices.assumptions.postgresLogGbPerMonth, "assumed");
  }
  if (db.manage_master_user_password === true) {
    const monthly = prices.secretsManager.secretMonthly;
    ctx.add("secrets", "RDS-managed master secret", `${n} x ${money(monthly)}`, n * monthly);
  }
}

/** One ElastiCache line: `nodes` nodes of `nodeType` for a month. */
function cacheNodes(nodeType: string, nodes: number, ctx: PricingContext): void {
  const hourly = (ctx.prices.elasticache.nodeHourly as Record<string, number>)[nodeType];
  if (hourly === undefined) ctx.note(`${nodeType} has no price in scripts/prices.json: the total leaves it out`);
  ctx.add(
    "cache",
    `ElastiCache ${nodeType}`,
    hourly === undefined ? "not in prices.json" : `${nodes} node(s) x ${ctx.hours} h x ${money(hourly)}/h`,
    nodes * ctx.hours * (hourly ?? 0),
  );
}

export const elastiCacheReplicationGroups: Pricer<"aws_elasticache_replication_group"> = (resources, ctx) => {
  for (const { block } of resources) cacheNodes(String(block.node_type), numberOr(block.num_cache_clusters, 1), ctx);
};

export const elastiCacheClusters: Pricer<"aws_elasticache_cluster"> = (resources, ctx) => {
  for (const { block } of resources) cacheNodes(String(block.node_type), numberOr(block.num_cache_nodes, 1), ctx);
};
