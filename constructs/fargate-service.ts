import { AppautoscalingPolicy } from "@cdktf/provider-aws/lib/appautoscaling-policy";
import { AppautoscalingTarget } from "@cdktf/provider-aws/lib/appautoscaling-target";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { ServiceDiscoveryService } from "@cdktf/provider-aws/lib/service-discovery-service";
import { Fn, TerraformStack, type ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { metricAlarm } from "./alarm";
import { fargateSizeProblem, SPOT_NEEDS_X86 } from "./aws-limits";
import type { EcsCluster, FargateCapacity } from "./ecs-cluster";
import { partitionOf, Role } from "./role";
import { propError } from "./errors";

export type CpuArchitecture = "X86_64" | "ARM64";

export { FARGATE_TASK_SIZES, fargateSizeProblem } from "./aws-limits";

/**
 * Why `image` is not pinned, or undefined when it is: an image without a tag, or tagged `latest`,
 * runs whatever was pushed last at every task start, so two tasks of one deployment can differ and
 * a rollback rolls back to nothing.
 */
export function imagePinProblem(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const tag = lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
  if (tag === undefined) return `has no tag, so it means latest; pin a version tag or a @sha256: digest (got "${image}")`;
  if (tag === "latest") return `is tagged latest; pin a version tag or a @sha256: digest (got "${image}")`;
  return undefined;
}

/** A secret handed to the container as an environment variable: the whole secret, or one key of its JSON. */
export interface ContainerSecret {
  readonly secretArn: string;
  /** @default - the whole secret value */
  readonly jsonKey?: string;
}

export interface ContainerPort {
  /** Lowercase name, e.g. `http`, `smtp`. */
  readonly name: string;
  readonly port: number;
}

export interface FargateServiceAutoscaling {
  readonly minCount: number;
  readonly maxCount: number;
  /** @default 70 */
  readonly cpuTargetPercent?: number;
  /** @default 80 */
  readonly memoryTargetPercent?: number;
}

export interface FargateServiceProps {
  readonly cluster: EcsCluster;
  /** The service's name, also its task family and the last part of its log group: the caller's, never derived from the construct id. */
  readonly serviceName: string;
  /**
   * The container's name in the task definition: what the load balancer registers, ECS Exec and
   * `run-task` overrides name, and the middle part of each awslogs stream (`<prefix>/<container>/<task id>`).
   * Renaming it replaces the service's load balancer attachment, so it is set on purpose, never
   * taken from the construct id.
   * @default "app"
   */
  readonly containerName?: string;
  /** Container image with a pinned tag or digest (`grafana/loki:3.5.0`). */
  readonly image: string;
  /**
   * Accept an image without a tag or tagged `latest`. Never in production.
   * @default false
   */
  readonly allowUnpinnedImage?: boolean;
  /**
   * ARN of the ECR repository `image` comes from, when its URL is a reference to another resource
   * (a literal `<account>.dkr.ecr.<region>.amazonaws.com/<name>` URL is recognised by itself): the
   * execution role may pull from exactly this repository.
   * @default - taken from `image` when it is a literal ECR URL, else no ECR permissions
   */
  readonly ecrRepositoryArn?: string;
  /**
   * ECS Exec: operators open a shell or run a command in a running task (`aws ecs execute-command`),
   * through the SSM agent ECS injects. The task role gets the four `ssmmessages` channel actions it needs.
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * CPU units (1024 = 1 vCPU); one of Fargate's sizes.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Memory in MiB; one of the sizes Fargate allows for `cpu`.
   * @default 512
   */
  readonly memoryMiB?: number;
  /**
   * CPU architecture the image is built for: ARM64 (Graviton) is about 20% cheaper.
   * @default "X86_64"
   */
  readonly architecture?: CpuArchitecture;
  /**
   * On-demand FARGATE, or FARGATE_SPOT (cheaper, tasks interrupted with 2 minutes' notice; x86_64 only).
   * @default "FARGATE"
   */
  readonly capacity?: FargateCapacity;
  /** Ports the container listens on; the first is the one a load balancer and service discovery use. */
  readonly ports: readonly ContainerPort[];
  /** @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Environment variables read from Secrets Manager at task start; the execution role may read exactly these secrets.
   * @default - none
   */
  readonly secrets?: Readonly<Record<string, ContainerSecret>>;
  /** @default - the image's */
  readonly entryPoint?: readonly string[];
  /** @default - the image's */
  readonly command?: readonly string[];
  /**
   * Container health check command (`["CMD", "/app", "healthz"]`); ECS replaces a task that fails it.
   * @default - none (a load balancer's target health check still applies)
   */
  readonly healthCheckCommand?: readonly string[];
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /**
   * Give each task a public IP: needed in public subnets, where there is no NAT to pull images through.
   * @default false
   */
  readonly assignPublicIp?: boolean;
  /**
   * Tasks to run; with `autoscaling`, only the count at creation (the autoscaler owns it afterwards).
   * @default 1
   */
  readonly desiredCount?: number;
  /**
   * Target tracking on average CPU and memory between `minCount` and `maxCount` tasks.
   * @default - no autoscaling
   */
  readonly autoscaling?: FargateServiceAutoscaling;
  /**
   * Days the container logs are kept (a CloudWatch retention period).
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Register tasks in a load balancer target group (IP targets) on the first port.
   * `dependsOn` should name the listener: ECS refuses a target group no load balancer uses yet.
   * @default - not load balanced
   */
  readonly loadBalancerTarget?: {
    readonly targetGroupArn: string;
    readonly dependsOn?: readonly ITerraformDependable[];
    /** @default 60 */
    readonly healthCheckGracePeriodSeconds?: number;
  };
  /**
   * Register tasks in the cluster's DNS namespace as `<name>.<namespace>` (A records, one per task).
   * @default - not registered
   */
  readonly discoveryName?: string;
  /**
   * CPU and memory alarms to this SNS topic.
   * @default - no alarms
   */
  readonly alarms?: {
    readonly topicArn: string;
    /** @default 90 */
    readonly cpuHighPercent?: number;
    /** @default 90 */
    readonly memoryHighPercent?: number;
  };
}

/** ECS names each task's log stream `<prefix>/<container>/<task id>`. */
const LOG_STREAM_PREFIX = "ecs";

/** 5 minutes, 3 periods: long enough for the autoscaler to act first. */
const ALARM_PERIOD_SECONDS = 300;

/**
 * One ECS service on Fargate: its task definition, a task role of its own (no permissions until a
 * grant helper adds one), an execution role that may write only its log group and read only its own
 * secrets, the log group `/ecs/<service name>`, a deployment circuit breaker that rolls a failed
 * deployment back, and optionally autoscaling, a load balancer target, a DNS name and alarms.
 */
export class FargateService extends Construct {
  readonly serviceName: string;
  readonly serviceId: string;
  readonly taskDefinitionArn: string;
  /** What the application runs as; give it permissions with grant helpers (`bucket.grantReadWrite(service.taskRole)`). */
  readonly taskRole: Role;
  /** What ECS runs as to start the task: pulls the image, writes logs, reads the secrets. */
  readonly executionRole: Role;
  readonly logGroupName: string;
  /** The awslogs stream prefix: a task's stream is `<logStreamPrefix>/<containerName>/<task id>`. */
  readonly logStreamPrefix: string = LOG_STREAM_PREFIX;
  readonly containerName: string;
  /** The task definition family (the service name): what `run-task` names to start a one-off task of the latest revision. */
  readonly taskDefinitionFamily: string;
  /** `<discoveryName>.<namespace>`; undefined without `discoveryName`. */
  readonly discoveryName?: string;
  readonly alarmNames: string[] = [];

  constructor(scope: Construct, id: string, props: FargateServiceProps) {
    super(scope, id);
    const serviceName = props.serviceName;
    const cpu = props.cpu ?? 256;
    const memoryMiB = props.memoryMiB ?? 512;
    const architecture = props.architecture ?? "X86_64";
    const capacity = props.capacity ?? "FARGATE";
    const desiredCount = props.desiredCount ?? 1;
    const logRetentionDays = props.logRetentionDays ?? 30;
    const assignPublicIp = props.assignPublicIp ?? false;
    this.validate(props, { serviceName, cpu, memoryMiB, architecture, capacity, desiredCount });

    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/ecs/${serviceName}`,
      retentionInDays: logRetentionDays,
      tags: { Name: `/ecs/${serviceName}` },
    });
    this.logGroupName = logGroup.name;

    this.executionRole = new Role(this, "execution-role", {
      roleName: `${serviceName}-exec`,
      description: `ECS starts ${serviceName} tasks as this role: image pull, its own log group, its own secrets`,
      assumedBy: ["ecs-tasks.amazonaws.com"],
    });
    this.executionRole.allow(["logs:CreateLogStream", "logs:PutLogEvents"], [`${logGroup.arn}:log-stream:*`]);
    const secrets = Object.entries(props.secrets ?? {}).sort(([a], [b]) => a.localeCompare(b));
    const secretArns = [...new Set(secrets.map(([, s]) => s.secretArn))];
    if (secretArns.length > 0) this.executionRole.allow(["secretsmanager:GetSecretValue"], secretArns);
    const repository = props.ecrRepositoryArn ?? ecrRepositoryArn(props.image, () => partitionOf(this));
    if (repository) {
      // GetAuthorizationToken has no resource-level permissions: AWS only accepts "*" for it.
      this.executionRole.allow(["ecr:GetAuthorizationToken"], ["*"]);
      this.executionRole.allow(["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], [repository]);
    }

    this.taskRole = new Role(this, "task-role", {
      roleName: `${serviceName}-task`,
      description: `${serviceName} containers run as this role; it holds only what grants add`,
      assumedBy: ["ecs-tasks.amazonaws.com"],
    });
    if (props.enableExecuteCommand) {
      // The SSM agent in the task opens its channels as the task role; these actions have no resource-level permissions.
      this.taskRole.allow(
        [
          "ssmmessages:CreateControlChannel",
          "ssmmessages:CreateDataChannel",
          "ssmmessages:OpenControlChannel",
          "ssmmessages:OpenDataChannel",
        ],
        ["*"],
      );
    }

    this.containerName = props.containerName ?? "app";
    const container: Record<string, unknown> = {
      name: this.containerName,
      image: props.image,
      essential: true,
      portMappings: props.ports.map((p) => ({ name: p.name, containerPort: p.port, hostPort: p.port, protocol: "tcp" })),
      // Sorted, as ECS returns them: another order would show as a change in every plan.
      environment: Object.entries(props.environment ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value })),
      secrets: secrets.map(([name, s]) => ({ name, valueFrom: s.jsonKey ? `${s.secretArn}:${s.jsonKey}::` : s.secretArn })),
      logConfiguration: {
        logDriver: "awslogs",
        options: { "awslogs-group": logGroup.name, "awslogs-region": regionOf(this), "awslogs-stream-prefix": this.logStreamPrefix },
      },
      ...(props.entryPoint ? { entryPoint: [...props.entryPoint] } : {}),
      ...(props.command ? { command: [...props.command] } : {}),
      ...(props.healthCheckCommand
        ? { healthCheck: { command: [...props.healthCheckCommand], interval: 30, timeout: 5, retries: 3, startPeriod: 60 } }
        : {}),
    };

    const taskDefinition = new EcsTaskDefinition(this, "task", {
      family: serviceName,
      cpu: String(cpu),
      memory: String(memoryMiB),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { cpuArchitecture: architecture, operatingSystemFamily: "LINUX" },
      executionRoleArn: this.executionRole.roleArn,
      taskRoleArn: this.taskRole.roleArn,
      containerDefinitions: Fn.jsonencode([container]),
      tags: { Name: serviceName },
    });
    this.taskDefinitionArn = taskDefinition.arn;
    this.taskDefinitionFamily = taskDefinition.family;

    let registryArn: string | undefined;
    if (props.discoveryName !== undefined) {
      const { namespaceId, namespaceName } = props.cluster;
      if (!namespaceId || !namespaceName) {
        throw propError(this, `discoveryName`, `needs a cluster created with a namespace`);
      }
      const discovery = new ServiceDiscoveryService(this, "discovery", {
        name: props.discoveryName,
        description: `${serviceName} tasks, one A record each`,
        dnsConfig: { namespaceId, routingPolicy: "MULTIVALUE", dnsRecords: [{ type: "A", ttl: 10 }] },
        // ECS reports task health to Cloud Map itself; a failed task's record goes away at once.
        healthCheckCustomConfig: { failureThreshold: 1 },
        // Registered instances are task IPs ECS manages, not data: never let them block a destroy.
        forceDestroy: true,
        tags: { Name: `${serviceName}-discovery` },
      });
      registryArn = discovery.arn;
      this.discoveryName = `${props.discoveryName}.${namespaceName}`;
    }

    const target = props.loadBalancerTarget;
    const service = new EcsService(this, "service", {
      name: serviceName,
      cluster: props.cluster.clusterArn,
      taskDefinition: taskDefinition.arn,
      desiredCount,
      capacityProviderStrategy: [{ capacityProvider: capacity, weight: 1 }],
      platformVersion: "LATEST",
      // A deployment whose tasks keep failing stops and returns to the last working task definition,
      // instead of retrying forever with nothing healthy left behind.
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      networkConfiguration: { subnets: [...props.subnetIds], securityGroups: [...props.securityGroupIds], assignPublicIp },
      loadBalancer: target
        ? [{ targetGroupArn: target.targetGroupArn, containerName: this.containerName, containerPort: props.ports[0].port }]
        : undefined,
      healthCheckGracePeriodSeconds: target ? (target.healthCheckGracePeriodSeconds ?? 60) : undefined,
      serviceRegistries: registryArn ? { registryArn } : undefined,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      enableExecuteCommand: props.enableExecuteCommand ? true : undefined,
      // With autoscaling the autoscaler owns the count; an apply resetting it would undo a scale-out under load.
      lifecycle: props.autoscaling ? { ignoreChanges: ["desired_count"] } : undefined,
      dependsOn: [props.cluster.capacityProviders, ...(target?.dependsOn ?? [])],
      tags: { Name: serviceName },
    });
    this.serviceName = service.name;
    this.serviceId = service.id;

    if (props.autoscaling) this.addAutoscaling(props.cluster.clusterName, service.name, props.autoscaling);
    if (props.alarms) this.addAlarms(props.cluster.clusterName, serviceName, props.alarms);
  }

  private addAutoscaling(clusterName: string, serviceName: string, scaling: FargateServiceAutoscaling): void {
    const target = new AppautoscalingTarget(this, "scaling-target", {
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId: `service/${clusterName}/${serviceName}`,
      minCapacity: scaling.minCount,
      maxCapacity: scaling.maxCount,
    });
    const policies: [string, string, number][] = [
      ["cpu", "ECSServiceAverageCPUUtilization", scaling.cpuTargetPercent ?? 70],
      ["memory", "ECSServiceAverageMemoryUtilization", scaling.memoryTargetPercent ?? 80],
    ];
    for (const [purpose, metric, targetValue] of policies) {
      new AppautoscalingPolicy(this, `scaling-${purpose}`, {
        name: `${serviceName}-${purpose}-target-tracking`,
        policyType: "TargetTrackingScaling",
        serviceNamespace: target.serviceNamespace,
        scalableDimension: target.scalableDimension,
        resourceId: target.resourceId,
        targetTrackingScalingPolicyConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: metric },
          targetValue,
          // Out fast, in slowly: a scale-in that undershoots costs users errors, a slow one costs cents.
          scaleOutCooldown: 60,
          scaleInCooldown: 300,
        },
      });
    }
  }

  private addAlarms(clusterName: string, serviceName: string, alarms: NonNullable<FargateServiceProps["alarms"]>): void {
    const specs: [string, string, number][] = [
      ["cpu-high", "CPUUtilization", alarms.cpuHighPercent ?? 90],
      ["memory-high", "MemoryUtilization", alarms.memoryHighPercent ?? 90],
    ];
    for (const [purpose, metricName, threshold] of specs) {
      if (!(threshold > 0 && threshold <= 100)) {
        throw propError(this, `alarms`, `threshold for ${purpose} must be above 0 and at most 100 (got ${threshold})`);
      }
      const alarm = metricAlarm(this, `alarm-${purpose}`, {
        alarmName: `${serviceName}-${purpose}`,
        description: `ECS service ${serviceName}: average ${metricName} above ${threshold}% for 15 minutes (autoscaling at its maximum, or a leak).`,
        namespace: "AWS/ECS",
        metricName,
        dimensions: { ClusterName: clusterName, ServiceName: serviceName },
        statistic: "Average",
        periodSeconds: ALARM_PERIOD_SECONDS,
        evaluationPeriods: 3,
        comparison: "GreaterThanThreshold",
        threshold,
        // No datapoints means no running task; the load balancer's health alarms report that.
        treatMissingData: "notBreaching",
        topicArn: alarms.topicArn,
      });
      this.alarmNames.push(alarm.alarmName);
    }
  }

  private validate(
    props: FargateServiceProps,
    v: { serviceName: string; cpu: number; memoryMiB: number; architecture: string; capacity: string; desiredCount: number },
  ): void {
    const fail = (message: string): never => {
      throw propError(this, message);
    };
    // The execution role is `<name>-exec`, and IAM role names stop at 64 characters.
    if (!/^[A-Za-z0-9_-]{1,59}$/.test(v.serviceName))
      fail(`serviceName must be 1-59 of letters, digits, '-' and '_' (got "${v.serviceName}")`);
    const size = fargateSizeProblem(v.cpu, v.memoryMiB);
    if (size) fail(size.replace(/^memory/, "memoryMiB"));
    if (!props.allowUnpinnedImage) {
      const pin = imagePinProblem(props.image);
      if (pin) fail(`image ${pin}`);
    }
    if (v.capacity === "FARGATE_SPOT" && v.architecture === "ARM64") fail(`capacity "FARGATE_SPOT" ${SPOT_NEEDS_X86}`);
    if (props.ports.length === 0) fail("ports needs at least one port");
    props.ports.forEach((p, i) => {
      if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) fail(`ports[${i}].port must be 1-65535 (got ${p.port})`);
      if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(p.name)) fail(`ports[${i}].name must be lowercase letters, digits and '-' (got "${p.name}")`);
    });
    if (props.subnetIds.length === 0) fail("subnetIds needs at least one subnet");
    // cdktf 0.21 writes these strings into a jsonencode() expression without escaping double quotes,
    // which Terraform then cannot parse; refuse them here with the field's name instead.
    const texts: [string, readonly string[]][] = [
      ["entryPoint", props.entryPoint ?? []],
      ["command", props.command ?? []],
      ["healthCheckCommand", props.healthCheckCommand ?? []],
      ...Object.entries(props.environment ?? {}).map(([k, v]): [string, string[]] => [`environment.${k}`, [v]]),
    ];
    for (const [field, values] of texts) {
      if (values.some((v) => v.includes('"')))
        fail(`${field} must not contain a double quote (cdktf does not escape it in container definitions)`);
    }
    if (!Number.isInteger(v.desiredCount) || v.desiredCount < 0) fail(`desiredCount must be a whole number >= 0 (got ${v.desiredCount})`);
    const scaling = props.autoscaling;
    if (scaling) {
      if (!Number.isInteger(scaling.minCount) || scaling.minCount < 1)
        fail(`autoscaling.minCount must be a whole number >= 1 (got ${scaling.minCount})`);
      if (!Number.isInteger(scaling.maxCount) || scaling.maxCount < scaling.minCount) {
        fail(`autoscaling.maxCount must be a whole number >= minCount ${scaling.minCount} (got ${scaling.maxCount})`);
      }
      if (v.desiredCount < scaling.minCount || v.desiredCount > scaling.maxCount) {
        fail(
          `desiredCount must lie between autoscaling.minCount and maxCount (${scaling.minCount}-${scaling.maxCount}) (got ${v.desiredCount})`,
        );
      }
      for (const key of ["cpuTargetPercent", "memoryTargetPercent"] as const) {
        const value = scaling[key];
        if (value !== undefined && !(value > 0 && value < 100))
          fail(`autoscaling.${key} must be between 0 and 100, exclusive (got ${value})`);
      }
    }
  }
}

/** The ECR repository ARN of a private ECR image (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`). */
function ecrRepositoryArn(image: string, partition: () => string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  return match ? `arn:${partition()}:ecr:${match[2]}:${match[1]}:repository/${match[3]}` : undefined;
}

/** The provider's region: one data source per stack. */
function regionOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("region") as DataAwsRegion | undefined;
  return (existing ?? new DataAwsRegion(stack, "region")).name;
}
