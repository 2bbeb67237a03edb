/**
 * A monthly cost estimate read from synthesized stacks (cdk.tf.json), never from AWS: what the
 * configuration asks for, priced from scripts/prices.json by one pricer per resource type
 * (registry.ts). Usage-driven charges (log volume, NAT traffic, mail, CloudFront) come from the
 * assumptions written in that file, and every line says which ones it used.
 */
import {
  defaultPrices,
  money,
  round2,
  type CostCategory,
  type CostEstimate,
  type CostLine,
  type CostOptions,
  type StackDocument,
} from "./model";
import type { PricingContext } from "./pricer";
import { PRICED_TYPES, PRICERS, type PricedType } from "./registry";
import { StackResources } from "./resources";

export function estimateCost(documents: readonly StackDocument[], options: CostOptions = {}): CostEstimate {
  const prices = options.prices ?? defaultPrices;
  const lines: CostLine[] = [];
  const notes = new Set<string>();
  const regions = new Set<string>();
  // What the CloudWatch always-free allowance may cover, over every stack of the environment.
  const usage = { alarms: 0, dashboards: 0, logGb: 0 };
  const add = (stack: string, category: CostCategory, item: string, basis: string, monthly: number): void => {
    lines.push({ stack, category, item, basis, monthly: round2(monthly) });
  };

  for (const { stack, json } of documents) {
    const resources = new StackResources(json);
    for (const region of resources.regions()) regions.add(region);
    const ctx: PricingContext = {
      prices,
      hours: prices.hoursPerMonth,
      resources,
      add: (category, item, basis, monthly) => add(stack, category, item, basis, monthly),
      perUnit: (category, item, count, monthlyPrice) => {
        if (count > 0) add(stack, category, item, `${count} x ${money(monthlyPrice)}`, count * monthlyPrice);
        return count;
      },
      logs: (category, item, gb, assumption) => {
        usage.logGb += gb;
        const rate = prices.cloudwatch.logsIngestPerGb;
        add(stack, category, item, `${gb.toFixed(2)} GB/month ingested (${assumption}) x ${money(rate)}/GB`, gb * rate);
      },
      note: (text) => notes.add(text),
      use: (kind, count) => (usage[kind] += count),
    };
    for (const type of PRICED_TYPES) priceType(type, resources, ctx);
  }

  if (options.freeTier) {
    const free = prices.cloudwatch.alwaysFree;
    const deduction =
      Math.min(usage.alarms, free.alarms) * prices.cloudwatch.alarmMonthly +
      Math.min(usage.dashboards, free.dashboards) * prices.cloudwatch.dashboardMonthly +
      Math.min(usage.logGb, free.logsIngestGb) * prices.cloudwatch.logsIngestPerGb;
    if (deduction > 0) {
      add(
        "(account)",
        "free-tier",
        "CloudWatch always-free allowance",
        `${free.alarms} alarms, ${free.dashboards} dashboards, ${free.logsIngestGb} GB logs per account`,
        -deduction,
      );
    }
  } else if (usage.alarms + usage.dashboards > 0) {
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

/** Runs the pricer of `type` on the stack's resources of that type, if it has any. */
function priceType<K extends PricedType>(type: K, resources: StackResources, ctx: PricingContext): void {
  const found = resources.of(type);
  if (found.length > 0) PRICERS[type](found, ctx);
}
