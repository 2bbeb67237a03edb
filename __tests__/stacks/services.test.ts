import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Role } from "../../constructs/role";
import type { SecurityGroup } from "../../constructs/security-group";
import { synthesize } from "../../scripts/lib/synth";
import { layersOf } from "../../stacks/environment-stack";
import {
  configProblems,
  decodePolicy,
  MINIMAL_DOCUMENT,
  referenceOf,
  resourcesOf,
  resourcesUnder,
  safeBucketTestConfig,
  shippedConfig,
  synth,
  testConfig,
  testEnvironment,
  type Json,
} from "../helpers";

const ALL_ON = {
  application: "safebucket",
  services: { safebucket: { image: "ghcr.io/acme/app:1.0.0" } },
};

function servicesOf(overrides: Json = {}) {
  const stacks = testEnvironment(safeBucketTestConfig({ ...ALL_ON, ...overrides }));
  return { stacks, json: synth(stacks.services!) };
}

/** The inline policy statements of `role` (none when it has no policy). */
const statementsOf = (json: Json, role: Role): Json[] =>
  resourcesUnder(json, role, "aws_iam_role_policy").flatMap((p) => decodePolicy(p.policy).Statement);

const service = (json: Json, name: string): Json => resourcesOf(json, "aws_ecs_service").find((s) => s.name === `acme-test-${name}`)!;
const groupRules = (json: Json, group: SecurityGroup, type: "ingress" | "egress") =>
  resourcesOf(json, `aws_vpc_security_group_${type}_rule`).filter((r) => r.security_group_id === referenceOf(group, group.securityGroupId));

describe("services stack", () => {
  test("StartupWebApp has no services stack", () => {
    const config = testConfig();
    expect(testEnvironment(config).services).toBeUndefined();
    expect(layersOf(config)).not.toContain("services");
  });

  test("SafeBucket, Loki and Mailpit run in one cluster", () => {
    const { json } = servicesOf();
    expect(
      resourcesOf(json, "aws_ecs_service")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["acme-test-loki", "acme-test-mailpit", "acme-test-safebucket"]);
    expect(
      resourcesOf(json, "aws_cloudwatch_log_group")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["/ecs/acme-test-loki", "/ecs/acme-test-mailpit", "/ecs/acme-test-safebucket"]);
  });

  test("only SafeBucket is behind the load balancer", () => {
    const { json } = servicesOf();
    expect(service(json, "safebucket").load_balancer).toEqual([expect.objectContaining({ container_port: 8080 })]);
    expect(service(json, "loki").load_balancer).toBeUndefined();
    expect(service(json, "mailpit").load_balancer).toBeUndefined();
  });

  test("Mailpit's UI is reachable only from the bastion, its SMTP only from SafeBucket", () => {
    const { json, stacks } = servicesOf();
    const groups = stacks.services!.securityGroups;
    const bastion = stacks.network.securityGroups.bastion;
    const ingress = groupRules(json, groups.mailpit!, "ingress").map((r) => [r.from_port, r.referenced_security_group_id, r.cidr_ipv4]);
    expect(ingress.sort()).toEqual([
      [1025, referenceOf(groups.safebucket, groups.safebucket.securityGroupId), undefined],
      [8025, referenceOf(bastion, bastion.securityGroupId), undefined],
    ]);
  });

  test("the internet reaches only the load balancer, on HTTP", () => {
    const { json, stacks } = servicesOf();
    const alb = stacks.services!.loadBalancer.securityGroup;
    const world = resourcesOf(json, "aws_vpc_security_group_ingress_rule").filter((r) => r.cidr_ipv4 === "0.0.0.0/0");
    expect(world.map((r) => [r.from_port, r.security_group_id])).toEqual([[80, referenceOf(alb, alb.securityGroupId)]]);
  });

  test("Loki and Mailpit get names in <project>.local", () => {
    const { json, stacks } = servicesOf();
    expect(resourcesOf(json, "aws_service_discovery_private_dns_namespace")[0].name).toBe("acme.local");
    expect(
      resourcesOf(json, "aws_service_discovery_service")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["loki", "mailpit"]);
    expect(stacks.services!.loki.discoveryName).toBe("loki.acme.local");
  });

  test("Mailpit's task role has no permissions at all", () => {
    const { json, stacks } = servicesOf();
    const mailpit = stacks.services!.mailpit!;
    expect(statementsOf(json, mailpit.taskRole)).toEqual([]);
    expect(statementsOf(json, mailpit.executionRole).flatMap((s) => s.Action)).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
  });

  test("SafeBucket's task role names exactly the data stack's bucket, queues and cache", () => {
    const { json, stacks } = servicesOf();
    const actions = statementsOf(json, stacks.services!.safebucket.taskRole).flatMap((s) => s.Action);
    expect(actions).toEqual(
      expect.arrayContaining([
        "s3:GetObject",
        "s3:PutObject",
        "s3:ListBucket",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
        "elasticache:Connect",
      ]),
    );
    expect(actions.some((a: string) => a.endsWith("*"))).toBe(false);
  });

  test("Loki's task role reaches only Loki's own bucket", () => {
    const { json, stacks } = servicesOf();
    const { loki, lokiBucket } = stacks.services!;
    const bucketArn = referenceOf(lokiBucket, lokiBucket.bucketArn).slice(2, -1);
    const resources = statementsOf(json, loki.taskRole).flatMap((s) => s.Resource);
    expect(new Set(resources)).toEqual(new Set([bucketArn, `\${${bucketArn}}/*`]));
  });

  test("SafeBucket's execution role reads only the application secret", () => {
    const { json, stacks } = servicesOf();
    const services = stacks.services!;
    const secrets = statementsOf(json, services.safebucket.executionRole).filter((s) => s.Action.includes("secretsmanager:GetSecretValue"));
    expect(secrets).toHaveLength(1);
    const appSecret = stacks.data.appSecret;
    expect(secrets[0].Resource).toEqual([referenceOf(appSecret, appSecret.secretArn).slice(2, -1)]);
    expect(statementsOf(json, services.loki.executionRole).some((s) => s.Action.includes("secretsmanager:GetSecretValue"))).toBe(false);
  });

  test("without NAT the tasks run in public subnets with public IPs", () => {
    const { json } = servicesOf();
    expect(service(json, "safebucket").network_configuration).toMatchObject({
      assign_public_ip: true,
      subnets: [expect.stringMatching(/_public-/), expect.stringMatching(/_public-/)],
    });
  });

  test("with NAT the tasks run in private subnets without public IPs", () => {
    const { json } = servicesOf({ network: { natGateway: true } });
    expect(service(json, "safebucket").network_configuration).toMatchObject({
      assign_public_ip: false,
      subnets: [expect.stringMatching(/_private-/), expect.stringMatching(/_private-/)],
    });
  });

  test("SafeBucket's tasks join the backend group, the one PostgreSQL and Redis accept", () => {
    const groups = service(servicesOf().json, "safebucket").network_configuration.security_groups as string[];
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatch(/backend/);
  });

  test("the stack deploys after the database layer (which follows access) and observability, whose secret and topic it uses", () => {
    const { stacks } = servicesOf();
    const dependencies = stacks.services!.dependencies.map((d) => d.node.id);
    expect(dependencies).toEqual(expect.arrayContaining(["test-database", "test-observability"]));
    expect(stacks.database!.dependencies.map((d) => d.node.id)).toContain("test-access");
  });
});

