import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsElbServiceAccount } from "@cdktf/provider-aws/lib/data-aws-elb-service-account";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbListenerRule } from "@cdktf/provider-aws/lib/lb-listener-rule";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Annotations, TerraformStack, Token, type ITerraformDependable, type TerraformResource } from "cdktf";
import { Construct } from "constructs";
import { metricAlarm, type AlarmComparison, type AlarmStatistic } from "./alarm";
import { movedResourceFrom } from "./moved";
import { Naming } from "./naming";
import { Peer, Port, SecurityGroup } from "./security-group";
import { SecureBucket } from "./secure-bucket";
import { propError } from "./errors";

const HTTP = 80;

/**
 * Regions opened before August 2022, where ELB writes access logs as a regional AWS account; later
 * regions only accept the log delivery service principal.
 */
const ELB_ACCOUNT_REGIONS = new Set([
  "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-south-1", "ap-northeast-1",
  "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ca-central-1",
  "eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-north-1", "me-south-1", "sa-east-1",
  "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1",
]); // prettier-ignore

/** The service principal ELB delivers access logs as. */
const LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com";

export interface LoadBalancerTarget {
  /** Port the tasks listen on. */
  readonly port: number;
  /** Path of the HTTP health check, e.g. `/`. */
  readonly healthCheckPath: string;
  /**
   * HTTP codes that count as healthy.
   * @default "200-399" - a redirect to a login page is a healthy app
   */
  readonly healthyHttpCodes?: string;
}

/** A target group that gets the requests whose path matches, through a listener rule. */
export interface PathTargetProps extends LoadBalancerTarget {
  /** The target group's name (at most 32 characters, an AWS limit). */
  readonly targetGroupName: string;
  /** Path patterns the rule matches, e.g. `["/projects/shop", "/projects/shop/*"]` (at most 5 conditions per rule). */
  readonly pathPatterns: readonly string[];
  /** The rule's priority (1-50000, unique per listener; lower is evaluated first). */
  readonly priority: number;
}

/** A target group behind a path rule: what a service registers in. */
export interface PathTarget {
  readonly targetGroupArn: string;
  /** `targetgroup/<name>/<id>`: the TargetGroup dimension of its CloudWatch metrics. */
  readonly targetGroupArnSuffix: string;
  /** What a service registering in the target group must wait for: ECS refuses a target group no rule uses. */
  readonly dependables: readonly ITerraformDependable[];
  readonly alarmNames: readonly string[];
}

export interface LoadBalancerProps {
  readonly vpcId: string;
  /** Public subnets, in at least two AZs (an ALB needs two). */
  readonly subnetIds: readonly string[];
  /** The region the stack deploys to: decides how ELB is allowed to write access logs. */
  readonly region: string;
  /**
   * Where every request no path rule claims goes (IP targets: Fargate tasks register themselves).
   * @default - no default target: such requests get a 404 from the load balancer; add targets with `addPathTarget`
   */
  readonly target?: LoadBalancerTarget;
  /**
   * ACM certificate for HTTPS on 443; HTTP on 80 then only redirects to HTTPS.
   * @default - HTTP only on 80, with a synth warning: credentials cross the internet in clear text
   */
  readonly certificateArn?: string;
  /**
   * TLS policy of the HTTPS listener.
   * @default "ELBSecurityPolicy-TLS13-1-2-2021-06" - TLS 1.2 and 1.3 only
   */
  readonly sslPolicy?: string;
  /** The load balancer's name (at most 32 characters, an AWS limit): the caller's, never derived from the construct id. */
  readonly loadBalancerName: string;
  /**
   * AWS refuses to delete the load balancer until this is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Days access logs are kept in their bucket.
   * @default 90
   */
  readonly accessLogsRetentionDays?: number;
  /**
   * Let a destroy empty the access log bucket. Logs only: never set this on a bucket of data.
   * @default false
   */
  readonly accessLogsForceDestroy?: boolean;
  /**
   * 5xx and target health alarms to this SNS topic.
   * @default - no alarms
   */
  readonly alarmTopicArn?: string;
}

