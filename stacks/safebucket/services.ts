import { Fn, Token } from "cdktf";
import type { Construct } from "constructs";
import type { SafeBucketConfig } from "../../config/schema";
import { portForwardingCommand } from "../../constructs/bastion-user-data";
import { EcsCluster } from "../../constructs/ecs-cluster";
import { FargateService, type ContainerSecret } from "../../constructs/fargate-service";
import { LoadBalancer } from "../../constructs/load-balancer";
import { Peer, Port, SecurityGroup } from "../../constructs/security-group";
import { SecureBucket } from "../../constructs/secure-bucket";
import { SafeBucketCredentials } from "../../constructs/safebucket-credentials";
import type { AccessStack } from "../access";
import type { CoreStacks } from "../application";
import { EnvironmentStack } from "../environment-stack";
import type { SafeBucket } from ".";
import { fromConfig } from "../config-errors";
import { SERVICES_OUTPUTS } from "./outputs";

export interface ServicesStackProps {
  readonly config: SafeBucketConfig;
  readonly core: CoreStacks;
  /** The module's handles on its data stores (bucket, queues, cache) and secret. */
  readonly app: SafeBucket;
}

/** FargateService props whose config fields have other names. */
const SERVICE_FIELDS = { memoryMiB: "memory", capacity: "spot" };

/** The services' ports: the images' own defaults, not settings of one environment. */
export const SERVICE_PORTS = { safebucket: 8080, loki: 3100, mailpitUi: 8025, mailpitSmtp: 1025 } as const;

/**
 * `<env>-services`: SafeBucket, Loki and (outside production, when no SMTP relay is set) Mailpit on
 * Fargate in one ECS cluster. Only SafeBucket is public, behind the load balancer; Loki and Mailpit
 * answer only inside the VPC under `<service>.<project>.local`, Mailpit's UI to operators through the
 * bastion. SafeBucket's task role gets exactly the data stack's bucket, queues and cache, written
 * here once; Loki's gets its own bucket; Mailpit's gets nothing. Alarms go to the core topic.
 */
export class ServicesStack extends EnvironmentStack {
  declare readonly config: SafeBucketConfig;
  readonly cluster: EcsCluster;
  readonly loadBalancer: LoadBalancer;
  readonly safebucket: FargateService;
  readonly loki: FargateService;
  /** Undefined when mail goes through a relay (`mail.smtpHost`, always in production). */
  readonly mailpit?: FargateService;
  readonly lokiBucket: SecureBucket;
  /** Each service's own group (SafeBucket's tasks also join the network's backend group); no Mailpit group without Mailpit. */
  readonly securityGroups: { readonly safebucket: SecurityGroup; readonly loki: SecurityGroup; readonly mailpit?: SecurityGroup };
  /** Where users reach SafeBucket: `https://<alb dns>` (or `http://` without a certificate). */
  readonly appUrl: string;

