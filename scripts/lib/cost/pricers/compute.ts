/** The bastion's EC2 instance, Fargate services and application load balancers, with their public IPv4 addresses. */
import { money } from "../model";
import type { Pricer, PricingContext } from "../pricer";
import { firstOf, isToken, labelOf, numberOr, refersTo, type Resource } from "../resources";

export const ec2Instances: Pricer<"aws_instance"> = (resources, ctx) => {
  for (const resource of resources) ec2Instance(resource, ctx);
};

function ec2Instance(resource: Resource<"aws_instance">, ctx: PricingContext): void {
  const { prices, hours } = ctx;
  const { key, block: instance } = resource;
  const label = labelOf(resource);
  const type = String(instance.instance_type);
  const state = ctx.resources.of("aws_ec2_instance_state").find((s) => refersTo(s.block.instance_id, "aws_instance", key));
  const running = state?.block.state !== "stopped";
  const hourly = (prices.ec2.instanceHourly as Record<string, number>)[type];
  const item = `EC2 ${type} (${label}), ${running ? "running" : "stopped"}`;
  if (!running) ctx.add("bastion", item, "no instance hours while stopped", 0);
  else if (hourly === undefined) {
    ctx.add("bastion", item, "not in prices.json: add its hourly price", 0);
    ctx.note(`${type} has no price in scripts/prices.json: the total leaves it out`);
  } else ctx.add("bastion", item, `${hours} h x ${money(hourly)}/h`, hours * hourly);
  const root = firstOf(instance.root_block_device);
  const volumeGb = numberOr(root?.volume_size, prices.ec2.defaultRootVolumeGb);
  const volumeType = typeof root?.volume_type === "string" ? root.volume_type : "gp3";
  const perGb = (prices.ec2.ebsPerGbMonth as Record<string, number>)[volumeType] ?? prices.ec2.ebsPerGbMonth.gp3;
  ctx.add(
    "bastion",
    `EBS ${volumeType} root volume (${label})${running ? "" : ", billed while stopped"}`,
    `${volumeGb} GB x ${money(perGb)}/GB-month`,
    volumeGb * perGb,
  );
  if (instance.associate_public_ip_address === true) {
    if (running) {
      const rate = prices.ec2.publicIpv4Hourly;
      ctx.add("bastion", `public IPv4 address (${label})`, `${hours} h x ${money(rate)}/h`, hours * rate);
    } else {
      ctx.add("bastion", `public IPv4 address (${label})`, "released while stopped", 0);
    }
  }
}

export const loadBalancers: Pricer<"aws_lb"> = (resources, ctx) => {
  const { prices, hours } = ctx;
  for (const { block: lb } of resources) {
    if ((lb.load_balancer_type ?? "application") !== "application") continue;
    const rate = prices.loadBalancer.albHourly;
    ctx.add("services", "application load balancer", `${hours} h x ${money(rate)}/h, LCUs not included`, hours * rate);
    if (lb.internal !== true && Array.isArray(lb.subnets)) {
      // An internet-facing ALB holds one public IPv4 address per AZ, billed like any other.
      const ips = lb.subnets.length;
      const ipRate = prices.ec2.publicIpv4Hourly;
      ctx.add("services", "load balancer public IPv4 addresses", `${ips} x ${hours} h x ${money(ipRate)}/h`, ips * hours * ipRate);
    }
  }
};

export const ecsServices: Pricer<"aws_ecs_service"> = (resources, ctx) => {
  for (const resource of resources) ecsService(resource, ctx);
};

/** A Fargate service: its tasks' vCPU-hours and GB-hours, and a public IPv4 address per task when it assigns them. */
function ecsService(resource: Resource<"aws_ecs_service">, ctx: PricingContext): void {
  const { prices, hours } = ctx;
  const service = resource.block;
  const task = ctx.resources
    .of("aws_ecs_task_definition")
    .find((t) => refersTo(service.task_definition, "aws_ecs_task_definition", t.key))?.block;
  if (!task) return;
  const name = typeof service.name === "string" && !isToken(service.name) ? service.name : labelOf(resource);
  const tasks = numberOr(service.desired_count, 1);
  const vcpu = Number(task.cpu) / 1024;
  const gb = Number(task.memory) / 1024;
  const arch: "X86_64" | "ARM64" = firstOf(task.runtime_platform)?.cpu_architecture === "ARM64" ? "ARM64" : "X86_64";
  const spot = service.capacity_provider_strategy?.[0]?.capacity_provider === "FARGATE_SPOT";
  const factor = spot ? prices.fargate.spotFactor : 1;
  const vcpuRate = prices.fargate.perVcpuHour[arch] * factor;
  const gbRate = prices.fargate.perGbHour[arch] * factor;
  ctx.add(
    "services",
    `Fargate ${name} (${arch}${spot ? ", Spot" : ""})`,
    `${tasks} task(s) x ${hours} h x (${vcpu} vCPU x ${money(vcpuRate)} + ${gb} GB x ${money(gbRate)})`,
    tasks * hours * (vcpu * vcpuRate + gb * gbRate),
  );
  if (spot) ctx.note(`Fargate Spot priced at ${prices.fargate.spotFactor * 100}% of on-demand; the real discount moves with demand`);
  if (service.lifecycle?.ignore_changes?.includes?.("desired_count")) {
    ctx.note(`${name} autoscales: priced at its desired count at creation (${tasks}); more tasks cost more`);
  }
  // Without a NAT gateway a task in a public subnet needs its own address to pull images and reach AWS APIs.
  if (firstOf(service.network_configuration)?.assign_public_ip === true) {
    const rate = prices.ec2.publicIpv4Hourly;
    ctx.add("services", `public IPv4 per task (${name})`, `${tasks} x ${hours} h x ${money(rate)}/h`, tasks * hours * rate);
  }
}