describe("services config", () => {
  test("private subnets without NAT are a config error", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, ...ALL_ON, services: { ...ALL_ON.services, subnets: "private" } })).toEqual([
      expect.stringMatching(/^services\.subnets: needs network\.natGateway: true/),
    ]);
  });

  test("SafeBucket's image is required", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, application: "safebucket" })).toEqual([
      expect.stringMatching(/^services\.safebucket\.image: is required/),
    ]);
  });

  test("an unpinned image is a config error in production only", () => {
    const document = {
      ...MINIMAL_DOCUMENT,
      application: "safebucket",
      mail: { smtpHost: "smtp.example.net" },
      services: { safebucket: { image: "ghcr.io/acme/app:latest" } },
    };
    expect(configProblems(document, "prod")).toEqual([expect.stringMatching(/^services\.safebucket\.image: is tagged latest/)]);
    expect(configProblems(document, "dev")).toEqual([]);
  });

  test("a task size Fargate does not offer is a config error naming the field", () => {
    const document = { ...MINIMAL_DOCUMENT, ...ALL_ON, services: { safebucket: { image: "a/b:1", cpu: 512, memory: 512 } } };
    expect(configProblems(document)).toEqual([expect.stringMatching(/^services\.safebucket\.memory: must be a Fargate size for cpu 512/)]);
  });

  test("Loki keeps its state in one task: two is a config error", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, ...ALL_ON, services: { ...ALL_ON.services, loki: { desiredCount: 2 } } })).toEqual([
      expect.stringMatching(/^services\.loki\.desiredCount: must be 0 or 1/),
    ]);
  });
});

describe("shipped SafeBucket environments", () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), "services-shipped-"));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  // synthesize() runs the guardrails: any violation throws.
  test.each(["safebucket-dev", "safebucket-prod"])("%s synthesizes its services stack and passes every guardrail", (name) => {
    const stacks = synthesize(outdir, [shippedConfig(name)]);
    expect(stacks.map((s) => s.name)).toContain(`${name}-services`);
  });

  test("production SafeBucket autoscales between 2 and 5 tasks", () => {
    const json = synth(testEnvironment(shippedConfig("safebucket-prod")).services!);
    expect(resourcesOf(json, "aws_appautoscaling_target")[0]).toMatchObject({ min_capacity: 2, max_capacity: 5 });
  });
});
