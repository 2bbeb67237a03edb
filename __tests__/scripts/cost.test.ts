/**
 * npm run cost: the estimate read from synthesized stacks, on small canned documents for each rule and
 * on the shipped prod environment against the old systems' quoted figures. No AWS.
 */
import prices from "../../scripts/prices.json";
import { estimateCost } from "../../scripts/lib/cost/estimate";
import type { CostEstimate, StackDocument } from "../../scripts/lib/cost/model";
import { keptImages } from "../../scripts/lib/cost/pricers/storage";
import { formatCostTable } from "../../scripts/lib/cost/table";
import { layersOf } from "../../stacks/environment-stack";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Fn, TerraformStack, Testing } from "cdktf";
import { resourcesOf, shippedConfig, shippedStartupWebApp, synth, testEnvironment, type Json } from "../helpers";

const doc = (resource: Json, region = "us-east-1"): StackDocument => ({
  stack: "t-data",
  json: { provider: { aws: [{ region }] }, resource },
});
const line = (estimate: CostEstimate, item: string) => estimate.lines.find((l) => l.item.startsWith(item));

const DB = { instance_class: "db.t4g.small", allocated_storage: 20, storage_type: "gp3", multi_az: false };

describe("rules", () => {
  test("an RDS instance costs its class's hours and its gp3 storage", () => {
    const estimate = estimateCost([doc({ aws_db_instance: { db: DB } })]);
    expect(line(estimate, "RDS db.t4g.small Single-AZ")?.monthly).toBe(23.36);
    expect(line(estimate, "RDS gp3 storage")?.monthly).toBe(2.3);
  });

  test("Multi-AZ doubles instance and storage", () => {
    const estimate = estimateCost([doc({ aws_db_instance: { db: { ...DB, multi_az: true } } })]);
    expect(line(estimate, "RDS db.t4g.small Multi-AZ")?.monthly).toBe(46.72);
    expect(line(estimate, "RDS gp3 storage")?.monthly).toBe(4.6);
  });

  test("Performance Insights is free for 7 days and billed per vCPU beyond", () => {
    const free = estimateCost([
      doc({ aws_db_instance: { db: { ...DB, performance_insights_enabled: true, performance_insights_retention_period: 7 } } }),
    ]);
    expect(line(free, "Performance Insights")?.monthly).toBe(0);
    const long = estimateCost([
      doc({ aws_db_instance: { db: { ...DB, performance_insights_enabled: true, performance_insights_retention_period: 93 } } }),
    ]);
    expect(line(long, "Performance Insights, 93 days")?.monthly).toBe(18.25);
  });

  test("enhanced monitoring is log ingestion that grows as the interval shrinks", () => {
    const every60 = line(estimateCost([doc({ aws_db_instance: { db: { ...DB, monitoring_interval: 60 } } })]), "RDS enhanced monitoring")!;
    const every10 = line(estimateCost([doc({ aws_db_instance: { db: { ...DB, monitoring_interval: 10 } } })]), "RDS enhanced monitoring")!;
    expect(every60.monthly).toBeGreaterThan(0);
    expect(every10.monthly).toBeCloseTo(every60.monthly * 6, 1);
  });

  test("a NAT gateway costs its hours and its Elastic IP is billed as a public IPv4 address", () => {
    const estimate = estimateCost([
      doc({ aws_nat_gateway: { nat: { allocation_id: "${aws_eip.nat.id}" } }, aws_eip: { nat: { domain: "vpc" } } }),
    ]);
    expect(line(estimate, "NAT gateway")?.monthly).toBe(32.85);
    expect(line(estimate, "Elastic IP")?.monthly).toBe(3.65);
  });

  test("a running bastion pays hours, its volume and its public IPv4; a stopped one only its volume", () => {
    const bastion = {
      instance_type: "t3.micro",
      associate_public_ip_address: true,
      root_block_device: { volume_size: 8, volume_type: "gp3" },
    };
    const running = estimateCost([doc({ aws_instance: { bastion } })]);
    expect(running.byCategory.bastion).toBe(7.59 + 0.64 + 3.65);
    const stopped = estimateCost([
      doc({ aws_instance: { bastion }, aws_ec2_instance_state: { s: { instance_id: "${aws_instance.bastion.id}", state: "stopped" } } }),
    ]);
    expect(stopped.byCategory.bastion).toBe(0.64);
    expect(line(stopped, "EBS gp3 root volume")?.item).toContain("billed while stopped");
  });

  test("alarms, dashboards, secrets and KMS keys are priced per unit", () => {
    const estimate = estimateCost([
      doc({
        aws_cloudwatch_metric_alarm: { a: {}, b: {}, c: {}, d: {} },
        aws_cloudwatch_dashboard: { d: {} },
        aws_secretsmanager_secret: { s: {} },
        aws_kms_key: { k: {} },
      }),
    ]);
    expect(line(estimate, "CloudWatch alarms")?.monthly).toBe(0.4);
    expect(line(estimate, "CloudWatch dashboard")?.monthly).toBe(3);
    expect(line(estimate, "Secrets Manager")?.monthly).toBe(0.4);
    expect(line(estimate, "KMS")?.monthly).toBe(1);
  });

  test("the free-tier option deducts CloudWatch's always-free allowance as its own line", () => {
    const resources = { aws_cloudwatch_metric_alarm: { a: {}, b: {} }, aws_cloudwatch_dashboard: { d: {} } };
    const estimate = estimateCost([doc(resources)], { freeTier: true });
    expect(line(estimate, "CloudWatch always-free allowance")?.monthly).toBe(-3.2);
    expect(estimate.total).toBe(0);
  });

  test("an instance class missing from the price file is named, not silently priced at zero", () => {
    const estimate = estimateCost([doc({ aws_db_instance: { db: { ...DB, instance_class: "db.x2g.16xlarge" } } })]);
    expect(estimate.notes.join("\n")).toContain("db.x2g.16xlarge has no price in scripts/prices.json");
  });

  test("another region is marked approximate", () => {
    const estimate = estimateCost([doc({ aws_db_instance: { db: DB } }, "eu-west-1")]);
    expect(estimate.approximate).toBe(true);
    expect(formatCostTable(estimate, "t")).toContain("eu-west-1 (APPROXIMATE)");
  });

  test("the price file is dated and in us-east-1", () => {
    expect(prices.region).toBe("us-east-1");
    expect(prices.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});

describe("services", () => {
  const TASK = "${aws_ecs_task_definition.app_task.arn}";
  const fargate = (task: Json, service: Json = {}) =>
    estimateCost([
      doc({
        aws_ecs_task_definition: { app_task: { cpu: "512", memory: "1024", ...task } },
        aws_ecs_service: { app: { name: "acme-test-app", task_definition: TASK, desired_count: 1, ...service } },
      }),
    ]);

  test("a Fargate task costs its vCPU-hours and GB-hours", () => {
    // 730 h x (0.5 vCPU x $0.04048 + 1 GB x $0.004445)
    expect(line(fargate({}), "Fargate acme-test-app (X86_64)")?.monthly).toBe(18.02);
  });

  test("desired count multiplies the tasks", () => {
    expect(line(fargate({}, { desired_count: 2 }), "Fargate acme-test-app")?.monthly).toBe(36.04);
  });

  test("ARM64 is priced at Graviton rates", () => {
    const estimate = fargate({ runtime_platform: [{ cpu_architecture: "ARM64", operating_system_family: "LINUX" }] });
    expect(line(estimate, "Fargate acme-test-app (ARM64)")?.monthly).toBe(14.42);
  });

  test("Fargate Spot is priced at the assumed share of on-demand, and says so", () => {
    const estimate = fargate({}, { capacity_provider_strategy: [{ capacity_provider: "FARGATE_SPOT", weight: 1 }] });
    expect(line(estimate, "Fargate acme-test-app (X86_64, Spot)")?.monthly).toBe(5.41);
    expect(estimate.notes.some((n) => n.startsWith("Fargate Spot priced at 30% of on-demand"))).toBe(true);
  });

  test("tasks with public IPs pay for each address", () => {
    const estimate = fargate({}, { network_configuration: { assign_public_ip: true }, desired_count: 2 });
    expect(line(estimate, "public IPv4 per task")?.monthly).toBe(7.3);
  });

  test("an autoscaled service is priced at its desired count, with a note", () => {
    const estimate = fargate({}, { lifecycle: { ignore_changes: ["desired_count"] } });
    expect(estimate.notes).toContain("acme-test-app autoscales: priced at its desired count at creation (1); more tasks cost more");
  });

  test("an internet-facing ALB costs its hours and one public IPv4 address per subnet", () => {
    const estimate = estimateCost([doc({ aws_lb: { alb: { load_balancer_type: "application", subnets: ["a", "b"] } } })]);
    expect(line(estimate, "application load balancer")?.monthly).toBeCloseTo(16.43, 1);
    expect(line(estimate, "load balancer public IPv4 addresses")?.monthly).toBe(7.3);
    expect(estimate.byCategory.services).toBeGreaterThan(23);
  });

  test("the SafeBucket prod services stack costs about $89 a month", () => {
    const config = shippedConfig("safebucket-prod");
    const services = testEnvironment(config).services!;
    const estimate = estimateCost([{ stack: "safebucket-prod-services", json: synth(services) }]);
    // 2 x SafeBucket 0.5 vCPU/1 GB, Loki 0.5/1, each with a public IP; ALB with 2 IPs; alarms and log groups.
    // No Mailpit in production: mail goes through the relay.
    expect(estimate.byCategory.services).toBeGreaterThan(86);
    expect(estimate.byCategory.services).toBeLessThan(92);
  });
});

describe("shipped prod", () => {
  const stacks = testEnvironment(shippedStartupWebApp("prod"));
  const documents = layersOf(stacks.state.config).map((layer) => ({ stack: `prod-${layer}`, json: synth(stacks[layer]!) }));
  const estimate = estimateCost(documents);

  test("the database costs about the old systems' $26 (db.t4g.small with 20 GB gp3)", () => {
    expect(estimate.byCategory.database).toBeGreaterThan(25);
    expect(estimate.byCategory.database).toBeLessThan(27);
  });

  test("without NAT, bastion and the web layer (the old systems had none) it lands near the old systems' $29 a month", () => {
    const old = estimateCost(documents.filter((d) => d.stack !== "prod-web"));
    expect(old.total).toBeLessThan(estimate.total);
    const withoutNetworkAndBastion = old.total - (old.byCategory.network ?? 0) - (old.byCategory.bastion ?? 0);
    expect(withoutNetworkAndBastion).toBeGreaterThan(26);
    expect(withoutNetworkAndBastion).toBeLessThan(34);
  });

  test("prod's SES domain is priced per message, at the volume prices.json assumes", () => {
    expect(line(estimate, "SES outbound mail")?.monthly).toBeCloseTo(
      (prices.assumptions.sesMessagesPerMonth / 1000) * prices.ses.perThousandMessages,
      2,
    );
    expect(estimate.byCategory.email).toBeGreaterThan(0);
  });

  test("the running bastion is billed for its public IPv4 address", () => {
    expect(line(estimate, "public IPv4 address")?.monthly).toBe(3.65);
  });

  test("the table ends with the total", () => {
    expect(formatCostTable(estimate, "prod")).toMatch(new RegExp(`total\\s+${estimate.total.toFixed(2)}`));
  });
});

describe("web layer (CloudFront, ECR, ACM, tasks with public IPs)", () => {
  const REPO = "${aws_ecr_repository.backend_repository_1A2B3C4D.name}";
  const keepLast = (count: number): string =>
    JSON.stringify({
      rules: [
        { rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 } },
        {
          rulePriority: 2,
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: count },
          action: { type: "expire" },
        },
      ],
    });
  const web = (extra: Json = {}): CostEstimate =>
    estimateCost([
      {
        stack: "t-web",
        json: {
          provider: { aws: [{ region: "us-east-1" }] },
          resource: {
            aws_cloudfront_distribution: { cdn: { enabled: true, aliases: ["www.example.com"] } },
            aws_ecr_repository: { backend_repository_1A2B3C4D: { name: "acme-test-backend" } },
            aws_ecr_lifecycle_policy: { keep: { repository: REPO, policy: keepLast(30) } },
            aws_acm_certificate: { cert: { domain_name: "www.example.com", validation_method: "DNS" } },
            ...extra,
          },
        },
      },
    ]);

  test("CloudFront is priced at the assumed monthly transfer and requests, and the line says they are assumed", () => {
    const transfer = line(web(), "CloudFront data transfer out (www.example.com)")!;
    expect(transfer.monthly).toBe(round(prices.assumptions.cloudFrontGbOutPerMonth * prices.cloudFront.dataTransferOutPerGb));
    expect(transfer.basis).toContain("(assumed)");
    const requests = line(web(), "CloudFront HTTPS requests")!;
    expect(requests.monthly).toBe(
      round((prices.assumptions.cloudFrontRequestsPerMonth / 10000) * prices.cloudFront.httpsRequestsPerTenThousand),
    );
    expect(requests.basis).toContain("1,000,000 requests/month (assumed)");
    expect(web().notes.some((n) => n.startsWith("CloudFront:"))).toBe(true);
  });

  test("a disabled distribution serves, and costs, nothing", () => {
    const estimate = web({ aws_cloudfront_distribution: { cdn: { enabled: false, aliases: ["www.example.com"] } } });
    expect(line(estimate, "CloudFront (www.example.com), disabled")?.monthly).toBe(0);
    expect(line(estimate, "CloudFront data transfer out")).toBeUndefined();
  });

  test("ECR stores the images its lifecycle policy keeps, at the assumed image size", () => {
    const ecr = line(web(), "ECR images (acme-test-backend)")!;
    expect(ecr.monthly).toBe(round(30 * prices.assumptions.ecrImageGb * prices.ecr.storagePerGbMonth));
    expect(ecr.basis).toContain("30 images kept (lifecycle policy)");
  });

  test("ECR without a readable image count is priced at the assumed stored GB, and says why", () => {
    const estimate = web({ aws_ecr_lifecycle_policy: { keep: { repository: REPO, policy: "${jsonencode(local.rules)}" } } });
    const ecr = line(estimate, "ECR images (acme-test-backend)")!;
    expect(ecr.monthly).toBe(round(prices.assumptions.ecrStoredGbWithoutLifecyclePolicy * prices.ecr.storagePerGbMonth));
    expect(ecr.basis).toContain("no image count in a lifecycle policy");
  });

  test("a lifecycle policy written with Fn.jsonencode, as cdktf synthesizes it, is read too", () => {
    const stack = new TerraformStack(Testing.app(), "t-web");
    const repository = new EcrRepository(stack, "repository", { name: "acme-test-backend" });
    const rules = [
      { rulePriority: 1, selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 } },
      {
        rulePriority: 2,
        description: "keep = the last 12",
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 12 },
      },
    ].map((rule) => ({ ...rule, action: { type: "expire" } }));
    new EcrLifecyclePolicy(stack, "lifecycle", { repository: repository.name, policy: Fn.jsonencode({ rules }) });
    const json = synth(stack);
    expect(resourcesOf(json, "aws_ecr_lifecycle_policy")[0].policy).toMatch(/^\$\{jsonencode\(/);
    const estimate = estimateCost([{ stack: "t-web", json }]);
    expect(line(estimate, "ECR images (acme-test-backend)")?.basis).toContain("12 images kept (lifecycle policy)");
  });

  test("the kept images are the sum of the count rules; age rules and unreadable policies give none", () => {
    expect(keptImages(keepLast(10))).toBe(10);
    expect(
      keptImages(JSON.stringify({ rules: [{ selection: { tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 1 } }] })),
    ).toBeUndefined();
    expect(keptImages("${jsonencode(local.rules)}")).toBeUndefined();
    expect(keptImages("not json")).toBeUndefined();
    expect(keptImages(undefined)).toBeUndefined();
  });

  test("a public ACM certificate is a line at $0 that says it is free; a private one points to Private CA", () => {
    const pub = line(web(), "ACM public certificate (www.example.com)")!;
    expect(pub.monthly).toBe(0);
    expect(pub.basis).toBe("public certificates are free");
    const priv = web({
      aws_acm_certificate: { cert: { domain_name: "internal.example.com", certificate_authority_arn: "arn:aws:acm-pca:x" } },
    });
    expect(line(priv, "ACM private certificate (internal.example.com)")?.basis).toContain("AWS Private CA");
    expect(priv.notes.some((n) => n.startsWith("ACM private certificates"))).toBe(true);
  });

  test("each Fargate task with a public IP is billed once, whether the block is written as an object or a list", () => {
    const TASK = "${aws_ecs_task_definition.web_task.arn}";
    const estimate = web({
      aws_ecs_task_definition: { web_task: { cpu: "256", memory: "512" } },
      aws_ecs_service: {
        a: { name: "acme-test-a", task_definition: TASK, desired_count: 2, network_configuration: { assign_public_ip: true } },
        b: { name: "acme-test-b", task_definition: TASK, desired_count: 1, network_configuration: [{ assign_public_ip: true }] },
      },
    });
    const ipLines = estimate.lines.filter((l) => l.item.startsWith("public IPv4"));
    expect(ipLines.map((l) => [l.item, l.monthly])).toEqual([
      ["public IPv4 per task (acme-test-a)", 7.3],
      ["public IPv4 per task (acme-test-b)", 3.65],
    ]);
  });
});

const round = (n: number): number => Math.round(n * 100) / 100;
