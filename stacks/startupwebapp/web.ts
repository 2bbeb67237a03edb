import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Fn } from "cdktf";
import type { Construct } from "constructs";
import { webAppName, type StartupWebAppConfig } from "../../config/schema";
import type { ApplicationSecret } from "../../constructs/application-secret";
import { ContainerRegistry } from "../../constructs/container-registry";
import { DnsValidatedCertificate } from "../../constructs/dns-validated-certificate";
import { EcsCluster } from "../../constructs/ecs-cluster";
import { FargateService } from "../../constructs/fargate-service";
import { LoadBalancer } from "../../constructs/load-balancer";
import { SecureBucket } from "../../constructs/secure-bucket";
import { WebDashboard } from "../../constructs/web-dashboard";
import { WebDistribution } from "../../constructs/web-distribution";
import type { CoreStacks } from "../application";
import { fromConfig } from "../config-errors";
import { EnvironmentStack } from "../environment-stack";
import { WEB_OUTPUTS } from "./outputs";

export interface WebStackProps {
  readonly config: StartupWebAppConfig;
  readonly core: CoreStacks;
  /** The secret each tenant database's credentials are in (the data stack's), by database name. */
  readonly tenantSecrets: Readonly<Record<string, ApplicationSecret>>;
  /** Each tenant database's secret name, the app's DB_SECRET_NAME (the tenants stack's), by database name. */
  readonly secretNames: Readonly<Record<string, string>>;
}

/** What `npm run migrate` and `npm run manage` need to start a one-off task of a tenant's service. */
export interface TenantServiceOutput {
  readonly service_name: string;
  readonly task_definition_family: string;
  readonly container_name: string;
  readonly log_group_name: string;
  readonly log_stream_prefix: string;
}

/** The container name in every tenant's task definition. */
const CONTAINER = "web";

/**
 * `<env>-web`: StartupWebApp's tenants on Fargate. One ECR repository for the backend image; one ECS
 * service per tenant database, each reading only its own secret, behind one HTTPS load balancer that
 * routes `/projects/<app>/*` to it; a static bucket behind CloudFront (origin access control) and a
 * private media bucket only the tasks can use; CloudFront in front of both. Without a NAT gateway the
 * tasks run in public subnets with public IPs, reachable only from the load balancer; with one, in
 * private subnets. Alarms go to the core topic; the layer has its own dashboard.
 */
export class WebStack extends EnvironmentStack {
  declare readonly config: StartupWebAppConfig;
  readonly registry: ContainerRegistry;
  readonly cluster: EcsCluster;
  readonly loadBalancer: LoadBalancer;
  readonly distribution: WebDistribution;
  readonly staticBucket: SecureBucket;
  readonly mediaBucket: SecureBucket;
  /** Each tenant database's service, by database name. */
  readonly services: Readonly<Record<string, FargateService>>;

