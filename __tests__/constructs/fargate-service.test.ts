import { EcsCluster } from "../../constructs/ecs-cluster";
import { FargateService, fargateSizeProblem, imagePinProblem, type FargateServiceProps } from "../../constructs/fargate-service";
import { allStrings, decodePolicy, onlyResource, resourcesOf, synth, testConfig, testStack, type Json } from "../helpers";

type Props = Omit<FargateServiceProps, "cluster">;
const BASE: Props = {
  serviceName: "acme-test-loki",
  image: "grafana/loki:3.5.0",
  ports: [{ name: "http", port: 3100 }],
  subnetIds: ["subnet-a"],
  securityGroupIds: ["sg-1"],
};

function build(props: Partial<Props> = {}, namespace = false) {
  const stack = testStack(testConfig(), "services");
  const cluster = new EcsCluster(stack, "cluster", {
    clusterName: "acme-test-cluster",
    ...(namespace ? { namespace: { name: "acme.local", vpcId: "vpc-1" } } : {}),
  });
  const service = new FargateService(stack, "loki", { ...BASE, ...props, cluster });
  return { stack, service };
}
const synthOf = (props: Partial<Props> = {}, namespace = false) => synth(build(props, namespace).stack);

/** The inline policy of the role whose resource key starts with `prefix`, decoded. */
function policyOf(json: Json, prefix: string): Json | undefined {
  const entry = Object.entries(json.resource.aws_iam_role_policy ?? {}).find(([key]) => key.startsWith(prefix));
  return entry ? decodePolicy((entry[1] as Json).policy) : undefined;
}

/** The one container definition, with references left as text. */
function containerOf(json: Json): Json {
  return decodePolicy(onlyResource(json, "aws_ecs_task_definition").container_definitions)[0];
}

