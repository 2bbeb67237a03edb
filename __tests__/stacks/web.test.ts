import { layersOf } from "../../stacks/environment-stack";
import {
  configProblems,
  decodePolicy,
  MINIMAL_DOCUMENT,
  resourcesOf,
  shippedStartupWebApp,
  synth,
  testConfig,
  testEnvironment,
  type Json,
} from "../helpers";

const WEB = { domain: "www.example.com", imageTag: "1.2.3" };
const TENANTS = { databases: ["shop_prod", "blog_prod"] };

function webOf(overrides: Json = {}) {
  const stacks = testEnvironment(testConfig({ tenants: TENANTS, web: WEB, ...overrides }));
  return { stacks, json: synth(stacks.web!) };
}

/** The one container definition of the task definition of service `name`, references as text. */
function containerOf(json: Json, family: string): Json {
  const task = resourcesOf(json, "aws_ecs_task_definition").find((t) => t.family === family)!;
  return decodePolicy(task.container_definitions)[0];
}

/** The inline policy statements of the role `name`. */
function statementsOfRole(json: Json, roleName: string): Json[] {
  const [key] = Object.entries(json.resource.aws_iam_role).find(([, r]) => (r as Json).name === roleName)!;
  return resourcesOf(json, "aws_iam_role_policy")
    .filter((p) => String(p.role).includes(`aws_iam_role.${key}.`))
    .flatMap((p) => decodePolicy(p.policy).Statement);
}