  constructor(scope: Construct, props: WebStackProps) {
    super(scope, { config: props.config, layer: "web" });
    const { network, observability } = props.core;
    const { project, region, protect, production, tenants } = this.config;
    const web = this.config.web!;
    const topicArn = observability.alarmTopic.topicArn;
    // Without NAT, a task in a private subnet could not even pull its image (REFERENCE part D).
    const inPublicSubnets = !this.config.network.natGateway;
    const subnetIds = inPublicSubnets ? network.vpc.publicSubnetIds : network.vpc.privateSubnetIds;

    this.registry = new ContainerRegistry(this, "registry", {
      repositoryName: this.naming.name("backend"),
      keepImages: web.keepImages,
      forceDelete: !protect,
    });

    // CloudFront reads certificates only in us-east-1, whatever the stack's region.
    const usEast1 = new AwsProvider(this, "aws-us-east-1", {
      alias: "us_east_1",
      region: "us-east-1",
      defaultTags: [{ tags: { ...this.config.tags, Project: project, Environment: this.config.environment, ManagedBy: "cdktf" } }],
    });
    const certificate = new DnsValidatedCertificate(this, "certificate", { domainName: web.domain, hostedZoneId: web.hostedZoneId });
    const cdnCertificate = new DnsValidatedCertificate(this, "cdn-certificate", {
      domainName: web.domain,
      hostedZoneId: web.hostedZoneId,
      provider: usEast1,
    });

    this.loadBalancer = fromConfig(
      this.config,
      "web",
      () =>
        new LoadBalancer(this, "alb", {
          loadBalancerName: this.naming.name("web"),
          vpcId: network.vpc.vpcId,
          subnetIds: network.vpc.publicSubnetIds,
          region,
          certificateArn: certificate.certificateArn,
          deletionProtection: protect,
          accessLogsRetentionDays: web.accessLogsRetentionDays,
          accessLogsForceDestroy: !protect,
          alarmTopicArn: topicArn,
        }),
    );
    // The backend group is the one PostgreSQL accepts; from the internet it is reachable only through the load balancer.
    const backend = network.securityGroups.backend;
    this.loadBalancer.allowTrafficTo(backend, web.containerPort);

    this.staticBucket = new SecureBucket(this, "static", {
      bucketName: this.naming.name("static"),
      nameTag: this.naming.name("static"),
      protect,
    });
    this.mediaBucket = new SecureBucket(this, "media", {
      bucketName: this.naming.name("media"),
      nameTag: this.naming.name("media"),
      protect,
    });
    this.distribution = new WebDistribution(this, "cdn", {
      name: this.naming.name("web"),
      domainName: web.domain,
      certificateArn: cdnCertificate.certificateArn,
      appOriginDomainName: this.loadBalancer.dnsName,
      staticBucket: this.staticBucket,
    });

    this.cluster = new EcsCluster(this, "cluster", { clusterName: this.naming.name("web") });
    const services: Record<string, FargateService> = {};
    const targets: Record<string, string> = {};
    tenants.databases.forEach((database, i) => {
      const app = webAppName(database, web.apps, this.config.environment);
      const name = this.naming.name(app);
      const target = this.loadBalancer.addPathTarget(app, {
        targetGroupName: name,
        port: web.containerPort,
        healthCheckPath: web.healthCheckPath,
        pathPatterns: [`/projects/${app}`, `/projects/${app}/*`],
        priority: i + 1,
      });
      targets[database] = target.targetGroupArnSuffix;
      const service = fromConfig(
        this.config,
        "web",
        () =>
          new FargateService(this, `service-${app}`, {
            serviceName: name,
            containerName: CONTAINER,
            cluster: this.cluster,
            image: this.registry.imageUri(web.imageTag),
            ecrRepositoryArn: this.registry.repositoryArn,
            // Production's tag is checked in the schema (a version tag or digest); elsewhere any tag may run.
            allowUnpinnedImage: !production,
            cpu: web.cpu,
            memoryMiB: web.memory,
            architecture: web.architecture,
            capacity: web.spot ? "FARGATE_SPOT" : "FARGATE",
            desiredCount: web.desiredCount,
            autoscaling: web.autoscaling,
            ports: [{ name: "http", port: web.containerPort }],
            subnetIds,
            securityGroupIds: [backend.securityGroupId],
            // Without a public IP a task in a public subnet has no route out (no NAT): no image pull, no Stripe.
            assignPublicIp: inPublicSubnets,
            logRetentionDays: web.logRetentionDays,
            enableExecuteCommand: true,
            environment: {
              DJANGO_SETTINGS_MODULE: "StartupWebApp.settings_production",
              DATABASE_NAME: database,
              DB_SECRET_NAME: props.secretNames[database],
              AWS_REGION: region,
              ALLOWED_HOSTS: web.domain,
              STATIC_BUCKET_NAME: this.staticBucket.bucketName,
              MEDIA_BUCKET_NAME: this.mediaBucket.bucketName,
              STATIC_URL: `https://${web.domain}/static/`,
            },
            loadBalancerTarget: { targetGroupArn: target.targetGroupArn, dependsOn: target.dependables },
            alarms: { topicArn },
          }),
        { memoryMiB: "memory", capacity: "spot" },
      );
      // Django reads its credentials itself (boto3, DB_SECRET_NAME): the task role reads that one secret.
      props.tenantSecrets[database].grantRead(service.taskRole);
      services[database] = service;
    });
    this.services = services;

    // Tasks upload static files (collectstatic) and read and write media; nothing else is granted either bucket.
    const taskRoles = Object.values(services).map((s) => s.taskRole);
    for (const role of taskRoles) {
      for (const bucket of [this.staticBucket, this.mediaBucket]) {
        role.allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], [`${bucket.bucketArn}/*`]);
        role.allow(["s3:ListBucket"], [bucket.bucketArn]);
      }
    }
    this.mediaBucket.addToResourcePolicy({
      sid: "OnlyTheTenantTasks",
      effect: "Deny",
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [`${this.mediaBucket.bucketArn}/*`],
      principals: { AWS: ["*"] },
      conditions: { ArnNotEquals: { "aws:PrincipalArn": taskRoles.map((r) => r.roleArn) } },
    });

    const dashboard = new WebDashboard(this, "dashboard", {
      dashboardName: this.naming.title("Web"),
      region,
      clusterName: this.cluster.clusterName,
      loadBalancerArnSuffix: this.loadBalancer.loadBalancerArnSuffix,
      services: tenants.databases.map((database) => ({
        label: webAppName(database, web.apps, this.config.environment),
        serviceName: services[database].serviceName,
        targetGroupArnSuffix: targets[database],
      })),
    });

    // Values from another stack's state arrive marked sensitive; ids are not secrets, and scripts read these outputs.
    const plain = (ids: string[]) => ids.map((id) => Fn.nonsensitive(id) as string);
    this.outputs(inPublicSubnets, plain(subnetIds), plain([backend.securityGroupId]), certificate, cdnCertificate, dashboard.dashboardName);
  }

  private outputs(
    assignPublicIp: boolean,
    subnetIds: string[],
    taskSecurityGroupIds: string[],
    certificate: DnsValidatedCertificate,
    cdnCertificate: DnsValidatedCertificate,
    dashboardName: string,
  ): void {
    const tenantServices: Record<string, TenantServiceOutput> = Object.fromEntries(
      Object.entries(this.services).map(([database, s]) => [
        database,
        {
          service_name: s.serviceName,
          task_definition_family: s.taskDefinitionFamily,
          container_name: s.containerName,
          log_group_name: s.logGroupName,
          log_stream_prefix: s.logStreamPrefix,
        },
      ]),
    );
    const web = this.config.web!;
    this.declareOutputs(WEB_OUTPUTS, {
      clusterName: { value: this.cluster.clusterName, description: "ECS cluster of the tenant services" },
      tenantServices: {
        value: tenantServices,
        description:
          "Per tenant database: its ECS service, task definition family, container, log group and awslogs stream prefix (stream <prefix>/<container>/<task id>)",
      },
      taskSubnetIds: { value: subnetIds, description: "Subnets the tasks run in (one-off tasks too)" },
      taskSecurityGroupIds: {
        value: taskSecurityGroupIds,
        description: "Security groups of the tasks (the backend group: PostgreSQL accepts it)",
      },
      taskAssignPublicIp: { value: assignPublicIp, description: "Whether tasks get a public IP (public subnets, no NAT)" },
      albDnsName: { value: this.loadBalancer.dnsName, description: "DNS name of the load balancer (CloudFront's origin)" },
      cloudfrontDomainName: {
        value: this.distribution.domainName,
        description: `Point ${web.domain} here (CNAME, or a Route 53 alias to cloudfront_hosted_zone_id)`,
      },
      cloudfrontHostedZoneId: { value: this.distribution.hostedZoneId, description: "CloudFront's Route 53 zone id, for an alias record" },
      cloudfrontDistributionId: {
        value: this.distribution.distributionId,
        description: "CloudFront distribution id (cache invalidations)",
      },
      ecrRepositoryUrl: { value: this.registry.repositoryUrl, description: "Where to push the backend image (docker push <url>:<tag>)" },
      staticBucketName: {
        value: this.staticBucket.bucketName,
        description: "Bucket of the static files, served under /static/ by CloudFront",
      },
      mediaBucketName: {
        value: this.mediaBucket.bucketName,
        description: "Private bucket of uploaded media; only the tenant tasks can use it",
      },
      certificateValidationRecords: {
        value: certificate.validationRecords,
        description: "CNAME records ACM checks for the load balancer's certificate (created in Route 53 when web.hostedZoneId is set)",
      },
      cdnCertificateValidationRecords: {
        value: cdnCertificate.validationRecords,
        description: "CNAME records ACM checks for CloudFront's certificate in us-east-1 (the same records as above)",
      },
      dashboardName: { value: dashboardName, description: "CloudWatch dashboard of the load balancer and the tenant services" },
    });
  }
}