describe("FargateService", () => {
  test("logs go to /ecs/<project>-<env>-<service> with the configured retention", () => {
    const json = synthOf({ logRetentionDays: 7 });
    expect(onlyResource(json, "aws_cloudwatch_log_group")).toMatchObject({ name: "/ecs/acme-test-loki", retention_in_days: 7 });
    expect(containerOf(json).logConfiguration.logDriver).toBe("awslogs");
  });

  test("the container is named by the containerName prop, not by the construct id", () => {
    expect(containerOf(synthOf()).name).toBe("app");
    const json = synthOf({ containerName: "web", loadBalancerTarget: { targetGroupArn: "arn:tg" } });
    expect(containerOf(json).name).toBe("web");
    expect(onlyResource(json, "aws_ecs_service").load_balancer[0].container_name).toBe("web");
  });

  test("a failing deployment stops and rolls back", () => {
    expect(onlyResource(synthOf(), "aws_ecs_service").deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
  });

  test("the task definition is Fargate, awsvpc, with the given size and architecture", () => {
    const task = onlyResource(synthOf({ cpu: 512, memoryMiB: 1024, architecture: "ARM64" }), "aws_ecs_task_definition");
    expect(task).toMatchObject({ cpu: "512", memory: "1024", network_mode: "awsvpc", requires_compatibilities: ["FARGATE"] });
    expect(task.runtime_platform).toEqual({ cpu_architecture: "ARM64", operating_system_family: "LINUX" });
  });

  test("the execution role may write only its own log group and read only the secrets the task names", () => {
    const json = synthOf({
      secrets: { DB_PASSWORD: { secretArn: "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbC", jsonKey: "password" } },
    });
    const statements = policyOf(json, "loki_execution-role")!.Statement;
    expect(statements).toEqual([
      {
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: [expect.stringMatching(/loki_logs_.*\.arn\}:log-stream:\*$/)],
      },
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: ["arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbC"],
      },
    ]);
  });

  test("a secret's JSON key is passed as <arn>:<key>::", () => {
    const json = synthOf({
      secrets: { DB_PASSWORD: { secretArn: "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbC", jsonKey: "password" } },
    });
    expect(containerOf(json).secrets).toEqual([
      { name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:111111111111:secret:db-AbC:password::" },
    ]);
  });

  test("the task role has no permissions until a grant adds one", () => {
    const json = synthOf();
    expect(policyOf(json, "loki_task-role")).toBeUndefined();
    expect(
      resourcesOf(json, "aws_iam_role")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["acme-test-loki-exec", "acme-test-loki-task"]);
  });

  test("environment variables are sorted by name, as ECS returns them", () => {
    expect(containerOf(synthOf({ environment: { ZED: "1", ALPHA: "2" } })).environment).toEqual([
      { name: "ALPHA", value: "2" },
      { name: "ZED", value: "1" },
    ]);
  });

  test("an image without a tag, or tagged latest, is rejected naming the prop", () => {
    expect(() => build({ image: "grafana/loki" })).toThrow(/image has no tag/);
    expect(() => build({ image: "grafana/loki:latest" })).toThrow(/image is tagged latest/);
  });

  test("allowUnpinnedImage accepts latest; a digest is pinned", () => {
    expect(() => build({ image: "grafana/loki:latest", allowUnpinnedImage: true })).not.toThrow();
    expect(imagePinProblem(`grafana/loki@sha256:${"a".repeat(64)}`)).toBeUndefined();
    expect(imagePinProblem("registry.example.com:5000/loki")).toMatch(/has no tag/);
  });

  test("a size Fargate does not offer is rejected naming memoryMiB", () => {
    expect(() => build({ cpu: 256, memoryMiB: 4096 })).toThrow(
      /memoryMiB must be a Fargate size for cpu 256: 512, 1024, 2048 MiB \(got 4096\)/,
    );
    expect(fargateSizeProblem(1024, 3072)).toBeUndefined();
    expect(fargateSizeProblem(300, 1024)).toMatch(/^cpu must be one of/);
  });

  test("Fargate Spot with ARM64 is rejected: Spot has no ARM64 capacity", () => {
    expect(() => build({ capacity: "FARGATE_SPOT", architecture: "ARM64" })).toThrow(/FARGATE_SPOT.*X86_64/);
  });

  test("Spot capacity is the service's capacity provider strategy", () => {
    expect(onlyResource(synthOf({ capacity: "FARGATE_SPOT" }), "aws_ecs_service").capacity_provider_strategy).toEqual([
      { capacity_provider: "FARGATE_SPOT", weight: 1 },
    ]);
  });

  test("autoscaling tracks CPU at 70% and memory at 80% between min and max, and applies leave desired_count alone", () => {
    const json = synthOf({ desiredCount: 2, autoscaling: { minCount: 2, maxCount: 5 } });
    expect(onlyResource(json, "aws_appautoscaling_target")).toMatchObject({
      min_capacity: 2,
      max_capacity: 5,
      scalable_dimension: "ecs:service:DesiredCount",
      resource_id: expect.stringMatching(
        /^service\/\$\{aws_ecs_cluster\.cluster_\w+\.name\}\/\$\{aws_ecs_service\.loki_service_\w+\.name\}$/,
      ),
    });
    const targets = resourcesOf(json, "aws_appautoscaling_policy").map((p) => [
      p.target_tracking_scaling_policy_configuration.predefined_metric_specification.predefined_metric_type,
      p.target_tracking_scaling_policy_configuration.target_value,
    ]);
    expect(targets).toEqual([
      ["ECSServiceAverageCPUUtilization", 70],
      ["ECSServiceAverageMemoryUtilization", 80],
    ]);
    expect(onlyResource(json, "aws_ecs_service").lifecycle.ignore_changes).toEqual(["desired_count"]);
  });

  test("without autoscaling desired_count is applied as configured", () => {
    const json = synthOf({ desiredCount: 3 });
    expect(onlyResource(json, "aws_ecs_service").desired_count).toBe(3);
    expect(onlyResource(json, "aws_ecs_service").lifecycle).toBeUndefined();
    expect(resourcesOf(json, "aws_appautoscaling_target")).toHaveLength(0);
  });

  test("a desired count outside the autoscaling range is rejected", () => {
    expect(() => build({ desiredCount: 1, autoscaling: { minCount: 2, maxCount: 5 } })).toThrow(
      /desiredCount must lie between autoscaling.minCount and maxCount \(2-5\)/,
    );
  });

  test("a load balanced service registers its first port and waits for the listener", () => {
    const stack = testStack(testConfig(), "services");
    const cluster = new EcsCluster(stack, "cluster", { clusterName: "acme-test-cluster" });
    const listener = new EcsCluster(stack, "stand-in-listener", { clusterName: "acme-test-stand-in" });
    new FargateService(stack, "app", {
      ...BASE,
      cluster,
      loadBalancerTarget: { targetGroupArn: "arn:tg", dependsOn: [listener.capacityProviders] },
    });
    const service = onlyResource(synth(stack), "aws_ecs_service");
    expect(service.load_balancer).toEqual([{ target_group_arn: "arn:tg", container_name: "app", container_port: 3100 }]);
    expect(service.health_check_grace_period_seconds).toBe(60);
    expect(service.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/stand-in-listener/)]));
  });

  test("a discovery name registers one A record per task in the cluster's namespace", () => {
    const { stack, service } = build({ discoveryName: "loki" }, true);
    const discovery = onlyResource(synth(stack), "aws_service_discovery_service");
    expect(discovery.name).toBe("loki");
    expect(discovery.dns_config.dns_records).toEqual([{ type: "A", ttl: 10 }]);
    expect(service.discoveryName).toBe("loki.acme.local");
  });

  test("a discovery name on a cluster without a namespace is rejected", () => {
    expect(() => build({ discoveryName: "loki" })).toThrow(/discoveryName needs a cluster created with a namespace/);
  });

  test("a private ECR image lets the execution role pull from that repository only", () => {
    const json = synthOf({ image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2.3" });
    const statements = policyOf(json, "loki_execution-role")!.Statement;
    expect(statements).toContainEqual({ Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] });
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
      Resource: ["arn:${data.aws_partition.partition.partition}:ecr:us-east-1:111111111111:repository/team/app"],
    });
  });

  test("a public image gives the execution role no ECR permission", () => {
    expect(allStrings(policyOf(synthOf(), "loki_execution-role")).some((s) => s.startsWith("ecr:"))).toBe(false);
  });

  test("a double quote in the environment is rejected: cdktf would write unparsable Terraform", () => {
    expect(() => build({ environment: { GREETING: 'say "hi"' } })).toThrow(/environment.GREETING must not contain a double quote/);
  });

  test("alarms watch the service's average CPU and memory", () => {
    const alarms = resourcesOf(synthOf({ alarms: { topicArn: "arn:topic" } }), "aws_cloudwatch_metric_alarm");
    expect(alarms.map((a) => [a.alarm_name, a.namespace, a.metric_name, a.threshold])).toEqual([
      ["acme-test-loki-cpu-high", "AWS/ECS", "CPUUtilization", 90],
      ["acme-test-loki-memory-high", "AWS/ECS", "MemoryUtilization", 90],
    ]);
    expect(alarms[0].alarm_actions).toEqual(["arn:topic"]);
  });

  test("tasks in public subnets get a public IP only when asked", () => {
    expect(onlyResource(synthOf(), "aws_ecs_service").network_configuration.assign_public_ip).toBe(false);
    expect(onlyResource(synthOf({ assignPublicIp: true }), "aws_ecs_service").network_configuration.assign_public_ip).toBe(true);
  });

  test("the service runs on the latest Fargate platform and tags its tasks", () => {
    expect(onlyResource(synthOf(), "aws_ecs_service")).toMatchObject({ platform_version: "LATEST", propagate_tags: "SERVICE" });
  });
});
