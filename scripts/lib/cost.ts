/**
 * A monthly cost estimate read from synthesized stacks (cdk.tf.json), never from AWS: what the
 * configuration asks for, priced from scripts/prices.json. Usage-driven charges (log volume, NAT
 * traffic) come from the assumptions written in that file, and every line says which ones it used.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import defaultPrices from "../prices.json";

export type Prices = typeof defaultPrices;

/** What a line is for, so totals can be read "without NAT and bastion" like the old systems quoted them. */
export type CostCategory =
  "database" | "network" | "bastion" | "monitoring" | "secrets" | "storage" | "cache" | "services" | "email" | "free-tier";

export interface CostLine {
  readonly stack: string;
  readonly category: CostCategory;
  readonly item: string;
  /** How the figure was reached: `730 h x $0.032/h`. */
  readonly basis: string;
  readonly monthly: number;
}

export interface CostEstimate {
  readonly region: string;
  /** True when the stacks are outside the price file's region: figures are us-east-1's. */
  readonly approximate: boolean;
  readonly pricesAsOf: string;
  readonly lines: readonly CostLine[];
  readonly total: number;
  readonly byCategory: Readonly<Partial<Record<CostCategory, number>>>;
  readonly notes: readonly string[];
}

export interface StackDocument {
  readonly stack: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: Record<string, any>;
}

export interface CostOptions {
  /** Deduct CloudWatch's always-free allowance (it is per account, so only when nothing else uses it). @default false */
  readonly freeTier?: boolean;
  /** @default scripts/prices.json */
  readonly prices?: Prices;
}