describe("web stack", () => {
  test("the layer exists only with a web section, after tenants", () => {
    expect(layersOf(testConfig())).not.toContain("web");
    const layers = layersOf(testConfig({ web: WEB }));
    expect(layers.indexOf("web")).toBe(layers.indexOf("tenants") + 1);
    expect(testEnvironment(testConfig()).web).toBeUndefined();
  });

  test("one service per tenant database, each with its own database, secret name and the production settings module", () => {
    const { json } = webOf();
    expect(
      resourcesOf(json, "aws_ecs_service")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["acme-test-blog-prod", "acme-test-shop-prod"]);
    const environment = Object.fromEntries(
      containerOf(json, "acme-test-shop-prod").environment.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(environment).toMatchObject({
      DJANGO_SETTINGS_MODULE: "StartupWebApp.settings_production",
      DATABASE_NAME: "shop_prod",
      DB_SECRET_NAME: "acme/test/app",
      AWS_REGION: "us-east-1",
      ALLOWED_HOSTS: "www.example.com",
    });
  });

  test("each task role reads only its tenant's secret (per-database isolation) and may open ECS Exec channels", () => {
    const { json } = webOf({ tenants: { ...TENANTS, isolation: "per-database" } });
    const statements = statementsOfRole(json, "acme-test-shop-prod-task");
    const secretReads = statements.filter((s) => s.Action.includes("secretsmanager:GetSecretValue"));
    expect(secretReads).toHaveLength(1);
    expect(secretReads[0].Resource).toHaveLength(1);
    expect(String(secretReads[0].Resource[0])).toMatch(/shop_prod/);
    expect(statements.some((s) => s.Action.includes("ssmmessages:OpenDataChannel"))).toBe(true);
    expect(resourcesOf(json, "aws_ecs_service").every((s) => s.enable_execute_command === true)).toBe(true);
  });

  test("logs go to /ecs/<project>-<env>-<app>; the deployment circuit breaker rolls back", () => {
    const { json } = webOf();
    expect(
      resourcesOf(json, "aws_cloudwatch_log_group")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["/ecs/acme-test-blog-prod", "/ecs/acme-test-shop-prod"]);
    for (const s of resourcesOf(json, "aws_ecs_service")) expect(s.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
  });

  test("the load balancer serves HTTPS only, redirects HTTP, and routes /projects/<app>/* to each tenant", () => {
    const { json } = webOf({ web: { ...WEB, apps: { shop_prod: "shop" } } });
    const listeners = resourcesOf(json, "aws_lb_listener").map((l) => [l.port, l.protocol, l.default_action[0].type]);
    expect(listeners.sort()).toEqual([
      [443, "HTTPS", "fixed-response"],
      [80, "HTTP", "redirect"],
    ]);
    const rules = resourcesOf(json, "aws_lb_listener_rule").map((r) => [r.priority, r.condition[0].path_pattern.values]);
    expect(rules.sort()).toEqual([
      [1, ["/projects/shop", "/projects/shop/*"]],
      [2, ["/projects/blog-prod", "/projects/blog-prod/*"]],
    ]);
    expect(resourcesOf(json, "aws_lb_target_group").map((g) => g.health_check.path)).toEqual(["/health/", "/health/"]);
  });

  test("tasks run in public subnets with public IPs without NAT, in private subnets with NAT", () => {
    const open = webOf().json;
    expect(resourcesOf(open, "aws_ecs_service")[0].network_configuration.assign_public_ip).toBe(true);
    const nat = webOf({ network: { natGateway: true } }).json;
    expect(resourcesOf(nat, "aws_ecs_service")[0].network_configuration.assign_public_ip).toBe(false);
    expect(JSON.stringify(resourcesOf(nat, "aws_ecs_service")[0].network_configuration.subnets)).toMatch(/private/);
  });

  test("the backend group accepts only the load balancer, on the container port", () => {
    const { json } = webOf();
    const ingress = resourcesOf(json, "aws_vpc_security_group_ingress_rule").filter((r) => String(r.security_group_id).includes("backend"));
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({ from_port: 8000, to_port: 8000 });
    expect(String(ingress[0].referenced_security_group_id)).toMatch(/alb_sg/);
  });

  test("the ECR repository has immutable tags, scans on push and keeps the last N images", () => {
    const { json } = webOf({ web: { ...WEB, keepImages: 7 } });
    expect(resourcesOf(json, "aws_ecr_repository")[0]).toMatchObject({
      name: "acme-test-backend",
      image_tag_mutability: "IMMUTABLE",
      image_scanning_configuration: { scan_on_push: true },
    });
    expect(decodePolicy(resourcesOf(json, "aws_ecr_lifecycle_policy")[0].policy).rules[0].selection.countNumber).toBe(7);
    expect(containerOf(json, "acme-test-shop-prod").image).toMatch(/repository_url\}:1\.2\.3$/);
  });

  test("CloudFront: ALB by default uncached with Host and cookies, /static/* from the bucket through OAC, HSTS, us-east-1 certificate", () => {
    const { json } = webOf();
    const cdn = resourcesOf(json, "aws_cloudfront_distribution")[0];
    expect(cdn.aliases).toEqual(["www.example.com"]);
    expect(cdn.default_cache_behavior).toMatchObject({
      cache_policy_id: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
      origin_request_policy_id: "216adef6-5c7f-47e4-b989-5492eafa07d3",
      viewer_protocol_policy: "redirect-to-https",
    });
    expect(cdn.ordered_cache_behavior[0]).toMatchObject({ path_pattern: "/static/*", target_origin_id: "static" });
    expect(cdn.origin[1].origin_access_control_id).toMatch(/cloudfront_origin_access_control/);
    expect(String(cdn.viewer_certificate.acm_certificate_arn)).toMatch(/cdn-certificate/);
    const cdnCertificate = resourcesOf(json, "aws_acm_certificate").find((c) => c.provider === "aws.us_east_1");
    expect(cdnCertificate).toBeDefined();
    const hsts = resourcesOf(json, "aws_cloudfront_response_headers_policy")[0].security_headers_config.strict_transport_security;
    expect(hsts).toMatchObject({ include_subdomains: true, override: true });
    expect(hsts.access_control_max_age_sec).toBeGreaterThanOrEqual(31536000);
  });

  test("the static bucket is readable only by this distribution; the media bucket only by the tenant tasks", () => {
    const { json } = webOf();
    const policies = resourcesOf(json, "aws_s3_bucket_policy").map((p) => decodePolicy(p.policy).Statement);
    const cloudfront = policies.flat().find((s) => s.Sid === "CloudFrontReadsStatic");
    expect(cloudfront).toMatchObject({ Principal: { Service: ["cloudfront.amazonaws.com"] }, Action: ["s3:GetObject"] });
    expect(JSON.stringify(cloudfront.Condition)).toMatch(/aws_cloudfront_distribution/);
    const deny = policies.flat().find((s) => s.Sid === "OnlyTheTenantTasks");
    expect(deny.Effect).toBe("Deny");
    expect(deny.Condition.ArnNotEquals["aws:PrincipalArn"]).toHaveLength(2);
  });

  test("with a hosted zone the validation records are created in it; without, they are only outputs", () => {
    expect(resourcesOf(webOf().json, "aws_route53_record")).toHaveLength(0);
    const zoned = webOf({ web: { ...WEB, hostedZoneId: "Z0123456789ABCDEFGHIJ" } }).json;
    expect(resourcesOf(zoned, "aws_route53_record")).toHaveLength(2);
    expect(Object.keys(webOf().json.output)).toEqual(
      expect.arrayContaining(["certificate_validation_records", "cdn_certificate_validation_records"]),
    );
  });

  test("outputs the contract the migrate and manage commands read", () => {
    const { json } = webOf();
    expect(Object.keys(json.output)).toEqual(
      expect.arrayContaining(["cluster_name", "tenant_services", "task_subnet_ids", "task_security_group_ids", "task_assign_public_ip"]),
    );
    const services = json.output.tenant_services.value;
    expect(Object.keys(services).sort()).toEqual(["blog_prod", "shop_prod"]);
    expect(services.shop_prod).toMatchObject({ container_name: "web", log_stream_prefix: "ecs" });
    expect(Object.keys(services.shop_prod).sort()).toEqual([
      "container_name",
      "log_group_name",
      "log_stream_prefix",
      "service_name",
      "task_definition_family",
    ]);
    expect(json.output.task_assign_public_ip.value).toBe(true);
  });

  test("alarms on target 5xx, unhealthy hosts, ECS CPU and memory notify the alert topic", () => {
    const alarms = resourcesOf(webOf().json, "aws_cloudwatch_metric_alarm");
    const names = alarms.map((a) => a.alarm_name);
    for (const suffix of ["shop-prod-target-5xx", "shop-prod-unhealthy-targets", "shop-prod-cpu-high", "shop-prod-memory-high"]) {
      expect(names).toContain(`acme-test-${suffix}`);
    }
    // The observability stack's topic (a cross-stack reference until the stack is prepared).
    expect(alarms.every((a) => /aws_sns_topic\.rds-alerts_topic|terraform_remote_state/.test(String(a.alarm_actions[0])))).toBe(true);
  });

  test("shipped prod: three tenants behind one HTTPS load balancer and CloudFront", () => {
    const json = synth(testEnvironment(shippedStartupWebApp("prod")).web!);
    expect(resourcesOf(json, "aws_ecs_service")).toHaveLength(3);
    expect(resourcesOf(json, "aws_lb")).toHaveLength(1);
    expect(resourcesOf(json, "aws_cloudfront_distribution")).toHaveLength(1);
    expect(
      resourcesOf(json, "aws_lb_listener")
        .map((l) => l.protocol)
        .sort(),
    ).toEqual(["HTTP", "HTTPS"]);
  });

  test("shipped dev: one small task, no NAT", () => {
    const config = shippedStartupWebApp("dev");
    expect(config.network.natGateway).toBe(false);
    const json = synth(testEnvironment(config).web!);
    const [service] = resourcesOf(json, "aws_ecs_service");
    expect(resourcesOf(json, "aws_ecs_service")).toHaveLength(1);
    expect(service).toMatchObject({ desired_count: 1 });
    expect(resourcesOf(json, "aws_ecs_task_definition")[0]).toMatchObject({ cpu: "256", memory: "512" });
  });
});

describe("web config", () => {
  const document = (web: Json, extra: Json = {}) => ({ ...MINIMAL_DOCUMENT, tenants: TENANTS, web: { ...WEB, ...web }, ...extra });

  test("production refuses latest or a branch tag, and accepts a version tag or a digest", () => {
    expect(configProblems(document({ imageTag: "latest" }), "prod")).toEqual([
      expect.stringMatching(/^web\.imageTag: must be a version tag/),
    ]);
    expect(configProblems(document({ imageTag: "main" }), "prod")).toHaveLength(1);
    expect(configProblems(document({ imageTag: "v1.4.2" }), "prod")).toEqual([]);
    expect(configProblems(document({ imageTag: `sha256:${"a".repeat(64)}` }), "prod")).toEqual([]);
    expect(configProblems(document({ imageTag: "latest" }), "dev")).toEqual([]);
  });

  test("apps must name tenant databases and be unique", () => {
    expect(configProblems(document({ apps: { nope: "x" } }))).toEqual([
      expect.stringMatching(/^web\.apps\.nope: must name a tenant database/),
    ]);
    expect(configProblems(document({ apps: { shop_prod: "blog-prod" } }))).toEqual([
      expect.stringMatching(/^web\.apps\.blog_prod: must differ from shop_prod's: both would be served at \/projects\/blog-prod/),
    ]);
  });

  test("by default an app is named after its database, without the environment's suffix", () => {
    const config = shippedStartupWebApp("dev");
    const json = synth(testEnvironment(config).web!);
    expect(resourcesOf(json, "aws_ecs_service").map((s) => s.name)).toEqual(["startupwebapp-dev-startupwebapp"]);
  });

  test("sizes, spot and autoscaling are checked across fields with their paths", () => {
    expect(configProblems(document({ cpu: 256, memory: 4096 }))).toEqual([expect.stringMatching(/^web\.memory: /)]);
    expect(configProblems(document({ spot: true, architecture: "ARM64" }))).toEqual([expect.stringMatching(/^web\.spot: /)]);
    expect(configProblems(document({ autoscaling: { minCount: 2, maxCount: 4 } }))).toEqual([
      expect.stringMatching(/^web\.desiredCount: must lie between/),
    ]);
  });

  test("a target group name over 32 characters is refused with the app to shorten", () => {
    const problems = configProblems(document({ apps: { shop_prod: "a-very-long-application-name" } }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^web\.apps\.shop_prod: makes the target group name acme-test-a-very-long-application-name longer than AWS's 32/,
      ),
    ]);
  });
});