/**
 * A public application load balancer in front of one target group: HTTPS with an HTTP->HTTPS
 * redirect when a certificate is given, HTTP only (and a synth warning) otherwise; its own security
 * group open to the internet on exactly the listener ports; access logs to a bucket of its own;
 * alarms on 5xx responses and target health.
 */
export class LoadBalancer extends Construct {
  readonly loadBalancerArn: string;
  /** `app/<name>/<id>`: the LoadBalancer dimension of its CloudWatch metrics. */
  readonly loadBalancerArnSuffix: string;
  readonly dnsName: string;
  readonly zoneId: string;
  readonly securityGroup: SecurityGroup;
  /** True when a certificate was given: the load balancer serves HTTPS. */
  readonly https: boolean;
  /** `https://<dns name>` or `http://<dns name>`. */
  readonly url: string;
  /** What a service registering in the target group must wait for: ECS refuses a target group no listener uses. */
  readonly listeners: ITerraformDependable[];
  readonly accessLogsBucketName: string;
  /** The access log bucket: a SecureBucket, unversioned, its objects expiring after `accessLogsRetentionDays`. */
  readonly accessLogsBucket: SecureBucket;
  /** The `moved` blocks from the addresses the log bucket's resources had before it was a SecureBucket. */
  logBucketMoves: readonly { from: string; to: string }[] = [];
  readonly alarmNames: string[] = [];
  private readonly targetPort?: number;
  private readonly defaultTargetGroupArn?: string;
  private readonly vpcId: string;
  /** The listener that forwards (HTTPS, or HTTP without a certificate): path rules attach to it. */
  private readonly frontListener: LbListener;
  private readonly alarmTopicArn?: string;
  private readonly priorities = new Set<number>();

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const name = props.loadBalancerName;
    const targetGroupName = `${name}-tg`;
    const sslPolicy = props.sslPolicy ?? "ELBSecurityPolicy-TLS13-1-2-2021-06";
    const retentionDays = props.accessLogsRetentionDays ?? 90;
    this.https = props.certificateArn !== undefined;
    this.targetPort = props.target?.port;
    this.vpcId = props.vpcId;
    this.alarmTopicArn = props.alarmTopicArn;
    this.validate(props, { name, targetGroupName, retentionDays });

    if (!this.https) {
      Annotations.of(this).addWarning(
        `${this.node.path}: no certificateArn, so the load balancer serves plain HTTP; logins and files cross the internet unencrypted (set services.certificateArn to an ACM certificate ARN)`,
      );
    }

    this.securityGroup = new SecurityGroup(this, "sg", {
      vpcId: props.vpcId,
      groupName: naming.name(id, "sg"),
      // Its peers' rules have always called it "sg": keeps their addresses and Name tags.
      ruleLabel: "sg",
      description: `Public load balancer ${name}: ${this.https ? "HTTP (redirect) and HTTPS" : "HTTP"} from the internet, out to its targets`,
    });
    this.securityGroup.allowFrom(
      Peer.anyIpv4(),
      HTTP,
      this.https ? "HTTP from the internet, redirected to HTTPS" : "HTTP from the internet",
    );
    if (this.https) this.securityGroup.allowFrom(Peer.anyIpv4(), Port.HTTPS, "HTTPS from the internet");

    const logs = this.accessLogBucket(name, retentionDays, props);
    this.accessLogsBucket = logs;
    this.accessLogsBucketName = logs.bucketName;

    const lb = new Lb(this, "lb", {
      name,
      loadBalancerType: "application",
      internal: false,
      subnets: [...props.subnetIds],
      securityGroups: [this.securityGroup.securityGroupId],
      // Requests with malformed headers are dropped instead of passed to the app (request smuggling).
      dropInvalidHeaderFields: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      accessLogs: { bucket: logs.bucketName, prefix: ACCESS_LOG_PREFIX, enabled: true },
      // ELB checks it may write to the bucket when logging is turned on; the policy must exist first.
      dependsOn: [logs.policy],
      tags: { Name: name },
    });
    this.loadBalancerArn = lb.arn;
    this.loadBalancerArnSuffix = lb.arnSuffix;
    this.dnsName = lb.dnsName;
    this.zoneId = lb.zoneId;
    this.url = `${this.https ? "https" : "http"}://${lb.dnsName}`;

