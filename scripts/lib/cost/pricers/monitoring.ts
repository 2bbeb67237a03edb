/** CloudWatch log groups, alarms and dashboards. */
import type { Pricer } from "../pricer";
import { countAll, isToken } from "../resources";
import { cloudWatchFlowLogs } from "./network";

export const logGroups: Pricer<"aws_cloudwatch_log_group"> = (resources, ctx) => {
  const flowText = JSON.stringify(cloudWatchFlowLogs(ctx.resources.of("aws_flow_log")).map((f) => f.block));
  for (const { key, block: group } of resources) {
    const name = String(group.name ?? key);
    // RDS exports and flow logs are counted from their source (pricers/database.ts, network.ts); the groups only hold them.
    if (/^\/aws\/rds\//.test(name) || flowText.includes(`aws_cloudwatch_log_group.${key}.`) || name === "RDSOSMetrics") continue;
    ctx.logs("monitoring", `log group ${isToken(name) ? key : name}`, ctx.prices.assumptions.otherLogGroupGbPerMonth, "assumed");
  }
};

export const metricAlarms: Pricer<"aws_cloudwatch_metric_alarm"> = (resources, ctx) => {
  ctx.use("alarms", ctx.perUnit("monitoring", "CloudWatch alarms", countAll(resources), ctx.prices.cloudwatch.alarmMonthly));
};

export const dashboards: Pricer<"aws_cloudwatch_dashboard"> = (resources, ctx) => {
  ctx.use("dashboards", ctx.perUnit("monitoring", "CloudWatch dashboard", resources.length, ctx.prices.cloudwatch.dashboardMonthly));
};