/** Reads `cdk.tf.json` of each synthesized stack folder. */
export function readStackDocuments(stacks: readonly { name: string; dir: string }[]): StackDocument[] {
  return stacks.map((s) => ({ stack: s.name, json: JSON.parse(readFileSync(join(s.dir, "cdk.tf.json"), "utf8")) }));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Block = Record<string, any>;

/** `$0.0042`, `$0.032`, `$0.10`, `$3.00`: as many decimals as the price has, at least two. */
const money = (n: number): string => `$${n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
const round2 = (n: number): number => Math.round(n * 100) / 100;
const isToken = (v: unknown): boolean => typeof v === "string" && v.includes("${");

/** A resource as a person knows it: its identifier or Name tag, else its key without cdktf's hash suffix. */
function labelOf(key: string, resource: Block): string {
  const name = resource.identifier ?? resource.tags?.Name;
  return typeof name === "string" && !isToken(name) ? name : key.replace(/_[0-9A-F]{8}$/, "");
}

export function estimateCost(documents: readonly StackDocument[], options: CostOptions = {}): CostEstimate {
  const prices = options.prices ?? defaultPrices;
  const hours = prices.hoursPerMonth;
  const lines: CostLine[] = [];
  const notes = new Set<string>();
  const add = (stack: string, category: CostCategory, item: string, basis: string, monthly: number): void => {
    lines.push({ stack, category, item, basis, monthly: round2(monthly) });
  };
  /** `count x price` a month, a line only when there is something to count; returns the count. */
  const perUnit = (stack: string, category: CostCategory, item: string, count: number, monthlyPrice: number): number => {
    if (count > 0) add(stack, category, item, `${count} x ${money(monthlyPrice)}`, count * monthlyPrice);
    return count;
  };
  const regions = new Set<string>();
  let alarms = 0;
  let dashboards = 0;
  let logGb = 0;

  const logLine = (stack: string, category: CostCategory, item: string, gb: number, assumption: string): void => {
    logGb += gb;
    add(
      stack,
      category,
      item,
      `${gb.toFixed(2)} GB/month ingested (${assumption}) x ${money(prices.cloudwatch.logsIngestPerGb)}/GB`,
      gb * prices.cloudwatch.logsIngestPerGb,
    );
  };

  for (const { stack, json } of documents) {
    for (const provider of json.provider?.aws ?? []) if (typeof provider.region === "string") regions.add(provider.region);
    const resources = (type: string): [string, Block][] => Object.entries((json.resource?.[type] ?? {}) as Record<string, Block>);
    const countOf = (r: Block): number => (typeof r.count === "number" ? r.count : 1);

    for (const [key, db] of resources("aws_db_instance")) {
      const n = countOf(db);
      const cls = String(db.instance_class);
      const multiAz = db.multi_az === true;
      const factor = multiAz ? prices.rds.multiAzFactor : 1;
      const hourly = (prices.rds.postgresInstanceHourly as Record<string, number>)[cls];
      const label = `RDS ${cls} ${multiAz ? "Multi-AZ" : "Single-AZ"}`;
      if (hourly === undefined) {
        add(stack, "database", label, `not in prices.json: add its hourly price`, 0);
        notes.add(`${cls} has no price in scripts/prices.json: the total leaves it out`);
      } else {
        add(stack, "database", label, `${n * hours} h x ${money(hourly)}/h${multiAz ? " x 2 (standby)" : ""}`, n * hours * hourly * factor);
      }
      const storageType = typeof db.storage_type === "string" ? db.storage_type : "gp2";
      const gb = typeof db.allocated_storage === "number" ? db.allocated_storage : 20;
      const perGb = (prices.rds.storagePerGbMonth as Record<string, number>)[storageType] ?? prices.rds.storagePerGbMonth.gp3;
      add(
        stack,
        "database",
        `RDS ${storageType} storage`,
        `${n * gb} GB x ${money(perGb)}/GB-month${multiAz ? " x 2" : ""}`,
        n * gb * perGb * factor,
      );
      if (typeof db.max_allocated_storage === "number" && db.max_allocated_storage > gb) {
        notes.add(
          `storage autoscaling may grow ${key} to ${db.max_allocated_storage} GB (${money(db.max_allocated_storage * perGb * factor)}/month at the ceiling)`,
        );
      }
      const interval = typeof db.monitoring_interval === "number" ? db.monitoring_interval : 0;
      if (interval > 0) {
        const samples = (n * hours * 3600) / interval;
        const gbPerMonth = (samples * prices.assumptions.enhancedMonitoringKbPerSample) / (1024 * 1024);
        logLine(
          stack,
          "monitoring",
          `RDS enhanced monitoring every ${interval} s`,
          gbPerMonth,
          `${prices.assumptions.enhancedMonitoringKbPerSample} KB per sample`,
        );
      }
      if (db.performance_insights_enabled === true) {
        const retention = typeof db.performance_insights_retention_period === "number" ? db.performance_insights_retention_period : 7;
        const vcpus = (prices.rds.vcpus as Record<string, number>)[cls] ?? 2;
        if (retention <= prices.rds.performanceInsightsFreeRetentionDays) {
          add(stack, "monitoring", "Performance Insights, 7 days", "free retention", 0);
        } else {
          const rate = prices.rds.performanceInsightsLongTermPerVcpuHour;
          add(
            stack,
            "monitoring",
            `Performance Insights, ${retention} days`,
            `${vcpus} vCPU x ${hours} h x ${money(rate)}`,
            n * vcpus * hours * rate,
          );
        }
      }
      if (Array.isArray(db.enabled_cloudwatch_logs_exports) && db.enabled_cloudwatch_logs_exports.includes("postgresql")) {
        logLine(stack, "monitoring", "PostgreSQL log export", n * prices.assumptions.postgresLogGbPerMonth, "assumed");
      }
      if (db.manage_master_user_password === true) {
        add(
          stack,
          "secrets",
          "RDS-managed master secret",
          `${n} x ${money(prices.secretsManager.secretMonthly)}`,
          n * prices.secretsManager.secretMonthly,
        );
      }
    }

    const instanceStates = resources("aws_ec2_instance_state").map(([, s]) => s);
    for (const [key, instance] of resources("aws_instance")) {
      const type = String(instance.instance_type);
      const stateResource = instanceStates.find((s) => String(s.instance_id).includes(`aws_instance.${key}.`));
      const running = stateResource?.state !== "stopped";
      const hourly = (prices.ec2.instanceHourly as Record<string, number>)[type];
      const label = `EC2 ${type} (${labelOf(key, instance)}), ${running ? "running" : "stopped"}`;
      if (!running) add(stack, "bastion", label, "no instance hours while stopped", 0);
      else if (hourly === undefined) {
        add(stack, "bastion", label, "not in prices.json: add its hourly price", 0);
        notes.add(`${type} has no price in scripts/prices.json: the total leaves it out`);
      } else add(stack, "bastion", label, `${hours} h x ${money(hourly)}/h`, hours * hourly);
      const root = Array.isArray(instance.root_block_device) ? instance.root_block_device[0] : instance.root_block_device;
      const volumeGb = typeof root?.volume_size === "number" ? root.volume_size : prices.ec2.defaultRootVolumeGb;
      const volumeType = typeof root?.volume_type === "string" ? root.volume_type : "gp3";
      const perGb = (prices.ec2.ebsPerGbMonth as Record<string, number>)[volumeType] ?? prices.ec2.ebsPerGbMonth.gp3;
      add(
        stack,
        "bastion",
        `EBS ${volumeType} root volume (${labelOf(key, instance)})${running ? "" : ", billed while stopped"}`,
        `${volumeGb} GB x ${money(perGb)}/GB-month`,
        volumeGb * perGb,
      );
      if (instance.associate_public_ip_address === true) {
        if (running) {
          add(
            stack,
            "bastion",
            `public IPv4 address (${labelOf(key, instance)})`,
            `${hours} h x ${money(prices.ec2.publicIpv4Hourly)}/h`,
            hours * prices.ec2.publicIpv4Hourly,
          );
        } else {
          add(stack, "bastion", `public IPv4 address (${labelOf(key, instance)})`, "released while stopped", 0);
        }
      }
    }

    for (const [, nat] of resources("aws_nat_gateway")) {
      if (nat.connectivity_type === "private") continue;
      const n = countOf(nat);
      const gb = prices.assumptions.natGatewayGbPerMonth;
      add(
        stack,
        "network",
        "NAT gateway",
        `${n * hours} h x ${money(prices.vpc.natGatewayHourly)}/h + ${gb} GB assumed`,
        n * (hours * prices.vpc.natGatewayHourly + gb * prices.vpc.natGatewayPerGb),
      );
    }
    for (const [key, eip] of resources("aws_eip")) {
      // Since February 2024 AWS bills every public IPv4 address, attached or idle.
      const n = countOf(eip);
      add(
        stack,
        "network",
        `Elastic IP (${labelOf(key, eip)})`,
        `${n * hours} h x ${money(prices.ec2.publicIpv4Hourly)}/h`,
        n * hours * prices.ec2.publicIpv4Hourly,
      );
    }
    for (const [, lb] of resources("aws_lb")) {
      if ((lb.load_balancer_type ?? "application") !== "application") continue;
      add(
        stack,
        "services",
        "application load balancer",
        `${hours} h x ${money(prices.loadBalancer.albHourly)}/h, LCUs not included`,
        hours * prices.loadBalancer.albHourly,
      );
      if (lb.internal !== true && Array.isArray(lb.subnets)) {
        // An internet-facing ALB holds one public IPv4 address per AZ, billed like any other.
        const ips = lb.subnets.length;
        add(
          stack,
          "services",
          "load balancer public IPv4 addresses",
          `${ips} x ${hours} h x ${money(prices.ec2.publicIpv4Hourly)}/h`,
          ips * hours * prices.ec2.publicIpv4Hourly,
        );
      }
    }

    const taskDefinitions = resources("aws_ecs_task_definition");
    for (const [key, service] of resources("aws_ecs_service")) {
      const [, task] = taskDefinitions.find(([k]) => String(service.task_definition).includes(`aws_ecs_task_definition.${k}.`)) ?? [];
      if (!task) continue;
      const name = typeof service.name === "string" && !isToken(service.name) ? service.name : labelOf(key, service);
      const tasks = typeof service.desired_count === "number" ? service.desired_count : 1;
      const vcpu = Number(task.cpu) / 1024;
      const gb = Number(task.memory) / 1024;
      const platform = Array.isArray(task.runtime_platform) ? task.runtime_platform[0] : task.runtime_platform;
      const arch: "X86_64" | "ARM64" = platform?.cpu_architecture === "ARM64" ? "ARM64" : "X86_64";
      const strategy = Array.isArray(service.capacity_provider_strategy) ? service.capacity_provider_strategy[0] : undefined;
      const spot = strategy?.capacity_provider === "FARGATE_SPOT";
      const factor = spot ? prices.fargate.spotFactor : 1;
      const vcpuRate = prices.fargate.perVcpuHour[arch] * factor;
      const gbRate = prices.fargate.perGbHour[arch] * factor;
      add(
        stack,
        "services",
        `Fargate ${name} (${arch}${spot ? ", Spot" : ""})`,
        `${tasks} task(s) x ${hours} h x (${vcpu} vCPU x ${money(vcpuRate)} + ${gb} GB x ${money(gbRate)})`,
        tasks * hours * (vcpu * vcpuRate + gb * gbRate),
      );
      if (spot) notes.add(`Fargate Spot priced at ${prices.fargate.spotFactor * 100}% of on-demand; the real discount moves with demand`);
      if (service.lifecycle?.ignore_changes?.includes?.("desired_count")) {
        notes.add(`${name} autoscales: priced at its desired count at creation (${tasks}); more tasks cost more`);
      }
      if (service.network_configuration?.assign_public_ip === true) {
        add(
          stack,
          "services",
          `public IPv4 per task (${name})`,
          `${tasks} x ${hours} h x ${money(prices.ec2.publicIpv4Hourly)}/h`,
          tasks * hours * prices.ec2.publicIpv4Hourly,
        );
      }
    }

    const flowLogs = resources("aws_flow_log").filter(([, f]) => (f.log_destination_type ?? "cloud-watch-logs") === "cloud-watch-logs");
    for (const [key, flowLog] of flowLogs) {
      logLine(stack, "network", `VPC flow logs (${labelOf(key, flowLog)})`, prices.assumptions.flowLogGbPerMonth, "assumed");
    }
    const flowText = JSON.stringify(flowLogs.map(([, f]) => f));
    for (const [key, group] of resources("aws_cloudwatch_log_group")) {
      const name = String(group.name ?? key);
      // RDS exports and flow logs are counted from their source above; the groups only hold them.
      if (/^\/aws\/rds\//.test(name) || flowText.includes(`aws_cloudwatch_log_group.${key}.`) || name === "RDSOSMetrics") continue;
      logLine(stack, "monitoring", `log group ${isToken(name) ? key : name}`, prices.assumptions.otherLogGroupGbPerMonth, "assumed");
    }

    const counted = (type: string): number => resources(type).reduce((sum, [, r]) => sum + countOf(r), 0);
    alarms += perUnit(stack, "monitoring", "CloudWatch alarms", counted("aws_cloudwatch_metric_alarm"), prices.cloudwatch.alarmMonthly);
    dashboards += perUnit(
      stack,
      "monitoring",
      "CloudWatch dashboard",
      resources("aws_cloudwatch_dashboard").length,
      prices.cloudwatch.dashboardMonthly,
    );
    if (resources("aws_sns_topic_subscription").length > 0) notes.add("SNS e-mail notifications: the first 1,000 a month are free");
    perUnit(stack, "secrets", "Secrets Manager secrets", counted("aws_secretsmanager_secret"), prices.secretsManager.secretMonthly);
    perUnit(stack, "secrets", "KMS customer managed keys", counted("aws_kms_key"), prices.kms.customerKeyMonthly);

    for (const [type, nodesOf] of [
      ["aws_elasticache_replication_group", (r: Block) => (typeof r.num_cache_clusters === "number" ? r.num_cache_clusters : 1)],
      ["aws_elasticache_cluster", (r: Block) => (typeof r.num_cache_nodes === "number" ? r.num_cache_nodes : 1)],
    ] as const) {
      for (const [, cache] of resources(type)) {
        const nodeType = String(cache.node_type);
        const hourly = (prices.elasticache.nodeHourly as Record<string, number>)[nodeType];
        const nodes = nodesOf(cache);
        if (hourly === undefined) notes.add(`${nodeType} has no price in scripts/prices.json: the total leaves it out`);
        add(
          stack,
          "cache",
          `ElastiCache ${nodeType}`,
          hourly === undefined ? "not in prices.json" : `${nodes} node(s) x ${hours} h x ${money(hourly)}/h`,
          nodes * hours * (hourly ?? 0),
        );
      }
    }
    // SES bills per message sent, not per identity: the volume is an assumption, said as such.
    if (resources("aws_sesv2_email_identity").length > 0) {
      const messages = prices.assumptions.sesMessagesPerMonth;
      add(
        stack,
        "email",
        "SES outbound mail",
        `${messages.toLocaleString("en-US")} messages/month (assumed) x ${money(prices.ses.perThousandMessages)}/1,000`,
        (messages / 1000) * prices.ses.perThousandMessages,
      );
      notes.add(
        "SES: attachments ($0.12/GB) and dedicated IPs are not included; SES's free tier (3,000 messages a month in an account's first 12 months) is not deducted",
      );
    }
    if (resources("aws_s3_bucket").length > 0)
      notes.add("S3 buckets (state, objects) are billed by the GB stored: cents for state files, not included");
    if (resources("aws_sqs_queue").length > 0) notes.add("SQS: the first million requests a month are free, not included");
  }

  if (options.freeTier) {
    const free = prices.cloudwatch.alwaysFree;
    const deduction =
      Math.min(alarms, free.alarms) * prices.cloudwatch.alarmMonthly +
      Math.min(dashboards, free.dashboards) * prices.cloudwatch.dashboardMonthly +
      Math.min(logGb, free.logsIngestGb) * prices.cloudwatch.logsIngestPerGb;
    if (deduction > 0) {
      add(
        "(account)",
        "free-tier",
        "CloudWatch always-free allowance",
        `${free.alarms} alarms, ${free.dashboards} dashboards, ${free.logsIngestGb} GB logs per account`,
        -deduction,
      );
    }
  } else if (alarms + dashboards > 0) {
    notes.add(
      `list prices: CloudWatch's always-free allowance (${prices.cloudwatch.alwaysFree.alarms} alarms, ${prices.cloudwatch.alwaysFree.dashboards} dashboards, ${prices.cloudwatch.alwaysFree.logsIngestGb} GB logs per account) is not deducted; --free-tier deducts it`,
    );
  }
  notes.add("not included: data transfer out, backup storage beyond the database's size, snapshots kept after teardown, API requests");

  const region = regions.size === 1 ? [...regions][0] : regions.size === 0 ? prices.region : [...regions].sort().join(", ");
  const approximate = [...regions].some((r) => r !== prices.region);
  if (approximate) notes.add(`APPROXIMATE: prices are ${prices.region}'s; ${region} usually costs somewhat more`);
  const byCategory: Partial<Record<CostCategory, number>> = {};
  for (const line of lines) byCategory[line.category] = round2((byCategory[line.category] ?? 0) + line.monthly);
  const total = round2(lines.reduce((sum, l) => sum + l.monthly, 0));
  return { region, approximate, pricesAsOf: prices.asOf, lines, total, byCategory, notes: [...notes] };
}

/** The table an operator reads: one line per charge, the total, then what was assumed. */
export function formatCostTable(estimate: CostEstimate, title: string): string {
  const header = ["stack", "item", "basis", "$/month"];
  const rows = estimate.lines.map((l) => [l.stack, l.item, l.basis, l.monthly.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const render = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const without = ["network", "bastion"].reduce((t, c) => t - (estimate.byCategory[c as CostCategory] ?? 0), estimate.total);
  const out = [
    `${title}: monthly estimate, ${estimate.region}${estimate.approximate ? " (APPROXIMATE)" : ""}, on-demand prices of ${estimate.pricesAsOf}`,
    "",
    render(header),
    rule,
    ...rows.map(render),
    rule,
    render(["", "total", "", estimate.total.toFixed(2)]),
    render(["", "  without network (NAT, IPs, flow logs) and bastion", "", round2(without).toFixed(2)]),
    "",
    ...estimate.notes.map((n) => `note: ${n}`),
  ];
  return out.join("\n");
}