  constructor(scope: Construct, props: ServicesStackProps) {
    super(scope, { config: props.config, layer: "services" });
    const { core, app: module } = props;
    const { network, data, access, observability } = core;
    const { services, project, region, protect, production, mail, appDatabase } = this.config;
    const topicArn = observability.alarmTopic.topicArn;
    const inPublicSubnets = services.subnets === "public";
    const placement = {
      subnetIds: inPublicSubnets ? network.vpc.publicSubnetIds : network.vpc.privateSubnetIds,
      // In public subnets there is no NAT: without a public IP a task cannot even pull its image.
      assignPublicIp: inPublicSubnets,
      logRetentionDays: services.logRetentionDays,
      allowUnpinnedImage: !production,
    };

    this.cluster = new EcsCluster(this, "cluster", {
      clusterName: this.naming.name("cluster"),
      containerInsights: services.containerInsights,
      namespace: { name: `${project}.local`, vpcId: network.vpc.vpcId },
    });

    const group = (id: string, description: string) =>
      new SecurityGroup(this, id, { vpcId: network.vpc.vpcId, groupName: this.naming.name(id), description });
    const appGroup = group("safebucket-sg", "SafeBucket tasks: from the load balancer, out to Loki and Mailpit");
    const lokiGroup = group("loki-sg", "Loki tasks: log pushes and queries from SafeBucket, out to S3 and the registry");

    this.loadBalancer = new LoadBalancer(this, "alb", {
      // The environment's one load balancer; AWS allows 32 characters, so no purpose suffix.
      loadBalancerName: this.naming.name(),
      vpcId: network.vpc.vpcId,
      subnetIds: network.vpc.publicSubnetIds,
      region,
      target: { port: SERVICE_PORTS.safebucket, healthCheckPath: "/" },
      certificateArn: services.certificateArn,
      deletionProtection: protect,
      accessLogsRetentionDays: services.accessLogsRetentionDays,
      // Access logs only; an unprotected environment must be destroyable without emptying them by hand.
      accessLogsForceDestroy: !protect,
      alarmTopicArn: topicArn,
    });
    this.loadBalancer.allowTrafficTo(appGroup);
    this.appUrl = this.loadBalancer.url;

    appGroup.allowTo(lokiGroup, SERVICE_PORTS.loki, "Log pushes and queries to Loki");
    lokiGroup.allowFrom(appGroup, SERVICE_PORTS.loki, "Log pushes and queries from SafeBucket");
    lokiGroup.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to S3 (chunks and index) and the image registry");

    this.lokiBucket = new SecureBucket(this, "loki-bucket", {
      bucketName: this.naming.name("loki"),
      nameTag: this.naming.name("loki-bucket"),
      // Loki's compactor deletes expired chunks; their old versions need not outlive them long.
      noncurrentVersionExpirationDays: 7,
      protect,
    });
    this.loki = fromConfig(
      this.config,
      "services.loki",
      () =>
        new FargateService(this, "loki", {
          serviceName: this.naming.name("loki"),
          ...placement,
          ...sizeOf(services.loki),
          cluster: this.cluster,
          image: services.loki.image!,
          containerName: "loki",
          ports: [{ name: "http", port: SERVICE_PORTS.loki }],
          securityGroupIds: [lokiGroup.securityGroupId],
          discoveryName: "loki",
          // The image's built-in config stores on the task's disk, lost at every deployment; this one
          // stores in the bucket. The image is distroless with busybox, so a shell can write it out.
          environment: { LOKI_CONFIG: lokiConfig(this.lokiBucket.bucketName, region, services.lokiRetentionDays) },
          entryPoint: ["/bin/sh", "-c"],
          command: ["printenv LOKI_CONFIG > /etc/loki/ecs.yaml && exec /usr/bin/loki -config.file=/etc/loki/ecs.yaml"],
          healthCheckCommand: ["CMD-SHELL", `wget -q -O /dev/null http://localhost:${SERVICE_PORTS.loki}/ready || exit 1`],
          alarms: { topicArn },
        }),
      SERVICE_FIELDS,
    );
    this.loki.taskRole.allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [`${this.lokiBucket.bucketArn}/*`]);
    this.loki.taskRole.allow(["s3:ListBucket"], [this.lokiBucket.bucketArn]);

    const mailpitGroup =
      mail.smtpHost === undefined ? group("mailpit-sg", "Mailpit tasks: SMTP from SafeBucket, web UI from the bastion only") : undefined;
    if (mailpitGroup) {
      appGroup.allowTo(mailpitGroup, SERVICE_PORTS.mailpitSmtp, "SMTP to Mailpit");
      mailpitGroup.allowFrom(appGroup, SERVICE_PORTS.mailpitSmtp, "SMTP from SafeBucket");
      mailpitGroup.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to the image registry");
      if (access.bastion) {
        mailpitGroup.allowFrom(
          network.securityGroups.bastion,
          SERVICE_PORTS.mailpitUi,
          "Mailpit web UI from the bastion (SSM port forwarding)",
        );
        network.securityGroups.bastion.allowTo(
          mailpitGroup,
          SERVICE_PORTS.mailpitUi,
          "Mailpit web UI, for operators tunnelling through SSM",
        );
      }
      this.mailpit = fromConfig(
        this.config,
        "services.mailpit",
        () =>
          new FargateService(this, "mailpit", {
            serviceName: this.naming.name("mailpit"),
            ...placement,
            ...sizeOf(services.mailpit),
            cluster: this.cluster,
            image: services.mailpit.image!,
            containerName: "mailpit",
            ports: [
              { name: "smtp", port: SERVICE_PORTS.mailpitSmtp },
              { name: "ui", port: SERVICE_PORTS.mailpitUi },
            ],
            securityGroupIds: [mailpitGroup.securityGroupId],
            discoveryName: "mailpit",
            healthCheckCommand: ["CMD", "/mailpit", "readyz"],
            alarms: { topicArn },
          }),
        SERVICE_FIELDS,
      );
    }
    this.securityGroups = { safebucket: appGroup, loki: lokiGroup, ...(mailpitGroup ? { mailpit: mailpitGroup } : {}) };

