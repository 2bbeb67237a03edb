import { LoadBalancer, type LoadBalancerProps } from "../../constructs/load-balancer";
import { SecurityGroup } from "../../constructs/security-group";
import { decodePolicy, onlyResource, resourcesOf, synth, testConfig, testStack, type Json } from "../helpers";

const CERT = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-aaaa-bbbb-cccc-123456789012";
const BASE: LoadBalancerProps = {
  loadBalancerName: "acme-test-alb",
  vpcId: "vpc-1",
  subnetIds: ["subnet-a", "subnet-b"],
  region: "us-east-1",
  target: { port: 8080, healthCheckPath: "/" },
};

function build(props: Partial<LoadBalancerProps> = {}) {
  const stack = testStack(testConfig(), "services");
  const lb = new LoadBalancer(stack, "alb", { ...BASE, ...props });
  return { stack, lb };
}
const synthOf = (props: Partial<LoadBalancerProps> = {}) => synth(build(props).stack);
const warningsOf = (construct: { node: { metadata: { type: string; data: unknown }[] } }): string[] =>
  construct.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
const listeners = (json: Json) => resourcesOf(json, "aws_lb_listener").map((l) => [l.port, l.protocol, l.default_action[0].type]);
const openToWorld = (json: Json) =>
  resourcesOf(json, "aws_vpc_security_group_ingress_rule")
    .filter((r) => r.cidr_ipv4 === "0.0.0.0/0")
    .map((r) => r.from_port);

