/** NAT gateways, Elastic IPs and VPC flow logs. */
import { money } from "../model";
import type { Pricer } from "../pricer";
import { countOf, labelOf, type Resource } from "../resources";

export const natGateways: Pricer<"aws_nat_gateway"> = (resources, ctx) => {
  const { prices, hours } = ctx;
  for (const { block: nat } of resources) {
    if (nat.connectivity_type === "private") continue;
    const n = countOf(nat);
    const gb = prices.assumptions.natGatewayGbPerMonth;
    ctx.add(
      "network",
      "NAT gateway",
      `${n * hours} h x ${money(prices.vpc.natGatewayHourly)}/h + ${gb} GB assumed`,
      n * (hours * prices.vpc.natGatewayHourly + gb * prices.vpc.natGatewayPerGb),
    );
  }
};

export const elasticIps: Pricer<"aws_eip"> = (resources, ctx) => {
  const rate = ctx.prices.ec2.publicIpv4Hourly;
  for (const resource of resources) {
    // Since February 2024 AWS bills every public IPv4 address, attached or idle.
    const n = countOf(resource.block);
    ctx.add("network", `Elastic IP (${labelOf(resource)})`, `${n * ctx.hours} h x ${money(rate)}/h`, n * ctx.hours * rate);
  }
};

/** Flow logs delivered to CloudWatch Logs: those are the ones priced as ingestion. */
export const cloudWatchFlowLogs = (resources: readonly Resource<"aws_flow_log">[]): Resource<"aws_flow_log">[] =>
  resources.filter((f) => (f.block.log_destination_type ?? "cloud-watch-logs") === "cloud-watch-logs");

export const flowLogs: Pricer<"aws_flow_log"> = (resources, ctx) => {
  for (const flowLog of cloudWatchFlowLogs(resources)) {
    ctx.logs("network", `VPC flow logs (${labelOf(flowLog)})`, ctx.prices.assumptions.flowLogGbPerMonth, "assumed");
  }
};