    const app = services.safebucket;
    // SafeBucket reads SECTION__KEY variables (its docker-compose files); names the AWS drivers read are in README, Services.
    const environment: Record<string, string> = {
      APP__API_URL: this.appUrl,
      APP__WEB_URL: this.appUrl,
      APP__PORT: String(SERVICE_PORTS.safebucket),
      // Requests arrive through the load balancer, whose addresses are in the VPC.
      APP__TRUSTED_PROXIES: this.config.network.vpcCidr,
      AWS_REGION: region,
      DATABASE__TYPE: "postgres",
      DATABASE__POSTGRES__HOST: data.database.address,
      DATABASE__POSTGRES__PORT: text(data.database.port),
      DATABASE__POSTGRES__NAME: appDatabase.name,
      DATABASE__POSTGRES__SSLMODE: "require",
      ACTIVITY__TYPE: "loki",
      ACTIVITY__LOKI__ENDPOINT: `http://${this.loki.discoveryName}:${SERVICE_PORTS.loki}`,
      NOTIFIER__TYPE: "smtp",
      NOTIFIER__SMTP__HOST: mail.smtpHost ?? this.mailpit!.discoveryName!,
      NOTIFIER__SMTP__PORT: String(mail.smtpHost === undefined ? SERVICE_PORTS.mailpitSmtp : mail.smtpPort),
      NOTIFIER__SMTP__SENDER: mail.sender,
    };
    // SafeBucket's secret, written by the database stack (SafeBucketCredentials): nothing of it is a plain variable.
    const fromSecret = (jsonKey: (typeof SafeBucketCredentials.KEYS)[number] | (typeof SafeBucketCredentials.SMTP_KEYS)[number]) => ({
      secretArn: data.appSecret.secretArn,
      jsonKey,
    });
    const secrets: Record<string, ContainerSecret> = {
      DATABASE__POSTGRES__USER: fromSecret("username"),
      DATABASE__POSTGRES__PASSWORD: fromSecret("password"),
      APP__JWT_SECRET: fromSecret("jwt_secret"),
      APP__ADMIN_PASSWORD: fromSecret("admin_password"),
    };
    if (mail.smtpHost !== undefined) {
      Object.assign(secrets, {
        NOTIFIER__SMTP__USERNAME: fromSecret("smtp_username"),
        NOTIFIER__SMTP__PASSWORD: fromSecret("smtp_password"),
      });
    }
    const { objectStorage, queues, cache } = module;
    Object.assign(environment, {
      STORAGE__TYPE: "aws",
      STORAGE__AWS__BUCKET_NAME: objectStorage.bucketName,
      EVENTS__TYPE: "aws",
      EVENTS__QUEUES__BUCKET_EVENTS__NAME: queues.events.queueName,
      EVENTS__QUEUES__NOTIFICATIONS__NAME: queues.notifications.queueName,
      EVENTS__QUEUES__OBJECT_DELETION__NAME: queues.objectDeletion.queueName,
      // The cache requires TLS, and its user signs in with an IAM token: there is no password to hand over.
      CACHE__TYPE: "redis",
      CACHE__REDIS__HOSTS: cache.primaryEndpointAddress,
      CACHE__REDIS__PORT: text(cache.port),
      CACHE__REDIS__TLS: "true",
      CACHE__REDIS__USER: cache.userName,
      CACHE__REDIS__AUTH: "iam",
      CACHE__REDIS__REPLICATION_GROUP_ID: cache.replicationGroupId,
    });

    this.safebucket = fromConfig(
      this.config,
      "services.safebucket",
      () =>
        new FargateService(this, "safebucket", {
          serviceName: this.naming.name("safebucket"),
          ...placement,
          ...sizeOf(app),
          cluster: this.cluster,
          image: app.image!,
          containerName: "safebucket",
          ports: [{ name: "http", port: SERVICE_PORTS.safebucket }],
          // The backend group is the one PostgreSQL and Redis accept; this stack's group adds the load balancer and the sidecars.
          securityGroupIds: [network.securityGroups.backend.securityGroupId, appGroup.securityGroupId],
          environment,
          secrets,
          autoscaling: app.autoscaling,
          loadBalancerTarget: { targetGroupArn: this.loadBalancer.targetGroupArn, dependsOn: this.loadBalancer.listeners },
          alarms: { topicArn },
        }),
      SERVICE_FIELDS,
    );
    // SafeBucket's grants, the only place they are written: its objects, its queues (only S3 sends to
    // the events queue; the app sends to the other two), connecting to its cache.
    objectStorage.grantReadWrite(this.safebucket.taskRole);
    queues.events.grantConsume(this.safebucket.taskRole);
    for (const queue of [queues.notifications, queues.objectDeletion]) {
      queue.grantSend(this.safebucket.taskRole);
      queue.grantConsume(this.safebucket.taskRole);
    }
    cache.grantConnect(this.safebucket.taskRole);