describe("LoadBalancer", () => {
  test("with a certificate HTTPS forwards on 443 with TLS 1.2+ and HTTP only redirects to it", () => {
    const json = synthOf({ certificateArn: CERT });
    expect(listeners(json).sort()).toEqual([
      [443, "HTTPS", "forward"],
      [80, "HTTP", "redirect"],
    ]);
    const https = resourcesOf(json, "aws_lb_listener").find((l) => l.port === 443)!;
    expect(https).toMatchObject({ certificate_arn: CERT, ssl_policy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
    const http = resourcesOf(json, "aws_lb_listener").find((l) => l.port === 80)!;
    expect(http.default_action[0].redirect).toEqual({ port: "443", protocol: "HTTPS", status_code: "HTTP_301" });
  });

  test("without a certificate HTTP forwards and the synth output warns", () => {
    const { stack, lb } = build();
    expect(listeners(synth(stack))).toEqual([[80, "HTTP", "forward"]]);
    expect(lb.url).toMatch(/^http:\/\//);
    expect(warningsOf(lb)).toEqual([expect.stringMatching(/no certificateArn, so the load balancer serves plain HTTP/)]);
  });

  test("with a certificate there is no warning and the URL is https", () => {
    const { lb } = build({ certificateArn: CERT });
    expect(warningsOf(lb)).toEqual([]);
    expect(lb.url).toMatch(/^https:\/\//);
  });

  test("the internet reaches only the listener ports", () => {
    expect(openToWorld(synthOf({ certificateArn: CERT })).sort()).toEqual([443, 80]);
    expect(openToWorld(synthOf())).toEqual([80]);
  });

  test("the load balancer is public, drops invalid headers and is protected from deletion by default", () => {
    expect(onlyResource(synthOf(), "aws_lb")).toMatchObject({
      name: "acme-test-alb",
      internal: false,
      load_balancer_type: "application",
      drop_invalid_header_fields: true,
      enable_deletion_protection: true,
    });
  });

  test("access logs go to a SecureBucket of its own, encrypted with S3-managed keys as ELB requires, unversioned", () => {
    const json = synthOf();
    const lb = onlyResource(json, "aws_lb");
    expect(lb.access_logs).toMatchObject({ enabled: true, prefix: "alb", bucket: expect.stringMatching(/aws_s3_bucket\.alb_logs_bucket/) });
    expect(onlyResource(json, "aws_s3_bucket").bucket_prefix).toBe("acme-test-alb-logs-");
    const sse = onlyResource(json, "aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(sse.apply_server_side_encryption_by_default.sse_algorithm).toBe("AES256");
    expect(resourcesOf(json, "aws_s3_bucket_versioning")).toHaveLength(0);
    expect(lb.depends_on).toEqual([expect.stringMatching(/aws_s3_bucket_policy\.alb_logs_policy/)]);
  });

  test("every log bucket resource moves from its address before SecureBucket, so a deployed bucket is kept", () => {
    const { stack, lb } = build();
    const json = synth(stack);
    expect(lb.logBucketMoves.map((m) => m.from).sort()).toEqual(
      [
        "aws_s3_bucket.alb_access-logs_7027E44E",
        "aws_s3_bucket_lifecycle_configuration.alb_access-logs-lifecycle_9B10F2CC",
        "aws_s3_bucket_ownership_controls.alb_access-logs-ownership_D81F6A89",
        "aws_s3_bucket_policy.alb_access-logs-policy_14FE4C23",
        "aws_s3_bucket_public_access_block.alb_access-logs-public-access_96E25399",
        "aws_s3_bucket_server_side_encryption_configuration.alb_access-logs-encryption_A36F8181",
      ].sort(),
    );
    // Every S3 resource of the bucket is a target of one move.
    const s3 = Object.entries(json.resource as Json)
      .filter(([type]) => type.startsWith("aws_s3_"))
      .flatMap(([type, byName]) => Object.keys(byName as Json).map((name) => `${type}.${name}`));
    expect(lb.logBucketMoves.map((m) => m.to).sort()).toEqual(s3.sort());
    expect((json.moved as Json[]).map((m) => m.to).sort()).toEqual(s3.sort());
  });

  test("the log bucket's policy denies plain HTTP and lets only ELB put objects under AWSLogs/<account>", () => {
    const policy = decodePolicy(onlyResource(synthOf(), "aws_s3_bucket_policy").policy);
    const [deny, service, account] = policy.Statement;
    expect(deny).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
    expect(service).toMatchObject({
      Action: ["s3:PutObject"],
      Principal: { Service: ["logdelivery.elasticloadbalancing.amazonaws.com"] },
      Resource: [expect.stringMatching(/\/alb\/AWSLogs\/\$\{data\.aws_caller_identity\.caller-identity\.account_id\}\/\*$/)],
    });
    expect(account).toMatchObject({
      Action: ["s3:PutObject"],
      Principal: { AWS: [expect.stringMatching(/^data\.aws_elb_service_account\.alb_elb-account_\w+\.arn$/)] },
    });
  });

  test("in a region opened after August 2022 only the log delivery service principal is named", () => {
    const json = synthOf({ region: "eu-central-2" });
    expect(resourcesOf(json, "aws_elb_service_account", "data")).toHaveLength(0);
    expect(decodePolicy(onlyResource(json, "aws_s3_bucket_policy").policy).Statement).toHaveLength(2);
  });

  test("the log bucket blocks public access and expires logs after the retention", () => {
    const json = synthOf({ accessLogsRetentionDays: 30 });
    expect(onlyResource(json, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(onlyResource(json, "aws_s3_bucket_lifecycle_configuration").rule[0].expiration).toEqual([{ days: 30 }]);
    expect(onlyResource(json, "aws_s3_bucket").force_destroy).toBe(false);
    expect(onlyResource(json, "aws_s3_bucket").lifecycle).toEqual({ prevent_destroy: true });
  });

  test("accessLogsForceDestroy lets a destroy empty and remove the log bucket", () => {
    const bucket = onlyResource(synthOf({ accessLogsForceDestroy: true }), "aws_s3_bucket");
    expect(bucket).toMatchObject({ force_destroy: true, lifecycle: { prevent_destroy: false } });
  });

  test("the target group health-checks the given path on IP targets", () => {
    const group = onlyResource(synthOf(), "aws_lb_target_group");
    expect(group).toMatchObject({ name: "acme-test-alb-tg", port: 8080, protocol: "HTTP", target_type: "ip", deregistration_delay: "30" });
    expect(group.health_check).toMatchObject({ path: "/", matcher: "200-399" });
  });

  test("allowTrafficTo opens exactly the target port between the two groups", () => {
    const { stack, lb } = build();
    const tasks = new SecurityGroup(stack, "tasks-sg", { groupName: "acme-test-tasks-sg", vpcId: "vpc-1", description: "tasks" });
    lb.allowTrafficTo(tasks);
    const json = synth(stack);
    const egress = resourcesOf(json, "aws_vpc_security_group_egress_rule");
    expect(egress.map((r) => [r.from_port, r.referenced_security_group_id])).toEqual([[8080, expect.stringMatching(/tasks-sg/)]]);
    const fromLb = resourcesOf(json, "aws_vpc_security_group_ingress_rule").filter((r) => r.referenced_security_group_id);
    expect(fromLb.map((r) => r.from_port)).toEqual([8080]);
  });

  test("alarms watch 5xx answers and target health", () => {
    const alarms = resourcesOf(synthOf({ alarmTopicArn: "arn:topic" }), "aws_cloudwatch_metric_alarm");
    expect(alarms.map((a) => [a.alarm_name, a.metric_name]).sort()).toEqual([
      ["acme-test-alb-alb-5xx", "HTTPCode_ELB_5XX_Count"],
      ["acme-test-alb-no-healthy-targets", "HealthyHostCount"],
      ["acme-test-alb-target-5xx", "HTTPCode_Target_5XX_Count"],
      ["acme-test-alb-unhealthy-targets", "UnHealthyHostCount"],
    ]);
    expect(alarms.every((a) => a.alarm_actions[0] === "arn:topic" && a.namespace === "AWS/ApplicationELB")).toBe(true);
  });

  test("a name too long for AWS's 32 characters is rejected naming the prop", () => {
    expect(() => build({ loadBalancerName: "a-very-long-project-name-production" })).toThrow(/loadBalancerName must be 1-28/);
  });

  test("one subnet is rejected: an ALB needs two AZs", () => {
    expect(() => build({ subnetIds: ["subnet-a"] })).toThrow(/subnetIds needs subnets in at least two AZs/);
  });

  test("a certificate ARN that is not one is rejected", () => {
    expect(() => build({ certificateArn: "my-cert" })).toThrow(/certificateArn must be an ACM/);
  });
});

describe("LoadBalancer path targets", () => {
  const pathTarget = (name: string, priority: number) => ({
    targetGroupName: `acme-test-${name}`,
    port: 8000,
    healthCheckPath: "/health/",
    pathPatterns: [`/projects/${name}`, `/projects/${name}/*`],
    priority,
  });

  test("without a default target, unmatched paths get a 404 from the load balancer itself", () => {
    const { stack, lb } = build({ target: undefined, certificateArn: CERT });
    const https = resourcesOf(synth(stack), "aws_lb_listener").find((l) => l.port === 443)!;
    expect(https.default_action[0]).toMatchObject({ type: "fixed-response", fixed_response: { status_code: "404" } });
    expect(() => lb.targetGroupArn).toThrow(/target is not set/);
  });

  test("each path target gets its own target group and a rule on the HTTPS listener", () => {
    const { stack, lb } = build({ target: undefined, certificateArn: CERT, alarmTopicArn: "arn:aws:sns:us-east-1:111111111111:alerts" });
    const shop = lb.addPathTarget("shop", pathTarget("shop", 1));
    lb.addPathTarget("blog", pathTarget("blog", 2));
    const json = synth(stack);
    expect(
      resourcesOf(json, "aws_lb_target_group")
        .map((g) => g.name)
        .sort(),
    ).toEqual(["acme-test-blog", "acme-test-shop"]);
    const rule = resourcesOf(json, "aws_lb_listener_rule").find((r) => r.priority === 1)!;
    expect(rule.condition[0].path_pattern.values).toEqual(["/projects/shop", "/projects/shop/*"]);
    expect(String(rule.listener_arn)).toMatch(/aws_lb_listener\.alb_https/);
    expect(shop.dependables.length).toBeGreaterThan(1);
    expect(shop.alarmNames).toHaveLength(3);
    const alarms = resourcesOf(json, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name);
    expect(alarms.sort()).toEqual(
      [
        "acme-test-alb-alb-5xx",
        ...["shop", "blog"].flatMap((t) => ["target-5xx", "unhealthy-targets", "no-healthy-targets"].map((p) => `acme-test-${t}-${p}`)),
      ].sort(),
    );
  });

  test("a duplicate priority or a bad pattern is refused", () => {
    const { lb } = build({ target: undefined });
    lb.addPathTarget("shop", pathTarget("shop", 1));
    expect(() => lb.addPathTarget("blog", pathTarget("blog", 1))).toThrow(/priority must be a whole number 1-50000 not used/);
    expect(() => lb.addPathTarget("x", { ...pathTarget("x", 3), pathPatterns: ["projects"] })).toThrow(/pathPatterns must be 1-5 paths/);
  });

  test("allowTrafficTo needs a port when there is no default target", () => {
    const { stack, lb } = build({ target: undefined });
    const tasks = new SecurityGroup(stack, "tasks-sg", { groupName: "acme-test-tasks-sg", vpcId: "vpc-1", description: "tasks" });
    expect(() => lb.allowTrafficTo(tasks)).toThrow(/needs a port/);
    lb.allowTrafficTo(tasks, 8000);
    expect(resourcesOf(synth(stack), "aws_vpc_security_group_ingress_rule").some((r) => r.from_port === 8000)).toBe(true);
  });
});