    const targetGroup = props.target ? this.targetGroup("target", targetGroupName, props.target) : undefined;
    this.defaultTargetGroupArn = targetGroup?.arn;
    const forward = targetGroup
      ? [{ type: "forward", targetGroupArn: targetGroup.arn }]
      : // Paths no rule claims: the load balancer answers itself instead of picking one tenant's app.
        [{ type: "fixed-response", fixedResponse: { contentType: "text/plain", statusCode: "404", messageBody: "Not found" } }];

    if (this.https) {
      const httpsListener = new LbListener(this, "https", {
        loadBalancerArn: lb.arn,
        port: Port.HTTPS,
        protocol: "HTTPS",
        sslPolicy,
        certificateArn: props.certificateArn,
        defaultAction: forward,
        tags: naming.tags(id, "https"),
      });
      const redirect = new LbListener(this, "http", {
        loadBalancerArn: lb.arn,
        port: HTTP,
        protocol: "HTTP",
        defaultAction: [{ type: "redirect", redirect: { port: String(Port.HTTPS), protocol: "HTTPS", statusCode: "HTTP_301" } }],
        tags: naming.tags(id, "http"),
      });
      this.listeners = [httpsListener, redirect];
      this.frontListener = httpsListener;
    } else {
      this.frontListener = new LbListener(this, "http", {
        loadBalancerArn: lb.arn,
        port: HTTP,
        protocol: "HTTP",
        defaultAction: forward,
        tags: naming.tags(id, "http"),
      });
      this.listeners = [this.frontListener];
    }