    this.outputs(access);
  }

  private outputs(access: AccessStack): void {
    const services = [this.safebucket, this.loki, ...(this.mailpit ? [this.mailpit] : [])];
    const { bastion } = access;
    const mailpit = this.mailpit;
    this.declareOutputs(SERVICES_OUTPUTS, {
      ecsClusterName: { value: this.cluster.clusterName, description: "Name of the ECS cluster" },
      ecsClusterArn: { value: this.cluster.clusterArn, description: "ARN of the ECS cluster" },
      ecsServiceNames: {
        value: services.map((s) => s.serviceName),
        description: "ECS services: SafeBucket, Loki and (outside production) Mailpit",
      },
      logGroupNames: {
        value: services.map((s) => s.logGroupName),
        description: "CloudWatch log groups of the services, in the same order",
      },
      albDnsName: { value: this.loadBalancer.dnsName, description: "DNS name of the public load balancer (point the app's domain at it)" },
      albZoneId: { value: this.loadBalancer.zoneId, description: "Route 53 zone id of the load balancer, for an alias record" },
      appUrl: { value: this.appUrl, description: "Where users reach SafeBucket" },
      albAccessLogsBucket: { value: this.loadBalancer.accessLogsBucketName, description: "Bucket of the load balancer's access logs" },
      lokiBucketName: { value: this.lokiBucket.bucketName, description: "Bucket Loki stores log chunks and index in" },
      serviceDiscoveryNamespace: {
        value: this.cluster.namespaceName,
        description: "Private DNS namespace: loki.<namespace>, mailpit.<namespace>",
      },
      safebucketTaskRoleArn: { value: this.safebucket.taskRole.roleArn, description: "ARN of the role SafeBucket's containers run as" },
      mailpitUiTunnelCommand:
        bastion && mailpit
          ? {
              value: portForwardingCommand({
                target: bastion.instanceId,
                host: mailpit.discoveryName!,
                port: SERVICE_PORTS.mailpitUi,
                localPort: SERVICE_PORTS.mailpitUi,
                region: this.config.region,
              }),
              description: `Forwards localhost:${SERVICE_PORTS.mailpitUi} to Mailpit's web UI through the bastion (needs the session-manager-plugin)`,
            }
          : undefined,
    });
  }
}

/** ECS takes environment values as strings only; a port from another stack is a number reference. */
function text(value: number): string {
  return Token.isUnresolved(value) ? Fn.tostring(value) : String(value);
}

/** A service section's sizing as FargateService props. */
function sizeOf(service: SafeBucketConfig["services"]["loki"]) {
  return {
    cpu: service.cpu,
    memoryMiB: service.memory,
    architecture: service.architecture,
    capacity: service.spot ? ("FARGATE_SPOT" as const) : ("FARGATE" as const),
    desiredCount: service.desiredCount,
  };
}

/**
 * Loki as one process storing chunks and its TSDB index in S3 with the task role's credentials;
 * the compactor deletes lines older than the retention.
 */
function lokiConfig(bucketName: string, region: string, retentionDays: number): string {
  return [
    "auth_enabled: false",
    "server:",
    "  http_listen_port: 3100",
    "analytics:",
    "  reporting_enabled: false",
    "common:",
    "  path_prefix: /loki",
    "  replication_factor: 1",
    "  ring:",
    "    kvstore:",
    "      store: inmemory",
    "  storage:",
    "    s3:",
    `      region: ${region}`,
    `      bucketnames: ${bucketName}`,
    "schema_config:",
    "  configs:",
    "    - from: 2024-01-01",
    "      store: tsdb",
    "      object_store: s3",
    "      schema: v13",
    "      index:",
    "        prefix: index_",
    "        period: 24h",
    "compactor:",
    "  working_directory: /loki/compactor",
    "  retention_enabled: true",
    "  delete_request_store: s3",
    "limits_config:",
    `  retention_period: ${retentionDays * 24}h`,
    "",
  ].join("\n");
}