    if (props.alarmTopicArn) {
      this.alarmNames.push(...this.addAlarms(name, lb.arnSuffix, targetGroup?.arnSuffix, props.alarmTopicArn, ""));
    }
  }

  /** The default target's group; only for a load balancer created with `target`. */
  get targetGroupArn(): string {
    if (this.defaultTargetGroupArn === undefined) {
      throw propError(this, "target", "is not set, so there is no default target group; use addPathTarget");
    }
    return this.defaultTargetGroupArn;
  }

  /**
   * A target group of its own for the requests whose path matches `pathPatterns`, through a rule on
   * the forwarding listener, with its own 5xx and health alarms when the load balancer has a topic.
   */
  addPathTarget(id: string, props: PathTargetProps): PathTarget {
    const fail = (message: string): never => {
      throw propError(this, `addPathTarget(${id}): ${message}`);
    };
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(props.targetGroupName)) {
      fail(`targetGroupName must be 1-32 of letters, digits and '-' (got "${props.targetGroupName}")`);
    }
    if (!Number.isInteger(props.priority) || props.priority < 1 || props.priority > 50000 || this.priorities.has(props.priority)) {
      fail(`priority must be a whole number 1-50000 not used by another rule (got ${props.priority})`);
    }
    if (props.pathPatterns.length < 1 || props.pathPatterns.length > 5 || props.pathPatterns.some((p) => !p.startsWith("/"))) {
      fail(`pathPatterns must be 1-5 paths starting with / (got ${JSON.stringify(props.pathPatterns)})`);
    }
    if (!props.healthCheckPath.startsWith("/")) fail(`healthCheckPath must start with / (got "${props.healthCheckPath}")`);
    this.priorities.add(props.priority);
    const group = this.targetGroup(`${id}-target`, props.targetGroupName, props);
    const rule = new LbListenerRule(this, `${id}-rule`, {
      listenerArn: this.frontListener.arn,
      priority: props.priority,
      action: [{ type: "forward", targetGroupArn: group.arn }],
      condition: [{ pathPattern: { values: [...props.pathPatterns] } }],
      tags: { Name: `${props.targetGroupName}-rule` },
    });
    const alarmNames = this.alarmTopicArn
      ? this.addAlarms(props.targetGroupName, this.loadBalancerArnSuffix, group.arnSuffix, this.alarmTopicArn, `${id}-`)
      : [];
    this.alarmNames.push(...alarmNames);
    return { targetGroupArn: group.arn, targetGroupArnSuffix: group.arnSuffix, dependables: [...this.listeners, rule], alarmNames };
  }

  private targetGroup(id: string, name: string, target: LoadBalancerTarget): LbTargetGroup {
    return new LbTargetGroup(this, id, {
      name,
      port: target.port,
      protocol: "HTTP",
      targetType: "ip",
      vpcId: this.vpcId,
      // The default 300 s makes every deployment wait five minutes per old task.
      deregistrationDelay: "30",
      healthCheck: {
        enabled: true,
        path: target.healthCheckPath,
        matcher: target.healthyHttpCodes ?? "200-399",
        interval: 30,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 3,
      },
      tags: { Name: name },
    });
  }

  /** Opens the path from the load balancer to `targets` on `port` (default: the default target's), both ways round. */
  allowTrafficTo(targets: SecurityGroup, port?: number): void {
    const to = port ?? this.targetPort;
    if (to === undefined) throw propError(this, "allowTrafficTo", "needs a port: this load balancer has no default target");
    this.securityGroup.allowTo(targets, to, "Requests to the load balanced tasks");
    targets.allowFrom(this.securityGroup, to, "Requests from the public load balancer");
  }

  private accessLogBucket(name: string, retentionDays: number, props: LoadBalancerProps): SecureBucket {
    const logs = new SecureBucket(this, "logs", {
      nameTag: Naming.of(this).name("logs"),
      // A generated suffix: bucket names are global, and a fixed name collides with any other account's.
      bucketPrefix: `${name}-logs-`,
      // ELB writes each log object once and the lifecycle rule expires it: old versions would only keep expired logs.
      versioned: false,
      expireObjectsAfterDays: retentionDays,
      forceDestroy: props.accessLogsForceDestroy ?? false,
      protect: !(props.accessLogsForceDestroy ?? false),
    });
    // SecureBucket encrypts with S3-managed keys (SSE-S3): ELB delivers access logs only to those; with SSE-KMS it fails silently.
    const account = accountOf(this);
    const logObjects = `${logs.bucketArn}/${ACCESS_LOG_PREFIX}/AWSLogs/${account}/*`;
    logs.addToResourcePolicy({
      sid: "ElbLogDelivery",
      actions: ["s3:PutObject"],
      resources: [logObjects],
      principals: { Service: [LOG_DELIVERY] },
    });
    if (ELB_ACCOUNT_REGIONS.has(props.region)) {
      const elbAccount = new DataAwsElbServiceAccount(this, "elb-account", {});
      logs.addToResourcePolicy({
        sid: "ElbRegionalAccount",
        actions: ["s3:PutObject"],
        resources: [logObjects],
        principals: { AWS: [elbAccount.arn] },
      });
    }
    // The bucket's resources lived directly under the load balancer until they became a SecureBucket.
    const previous = this.node.scopes.slice(TerraformStack.of(this).node.scopes.length).map((c) => c.node.id);
    const before: Record<string, string> = {
      bucket: "access-logs",
      encryption: "access-logs-encryption",
      "public-access": "access-logs-public-access",
      ownership: "access-logs-ownership",
      lifecycle: "access-logs-lifecycle",
      policy: "access-logs-policy",
    };
    this.logBucketMoves = Object.entries(before).map(([child, oldId]) =>
      movedResourceFrom(logs.node.findChild(child) as TerraformResource, [...previous, oldId]),
    );
    return logs;
  }

  /**
   * The load balancer's own 5xx alarm (with no `idPrefix`), and the 5xx and health alarms of the target group
   * `targetGroupDimension`; returns their names.
   */
  private addAlarms(
    name: string,
    lbDimension: string,
    targetGroupDimension: string | undefined,
    topicArn: string,
    idPrefix: string,
  ): string[] {
    type Spec = {
      purpose: string;
      metricName: string;
      statistic: AlarmStatistic;
      comparison: AlarmComparison;
      threshold: number;
      dimensions: Record<string, string>;
      description: string;
    };
    const all: Spec[] = [
      {
        purpose: "alb-5xx",
        metricName: "HTTPCode_ELB_5XX_Count",
        statistic: "Sum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 10,
        dimensions: { LoadBalancer: lbDimension },
        description: `ALB ${name}: 10 or more 5xx answers of its own in 5 minutes (no healthy target, or targets refusing connections).`,
      },
      {
        purpose: "target-5xx",
        metricName: "HTTPCode_Target_5XX_Count",
        statistic: "Sum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: 10,
        dimensions: { LoadBalancer: lbDimension, TargetGroup: targetGroupDimension! },
        description: `ALB ${name}: the application answered 5xx 10 or more times in 5 minutes.`,
      },
      {
        purpose: "unhealthy-targets",
        metricName: "UnHealthyHostCount",
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold: 0,
        dimensions: { LoadBalancer: lbDimension, TargetGroup: targetGroupDimension! },
        description: `ALB ${name}: a task fails its health check for 10 minutes (the circuit breaker rolls back failed deployments).`,
      },
      {
        purpose: "no-healthy-targets",
        metricName: "HealthyHostCount",
        statistic: "Minimum",
        comparison: "LessThanThreshold",
        threshold: 1,
        dimensions: { LoadBalancer: lbDimension, TargetGroup: targetGroupDimension! },
        description: `ALB ${name}: no healthy task for 10 minutes; every request fails.`,
      },
    ];
    const specs = all.filter((spec) => (spec.purpose === "alb-5xx" ? idPrefix === "" : targetGroupDimension !== undefined));
    const names: string[] = [];
    for (const spec of specs) {
      const alarm = metricAlarm(this, `${idPrefix}alarm-${spec.purpose}`, {
        alarmName: `${name}-${spec.purpose}`,
        description: spec.description,
        namespace: "AWS/ApplicationELB",
        metricName: spec.metricName,
        dimensions: spec.dimensions,
        statistic: spec.statistic,
        evaluationPeriods: spec.purpose.endsWith("5xx") ? 1 : 2,
        comparison: spec.comparison,
        threshold: spec.threshold,
        // ELB publishes 5xx counts only when there are some; HealthyHostCount always while targets are registered,
        // so its silence means the target group is gone or empty.
        treatMissingData: spec.purpose === "no-healthy-targets" ? "breaching" : "notBreaching",
        topicArn,
      });
      names.push(alarm.alarmName);
    }
    return names;
  }

  private validate(props: LoadBalancerProps, v: { name: string; targetGroupName: string; retentionDays: number }): void {
    const fail = (message: string): never => {
      throw propError(this, message);
    };
    // AWS limits load balancer and target group names to 32 characters.
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,26}[A-Za-z0-9])?$/.test(v.name) || v.name.startsWith("internal-")) {
      fail(
        `loadBalancerName must be 1-28 of letters, digits and '-' (the target group adds "-tg" within AWS's 32), not starting with internal- (got "${v.name}")`,
      );
    }
    if (props.subnetIds.length < 2)
      fail(`subnetIds needs subnets in at least two AZs, as AWS requires of an ALB (got ${props.subnetIds.length})`);
    if (
      props.certificateArn !== undefined &&
      !Token.isUnresolved(props.certificateArn) &&
      !/^arn:aws[a-z-]*:(acm|iam):/.test(props.certificateArn)
    ) {
      fail(`certificateArn must be an ACM (or IAM) certificate ARN (got "${props.certificateArn}")`);
    }
    if (props.target && !props.target.healthCheckPath.startsWith("/"))
      fail(`target.healthCheckPath must start with / (got "${props.target.healthCheckPath}")`);
    if (!Number.isInteger(v.retentionDays) || v.retentionDays < 1)
      fail(`accessLogsRetentionDays must be a whole number >= 1 (got ${v.retentionDays})`);
  }
}

/** Key prefix of access log objects in their bucket. */
const ACCESS_LOG_PREFIX = "alb";

/** The account id Terraform runs in: one data source per stack. */
function accountOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("caller-identity") as DataAwsCallerIdentity | undefined;
  return (existing ?? new DataAwsCallerIdentity(stack, "caller-identity")).accountId;
}
