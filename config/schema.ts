/**
 * The one source of truth for every environment setting: its type, default, limits and doc line.
 *
 * Defaults reproduce StartupWebApp's production settings. A default a construct also applies is
 * decided once, in that construct (its exported `*_DEFAULTS`), and only referenced here; AWS's own
 * limits come from constructs/aws-limits.ts. A few defaults depend on the environment
 * (its name, region or project); those fields are optional here and filled by `resolveConfig`, so the
 * rule for each stays next to its siblings below.
 *
 * README's settings table is generated from this file (`npm run docs:config`).
 */
import { z } from "zod";
import {
  fargateSizeProblem,
  LIMITS,
  LOG_RETENTION_DAYS,
  RESERVED_DATABASES,
  RESERVED_ROLES,
  SPOT_NEEDS_X86,
} from "../constructs/aws-limits";
import { imageReferenceProblem } from "../constructs/container-registry";
import { imagePinProblem } from "../constructs/fargate-service";
import { SES_DEFAULTS } from "../constructs/ses";
import { NETWORK_DEFAULTS } from "../constructs/network";
import { OBJECT_STORAGE_DEFAULTS } from "../constructs/object-storage";
import { POSTGRES_DEFAULTS } from "../constructs/postgres-instance";
import { QUEUE_DEFAULTS } from "../constructs/queues";
import { RDS_ALARMS_DEFAULTS } from "../constructs/rds-alarms";
import { REDIS_DEFAULTS } from "../constructs/redis-cache";
import { SECRET_DOCUMENT_DEFAULTS } from "../constructs/secret-document";
import { SECURE_BUCKET_DEFAULTS } from "../constructs/secure-bucket";
import { SSM_BASTION_DEFAULTS } from "../constructs/ssm-bastion";
import { TENANT_DATABASES_DEFAULTS } from "../constructs/tenant-databases";
import { Naming } from "../constructs/naming";
import { contains, overlaps, parseCidr } from "./cidr";

// ---------------------------------------------------------------- field types

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, "must be a lowercase DNS-safe slug: 3-32 of a-z, 0-9, '-', starting with a letter");

const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1");

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, "must be an IPv4 CIDR such as 10.0.0.0/16, with no host bits set");

const bucketName = z.string().refine(LIMITS.s3BucketName.check, LIMITS.s3BucketName.rule);

const port = z.number().int().min(1, "must be a port 1-65535").max(65535, "must be a port 1-65535");
const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an e-mail address");
const positiveInt = z.number().int().positive();

const logRetention = z.number().refine(LIMITS.logRetentionDays.check, LIMITS.logRetentionDays.rule);
const alarmPercent = z.number().refine(LIMITS.alarmPercent.check, LIMITS.alarmPercent.rule);
const recoveryWindow = z.number().refine(LIMITS.secretRecoveryWindowDays.check, LIMITS.secretRecoveryWindowDays.rule);

export { LOG_RETENTION_DAYS, RESERVED_DATABASES, RESERVED_ROLES };

const pgIdentifier = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}$/,
    "must be a lowercase PostgreSQL identifier (a-z, 0-9, '_', at most 63 characters, not starting with a digit)",
  );

const dailyWindow = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$/, "must be a daily UTC window hh:mm-hh:mm such as 03:00-04:00");
const weeklyWindow = z
  .string()
  .regex(
    /^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d$/,
    "must be a weekly UTC window ddd:hh:mm-ddd:hh:mm such as sun:04:00-sun:05:00",
  );

// ---------------------------------------------------------------- sections

const stateSchema = z.strictObject({
  bucket: bucketName.describe("S3 bucket that holds every stack's state; globally unique across AWS (required)"),
  stateStackBackend: z
    .enum(["local", "s3"])
    .default("local")
    .describe("where the state stack keeps its own state: `local` to bootstrap, `s3` once migrated into its bucket (README, Bootstrap)"),
  noncurrentVersionExpirationDays: positiveInt
    .default(SECURE_BUCKET_DEFAULTS.noncurrentVersionExpirationDays)
    .describe("days an overwritten state version is kept before it expires"),
});

const networkSchema = z.strictObject({
  vpcCidr: cidr.default("10.0.0.0/16").describe("the VPC's IPv4 range"),
  availabilityZones: z
    .array(z.string())
    .optional()
    .describe("AZs to spread subnets over, at least 2, all in `region` (default: `<region>a`, `<region>b`)"),
  publicSubnetCidrs: z
    .array(cidr)
    .default(["10.0.1.0/24", "10.0.2.0/24"])
    .describe("one public subnet per AZ, in AZ order, inside vpcCidr"),
  privateSubnetCidrs: z
    .array(cidr)
    .default(["10.0.10.0/24", "10.0.11.0/24"])
    .describe("one private subnet per AZ, in AZ order, inside vpcCidr"),
  natGateway: z
    .boolean()
    .default(NETWORK_DEFAULTS.natGateway)
    .describe("give private subnets internet egress through a NAT gateway (about $32/month each)"),
  natGatewayPerAz: z
    .boolean()
    .default(NETWORK_DEFAULTS.natGatewayPerAz)
    .describe("one NAT gateway and route table per AZ instead of one shared (needs natGateway)"),
  flowLogs: z.boolean().optional().describe("send VPC flow logs to CloudWatch (default: on in production, off elsewhere)"),
  flowLogsRetentionDays: logRetention
    .default(NETWORK_DEFAULTS.flowLogsRetentionDays)
    .describe("days flow logs are kept (a CloudWatch retention period: 1, 3, 5, 7, 14, 30, 60, 90, ...)"),
});

const databaseSchema = z.strictObject({
  identifier: z
    .string()
    .refine(LIMITS.rdsIdentifier.check, LIMITS.rdsIdentifier.rule)
    .optional()
    .describe("RDS instance identifier (default: `<project>-multi-tenant-<env>`)"),
  engineVersion: z
    .string()
    .regex(/^(13|14|15|16|17)$/, 'must be a PostgreSQL major version 13-17, as a string such as "16"')
    .default(POSTGRES_DEFAULTS.engineVersion)
    .describe("PostgreSQL major version; minor versions follow AWS through auto minor version upgrade"),
  applyImmediately: z
    .boolean()
    .default(POSTGRES_DEFAULTS.applyImmediately)
    .describe(
      "apply instance changes at once, not in the maintenance window; a major `engineVersion` upgrade needs it (the plan refuses one without it)",
    ),
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.small")
    .default(POSTGRES_DEFAULTS.instanceClass)
    .describe("RDS instance class (`db.<family>.<size>`)"),
  allocatedStorageGb: z
    .number()
    .refine(LIMITS.allocatedStorageGb.check, LIMITS.allocatedStorageGb.rule)
    .default(POSTGRES_DEFAULTS.allocatedStorageGb)
    .describe("initial gp3 storage in GiB (20-65536)"),
  maxAllocatedStorageGb: z
    .number()
    .int()
    .max(65536)
    .default(POSTGRES_DEFAULTS.maxAllocatedStorageGb)
    .describe("storage autoscaling ceiling in GiB (>= allocatedStorageGb)"),
  backupRetentionDays: z
    .number()
    .refine(LIMITS.backupRetentionDays.check, LIMITS.backupRetentionDays.rule)
    .default(POSTGRES_DEFAULTS.backupRetentionDays)
    .describe("days automated backups are kept (0-35)"),
  backupWindow: dailyWindow.default(POSTGRES_DEFAULTS.backupWindow).describe("daily backup window, UTC"),
  maintenanceWindow: weeklyWindow.default(POSTGRES_DEFAULTS.maintenanceWindow).describe("weekly maintenance window, UTC"),
  multiAz: z.boolean().default(POSTGRES_DEFAULTS.multiAz).describe("standby replica in a second AZ (doubles the instance cost)"),
  deletionProtection: z
    .boolean()
    .default(POSTGRES_DEFAULTS.deletionProtection)
    .describe("RDS refuses to delete the instance until this is turned off"),
  skipFinalSnapshot: z
    .boolean()
    .default(POSTGRES_DEFAULTS.skipFinalSnapshot)
    .describe("destroy without a final snapshot (never in production)"),
  performanceInsightsRetentionDays: z
    .number()
    .refine(LIMITS.performanceInsightsRetentionDays.check, LIMITS.performanceInsightsRetentionDays.rule)
    .default(POSTGRES_DEFAULTS.performanceInsightsRetentionDays)
    .describe("Performance Insights retention: 7 (free) or a multiple of 31 up to 731"),
  monitoringIntervalSeconds: z
    .number()
    .refine(LIMITS.monitoringIntervalSeconds.check, LIMITS.monitoringIntervalSeconds.rule)
    .default(POSTGRES_DEFAULTS.monitoringIntervalSeconds)
    .describe("enhanced monitoring interval in seconds; 0 turns it off"),
  logRetentionDays: logRetention
    .default(POSTGRES_DEFAULTS.logRetentionDays)
    .describe("days the exported PostgreSQL and upgrade logs are kept (a CloudWatch retention period)"),
  logMinDurationStatementMs: z
    .number()
    .int()
    .min(-1)
    .default(POSTGRES_DEFAULTS.logMinDurationStatementMs)
    .describe("log statements slower than this many ms; -1 turns it off"),
});

/**
 * How the layer that speaks SQL (StartupWebApp's tenants, SafeBucket's database) reaches the instance
 * as its master user; one shape for both applications.
 */
const postgresAccessShape = {
  connection: z
    .enum(["tunnel", "direct"])
    .default("tunnel")
    .describe("`tunnel`: reach RDS at 127.0.0.1:tunnelPort through SSM; `direct`: at its address (a runner inside the VPC)"),
  tunnelPort: port.default(15432).describe("local port of the SSM port-forwarding tunnel (1-65535)"),
  connectTimeoutSeconds: positiveInt
    .default(TENANT_DATABASES_DEFAULTS.connectTimeoutSeconds)
    .describe("PostgreSQL provider connect timeout"),
};

const tenantsSchema = z.strictObject({
  appUser: pgIdentifier.default("django_app").describe("PostgreSQL login role the application uses (shared isolation)"),
  databases: z
    .array(pgIdentifier)
    .default(["startupwebapp_prod", "healthtech_experiment", "fintech_experiment"])
    .describe(
      "tenant databases, each owned by the app user: lowercase identifiers of at most 63 characters, unique, not postgres/template0/template1/rdsadmin",
    ),
  isolation: z
    .enum(["shared", "per-database"])
    .default("shared")
    .describe("`shared`: one app role owns every database; `per-database`: one role and secret per database"),
  secretName: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("Secrets Manager name of the application secret (default: `<project>/<env>/app`; per-database secrets add `/<database>`)"),
  secretRecoveryWindowDays: recoveryWindow
    .optional()
    .describe(
      "days a deleted application secret (and each per-database one) can be restored, 0 deletes at once (default: 30 in production, 0 elsewhere)",
    ),
  credentialsVersion: positiveInt
    .default(SECRET_DOCUMENT_DEFAULTS.version)
    .describe("bump to rotate the generated app password and Django key; the Stripe and SMTP values in the secret stay"),
  operatorValuesVersion: positiveInt
    .default(SECRET_DOCUMENT_DEFAULTS.version)
    .describe(
      "bump to write the exported `TF_VAR_stripe_*`/`TF_VAR_email_*` values, emailHost and emailPort into the secret; the password and Django key stay, an unset variable keeps the secret's value",
    ),
  ...postgresAccessShape,
  emailHost: z
    .string()
    .min(1)
    .optional()
    .describe("SMTP host written into the application secret (default: `email-smtp.<region>.amazonaws.com`, SES)"),
  emailPort: port.default(587).describe("SMTP port written into the application secret (1-65535)"),
});

/** A lowercase DNS name with at least two labels, such as `example.com` or `mail.example.org`. */
const domainName = z
  .string()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "must be a lowercase domain name such as example.com (labels of a-z, 0-9, '-')",
  );

const emailSchema = z.strictObject({
  domain: domainName.describe("domain the application sends from; SES verifies it with Easy DKIM (required to enable the section)"),
  mailFromSubdomain: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one DNS label such as mail (a-z, 0-9, '-')")
    .default(SES_DEFAULTS.mailFromSubdomain)
    .describe("custom MAIL FROM domain `<mailFromSubdomain>.<domain>`: its MX and SPF records align SPF with the sender"),
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
    .optional()
    .describe(
      "Route 53 zone the DKIM, MAIL FROM and DMARC records are created in (default: none, the records are outputs to create by hand)",
    ),
  hostedZoneName: domainName
    .optional()
    .describe("the same zone found by its name instead of its id (the domain or a parent of it); not with hostedZoneId"),
  dmarcPolicy: z
    .enum(["none", "quarantine", "reject"])
    .default(SES_DEFAULTS.dmarcPolicy)
    .describe("DMARC `p=`: `none` reports only; move to `quarantine`, then `reject`, once the reports show only your own mail"),
  dmarcReportEmail: email.optional().describe("address DMARC aggregate reports go to (`rua=mailto:`); unset: no reports"),
  bounceRateAlarmPercent: alarmPercent
    .default(SES_DEFAULTS.bounceRateAlarmPercent)
    .describe("alarm when the account's bounce rate exceeds this percent (AWS reviews the account at 5, pauses sending at 10)"),
  complaintRateAlarmPercent: alarmPercent
    .default(SES_DEFAULTS.complaintRateAlarmPercent)
    .describe("alarm when the account's complaint rate exceeds this percent (AWS reviews the account at 0.1, pauses sending at 0.5)"),
});

/** A tenant app's name in its URL, `/projects/<app>`: also the last part of its service and target group names. */
const appSlug = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, "must be 1-32 of a-z, 0-9 and '-', starting and ending with a letter or digit");

// StartupWebApp's web layer (README, Web layer): defaults the constructs own are told in the descriptions.
const webSchema = z.strictObject({
  domain: domainName.describe(
    "host every app is served from (`https://<domain>/projects/<app>`): the apps' ALLOWED_HOSTS and the certificates' name (required to enable the section)",
  ),
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, "must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ")
    .optional()
    .describe(
      "Route 53 zone the certificates' validation records are created in (default: none, the records are the output certificate_validation_records, to create by hand)",
    ),
  imageTag: z
    .string()
    .regex(/^(sha256:[0-9a-f]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/, "must be an image tag (1.4.2) or a digest (sha256:<64 hex>)")
    .describe(
      "the backend image to run, from the environment's ECR repository: a tag or digest; production needs a version tag (1.4.2, v1.4.2) or a digest, never latest (required)",
    ),
  keepImages: positiveInt.max(1000).optional().describe("images the ECR repository keeps; older ones expire (default: 20)"),
  apps: z
    .record(pgIdentifier, appSlug)
    .default({})
    .describe(
      "URL name of each tenant database's app, `/projects/<app>`, by database (default: the database name without a trailing `_<env>`, '_' as '-')",
    ),
  containerPort: port.default(8000).describe("port the backend container listens on (gunicorn's 8000)"),
  healthCheckPath: z
    .string()
    .regex(/^\/[A-Za-z0-9_.~\/-]*$/, "must be a path starting with /")
    .default("/health/")
    .describe("path the load balancer health-checks on each task; it must answer 200-399 with the task's IP as Host"),
  cpu: z.number().int().optional().describe("CPU units per task (1024 = 1 vCPU): 256, 512, 1024, ... (default: 256)"),
  memory: positiveInt.optional().describe("memory per task in MiB, one Fargate allows for cpu (default: 512)"),
  architecture: z.enum(["X86_64", "ARM64"]).optional().describe("CPU architecture the image is built for (default: X86_64)"),
  spot: z
    .boolean()
    .default(false)
    .describe("run on Fargate Spot: about 70% cheaper, tasks interrupted with 2 minutes' notice; X86_64 only"),
  desiredCount: z.number().int().min(0).optional().describe("tasks per tenant; with autoscaling, only the count at creation (default: 1)"),
  autoscaling: z
    .strictObject({
      minCount: positiveInt.describe("fewest tasks per tenant the autoscaler keeps"),
      maxCount: positiveInt.describe("most tasks per tenant the autoscaler starts"),
    })
    .optional()
    .describe("target tracking on CPU 70% and memory 80% per tenant service (default: none, desiredCount fixed)"),
  logRetentionDays: logRetention.optional().describe("days container logs (`/ecs/<project>-<env>-<app>`) are kept (default: 30)"),
  accessLogsRetentionDays: positiveInt.optional().describe("days the load balancer's access logs are kept (default: 90)"),
});

const bastionSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("create the SSM bastion used to reach RDS"),
  instanceType: z
    .string()
    .refine(LIMITS.ec2InstanceType.check, LIMITS.ec2InstanceType.rule)
    .default(SSM_BASTION_DEFAULTS.instanceType)
    .describe("bastion EC2 instance type (t4g = arm64, t3 = x86_64)"),
  running: z.boolean().default(SSM_BASTION_DEFAULTS.running).describe("false keeps the bastion but stopped (about $1/month instead of $7)"),
});

const monitoringSchema = z.strictObject({
  alarmEmails: z.array(email).default([]).describe("e-mail addresses subscribed to the alarm topic (each must confirm)"),
  cpuHighPercent: alarmPercent
    .default(RDS_ALARMS_DEFAULTS.cpuHighPercent)
    .describe("CPU alarm threshold, percent (more than 0, less than 100)"),
  connectionsHigh: positiveInt.default(RDS_ALARMS_DEFAULTS.connectionsHigh).describe("database connections alarm threshold"),
  freeStorageLowGb: z.number().positive().default(RDS_ALARMS_DEFAULTS.freeStorageLowGb).describe("free storage alarm threshold, GiB"),
  freeMemoryLowMb: z.number().positive().default(RDS_ALARMS_DEFAULTS.freeMemoryLowMb).describe("freeable memory alarm threshold, MiB"),
});

const ciSchema = z.strictObject({
  githubRepository: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be a GitHub repository as owner/name")
    .optional()
    .describe("GitHub repository whose workflows may plan (pull requests) and apply (main) through OIDC roles"),
  oidcProviderArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
      "must be the ARN of an IAM OIDC provider for token.actions.githubusercontent.com",
    )
    .optional()
    .describe(
      "existing GitHub OIDC provider to trust; an account holds one per URL, so set it for the second environment in the same account (default: the state stack creates it)",
    ),
});

const corsOrigin = z
  .string()
  .regex(
    /^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/,
    "must be an origin scheme://host[:port] such as https://app.example.com (one leading *. allowed), no path",
  );

const objectStorageSchema = z.strictObject({
  bucketSuffix: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/, "must be 1-40 of a-z, 0-9, '-', starting and ending with a letter or digit")
    .default(OBJECT_STORAGE_DEFAULTS.bucketSuffix)
    .describe("last part of the bucket name `<project>-<env>-<suffix>`; bucket names are global, change it on BucketAlreadyExists"),
  noncurrentVersionExpirationDays: positiveInt
    .default(OBJECT_STORAGE_DEFAULTS.noncurrentVersionExpirationDays)
    .describe("days an overwritten or deleted object version is kept before it expires"),
  corsAllowedOrigins: z
    .array(corsOrigin)
    .default([])
    .describe("browser origins allowed to call the bucket (presigned uploads); none means no CORS rule; no localhost in production"),
  corsAllowedMethods: z
    .array(z.enum(["GET", "PUT", "POST", "DELETE", "HEAD"]))
    .min(1)
    .default(() => [...OBJECT_STORAGE_DEFAULTS.corsAllowedMethods])
    .describe("HTTP methods the CORS rule allows"),
  corsMaxAgeSeconds: z
    .number()
    .int()
    .min(0)
    .max(86400)
    .default(OBJECT_STORAGE_DEFAULTS.corsMaxAgeSeconds)
    .describe("seconds a browser caches the CORS preflight answer (0-86400)"),
  eventNotifications: z.boolean().optional().describe("send ObjectCreated and ObjectRemoved events to the s3-events queue (default: true)"),
  requestMetrics: z
    .boolean()
    .default(OBJECT_STORAGE_DEFAULTS.requestMetrics)
    .describe("S3 request metrics and a 5xx alarm on them; CloudWatch bills them as custom metrics (about $5/month)"),
});

const queuesSchema = z.strictObject({
  messageRetentionDays: z
    .number()
    .refine(LIMITS.sqsMessageRetentionDays.check, LIMITS.sqsMessageRetentionDays.rule)
    .default(QUEUE_DEFAULTS.messageRetentionDays)
    .describe("days a message waits in a queue and in its dead-letter queue (1-14)"),
  visibilityTimeoutSeconds: z
    .number()
    .refine(LIMITS.sqsVisibilityTimeoutSeconds.check, LIMITS.sqsVisibilityTimeoutSeconds.rule)
    .default(QUEUE_DEFAULTS.visibilityTimeoutSeconds)
    .describe("seconds a received message stays hidden before another consumer may receive it (0-43200)"),
  receiveWaitTimeSeconds: z
    .number()
    .refine(LIMITS.sqsReceiveWaitTimeSeconds.check, LIMITS.sqsReceiveWaitTimeSeconds.rule)
    .default(QUEUE_DEFAULTS.receiveWaitTimeSeconds)
    .describe("long polling: seconds a receive waits for a message (0-20)"),
  maxReceiveCount: z
    .number()
    .refine(LIMITS.sqsMaxReceiveCount.check, LIMITS.sqsMaxReceiveCount.rule)
    .default(QUEUE_DEFAULTS.maxReceiveCount)
    .describe("receives before a message moves to the dead-letter queue (1-1000)"),
  oldestMessageAlarmSeconds: positiveInt
    .default(QUEUE_DEFAULTS.oldestMessageAgeSeconds)
    .describe("alarm when a queue's oldest message is older than this many seconds"),
});

const cacheSchema = z.strictObject({
  nodeType: z
    .string()
    .refine(LIMITS.cacheNodeType.check, LIMITS.cacheNodeType.rule)
    .default(REDIS_DEFAULTS.nodeType)
    .describe("ElastiCache node type (`cache.<family>.<size>`)"),
  engineVersion: z
    .enum(["7.0", "7.1"])
    .default(REDIS_DEFAULTS.engineVersion)
    .describe("Redis OSS 7 version (parameter group family redis7)"),
  numNodes: z
    .number()
    .refine(LIMITS.cacheNumNodes.check, LIMITS.cacheNumNodes.rule)
    .default(REDIS_DEFAULTS.numNodes)
    .describe("nodes: a primary plus replicas (1-6); 2 or more turns on Multi-AZ with automatic failover"),
  snapshotRetentionDays: z
    .number()
    .refine(LIMITS.cacheSnapshotRetentionDays.check, LIMITS.cacheSnapshotRetentionDays.rule)
    .default(REDIS_DEFAULTS.snapshotRetentionDays)
    .describe("days daily snapshots are kept (0-35; 0 takes none)"),
  snapshotWindow: dailyWindow.default(REDIS_DEFAULTS.snapshotWindow).describe("daily snapshot window, UTC, at least 60 minutes"),
  maintenanceWindow: weeklyWindow.default(REDIS_DEFAULTS.maintenanceWindow).describe("weekly maintenance window, UTC, at least 60 minutes"),
  slowLogRetentionDays: logRetention
    .default(REDIS_DEFAULTS.slowLogRetentionDays)
    .describe("days the Redis slow log is kept in CloudWatch (a CloudWatch retention period)"),
  cpuHighPercent: alarmPercent
    .default(REDIS_DEFAULTS.cpuHighPercent)
    .describe("alarm when a node's Redis engine CPU stays above this percentage (more than 0, less than 100)"),
  memoryHighPercent: alarmPercent
    .default(REDIS_DEFAULTS.memoryHighPercent)
    .describe("alarm when a node's used memory stays above this percentage of maxmemory (more than 0, less than 100)"),
});

// SafeBucket's containers on Fargate (README, Services).
const image = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._/-]*(:[\w.-]{1,128})?(@sha256:[0-9a-f]{64})?$/,
    "must be a container image reference such as grafana/loki:3.5.0",
  );

/** The settings every service has: image, size, architecture and capacity. */
function fargateServiceShape(what: string, defaults: { cpu: number; memory: number; image?: string }) {
  const imageDoc = `${what} container image with a pinned tag or digest; no tag or \`latest\` is an error in production`;
  return {
    image: defaults.image ? image.default(defaults.image).describe(imageDoc) : image.optional().describe(`${imageDoc} (required)`),
    cpu: z.number().int().default(defaults.cpu).describe("CPU units (1024 = 1 vCPU): 256, 512, 1024, 2048, 4096, 8192 or 16384"),
    memory: positiveInt
      .default(defaults.memory)
      .describe("memory in MiB that Fargate allows for cpu (256: 512-2048; 512: 1024-4096; 1024: 2048-8192; in 1024 steps)"),
    architecture: z
      .enum(["X86_64", "ARM64"])
      .default("X86_64")
      .describe("CPU architecture the image is built for (ARM64: Graviton, about 20% cheaper)"),
    spot: z
      .boolean()
      .default(false)
      .describe("run on Fargate Spot: about 70% cheaper, tasks interrupted with 2 minutes' notice; X86_64 only"),
  };
}

/** Loki and Mailpit keep their state in one task (Loki's ring in memory, Mailpit's mailbox): one task or none. */
const singleTask = z
  .number()
  .int()
  .min(0, "must be 0 or 1")
  .max(1, "must be 0 or 1: it keeps its state in one task")
  .default(1)
  .describe("tasks: 1, or 0 to stop it (it keeps its state in one task)");

const servicesSchema = z.strictObject({
  certificateArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
      "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
    )
    .optional()
    .describe(
      "ACM certificate (same region) for HTTPS on the load balancer; HTTP then only redirects (default: none, HTTP only, warned at synth)",
    ),
  subnets: z
    .enum(["private", "public"])
    .optional()
    .describe(
      "where tasks run: `private` (needs network.natGateway) or `public` with public IPs and no inbound except from the load balancer (default: private with a NAT gateway, else public)",
    ),
  containerInsights: z
    .enum(["enabled", "enhanced", "disabled"])
    .default("enabled")
    .describe("ECS Container Insights: per-task CPU, memory and network metrics (`enhanced`: per container, more metrics billed)"),
  logRetentionDays: logRetention
    .default(30)
    .describe("days container logs (`/ecs/<project>-<env>-<service>`) are kept (a CloudWatch retention period)"),
  accessLogsRetentionDays: positiveInt.default(90).describe("days the load balancer's access logs are kept in their bucket"),
  lokiRetentionDays: positiveInt.default(30).describe("days Loki keeps log lines in its bucket"),
  safebucket: z
    .strictObject({
      ...fargateServiceShape("SafeBucket", { cpu: 512, memory: 1024 }),
      desiredCount: z.number().int().min(0).default(1).describe("tasks to run; with autoscaling, only the count at creation"),
      autoscaling: z
        .strictObject({
          minCount: positiveInt.describe("fewest tasks the autoscaler keeps"),
          maxCount: positiveInt.describe("most tasks the autoscaler starts"),
        })
        .optional()
        .describe("target tracking on CPU 70% and memory 80% between minCount and maxCount (default: none, desiredCount fixed)"),
    })
    .prefault({}),
  loki: z
    .strictObject({ ...fargateServiceShape("Loki", { cpu: 512, memory: 1024, image: "grafana/loki:3.5.0" }), desiredCount: singleTask })
    .prefault({}),
  mailpit: z
    .strictObject({
      ...fargateServiceShape("Mailpit", { cpu: 256, memory: 512, image: "axllent/mailpit:v1.21.0" }),
      desiredCount: singleTask,
    })
    .prefault({}),
});

// SafeBucket's own database, secret and mail (README, SafeBucket).
const appDatabaseSchema = z.strictObject({
  name: pgIdentifier.default("safebucket").describe("the PostgreSQL database SafeBucket uses (not postgres/template0/template1/rdsadmin)"),
  username: pgIdentifier.default("safebucket").describe("the login role SafeBucket connects as; it owns the database"),
  ...postgresAccessShape,
});

const credentialsSchema = z.strictObject({
  secretName: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("Secrets Manager name of SafeBucket's secret (default: `<project>/<env>/app`)"),
  secretRecoveryWindowDays: recoveryWindow
    .optional()
    .describe("days a deleted secret can be restored, 0 deletes at once (default: 30 in production, 0 elsewhere)"),
  version: positiveInt
    .default(SECRET_DOCUMENT_DEFAULTS.version)
    .describe("bump to rotate the generated database password, JWT secret and admin password"),
});

const mailSchema = z.strictObject({
  smtpHost: z
    .string()
    .min(1)
    .optional()
    .describe("SMTP relay SafeBucket sends through (required in production; default elsewhere: the environment's Mailpit)"),
  smtpPort: port.default(587).describe("SMTP submission port of the relay (1-65535)"),
  sender: email.optional().describe("From address of SafeBucket's mail (default: `noreply@<project>.local`)"),
});

const always = { when: () => true };

/** The platform core's settings: every application has them. */
const coreShape = {
  project: slug.describe("short lowercase name used in every resource name (required)"),
  region: region.describe("AWS region (required)"),
  production: z
    .boolean()
    .optional()
    .describe("production rules apply (default: true when the environment is named `prod` or ends in `-prod`)"),
  protect: z
    .boolean()
    .optional()
    .describe("`prevent_destroy` on the database, state bucket and application secret (default: `production`)"),
  tags: z
    .record(z.string().regex(/^[\w .:/=+@-]{1,128}$/, "must be a tag key of 1-128 characters"), z.string().max(256))
    .default({})
    .describe("tags added to every resource"),
  state: stateSchema,
  network: networkSchema.prefault({}),
  database: databaseSchema.prefault({}),
  bastion: bastionSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
  ci: ciSchema.prefault({}),
};

/** The applications an environment can belong to; the first is the default. */
export const APPLICATIONS = ["startupwebapp", "safebucket"] as const;
export type Application = (typeof APPLICATIONS)[number];

const startupWebAppFields = z.strictObject({
  application: z.literal("startupwebapp"),
  ...coreShape,
  tenants: tenantsSchema.prefault({}),
  email: emailSchema.optional().describe("SES sending for the application: leave out to keep mail where tenants.emailHost points"),
  web: webSchema
    .optional()
    .describe(
      "the `<env>-web` layer: ECR, one Fargate service per tenant behind an HTTPS load balancer, static and media on S3 behind CloudFront",
    ),
});

const safeBucketFields = z.strictObject({
  application: z.literal("safebucket"),
  ...coreShape,
  appDatabase: appDatabaseSchema.prefault({}),
  credentials: credentialsSchema.prefault({}),
  mail: mailSchema.prefault({}),
  objectStorage: objectStorageSchema.prefault({}),
  queues: queuesSchema.prefault({}),
  cache: cacheSchema.prefault({}),
  services: servicesSchema.prefault({}),
});

const startupWebAppShape = startupWebAppFields
  .superRefine((env, ctx) => checkCore(env, ctx), always)
  .superRefine((env, ctx) => checkAccess(env, ctx, ["tenants"]), always)
  .superRefine((env, ctx) => checkTenants(env, ctx), always)
  .superRefine((env, ctx) => checkEmail(env, ctx), always)
  .superRefine((env, ctx) => checkWeb(env, ctx), always);

const safeBucketShape = safeBucketFields
  .superRefine((env, ctx) => checkCore(env, ctx), always)
  .superRefine((env, ctx) => checkAccess(env, ctx, ["appDatabase"]), always)
  .superRefine((env, ctx) => checkAppDatabase(env, ctx), always)
  .superRefine((env, ctx) => checkCache(env, ctx), always)
  .superRefine((env, ctx) => checkServices(env, ctx), always);

/** Each application's own schema, by name: what README's settings table walks. */
export const APPLICATION_SCHEMAS = { startupwebapp: startupWebAppShape, safebucket: safeBucketShape } as const;
export const CORE_KEYS = ["application", ...Object.keys(coreShape)] as const;

/**
 * One environment document. `application` picks the schema; a document without it is StartupWebApp's,
 * as every config was before SafeBucket had its own module. Cross-field rules run even when single
 * fields failed, so one run lists every problem; they read the partly parsed value defensively (a
 * field that failed still holds the raw input).
 */
export const environmentSchema = z.preprocess(
  (doc) =>
    typeof doc === "object" && doc !== null && !Array.isArray(doc) && !("application" in doc)
      ? { application: APPLICATIONS[0], ...doc }
      : doc,
  z.discriminatedUnion("application", [startupWebAppShape, safeBucketShape]),
);

type ParsedStartupWebApp = z.output<typeof startupWebAppFields>;
type ParsedSafeBucket = z.output<typeof safeBucketFields>;
export type ParsedEnvironment = ParsedStartupWebApp | ParsedSafeBucket;

// ---------------------------------------------------------------- rules across fields

type Ctx = z.RefinementCtx;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

function checkCore(env: ParsedEnvironment, ctx: Ctx): void {
  checkNetwork(env, ctx);
  checkDatabase(env, ctx);
}

/** The SQL layer (`section` names its settings) reaches PostgreSQL through the bastion unless it runs inside the VPC. */
function checkAccess(env: ParsedEnvironment, ctx: Ctx, section: [string]): void {
  const access = (env as unknown as Record<string, { connection?: unknown } | undefined>)[section[0]];
  if (access?.connection === "tunnel" && env.bastion?.enabled === false) {
    ctx.addIssue({
      code: "custom",
      path: [...section, "connection"],
      message:
        '"tunnel" needs the bastion (bastion.enabled: true); use "direct" only from a runner inside the VPC (got bastion.enabled: false)',
    });
  }
}

function checkNetwork(env: ParsedEnvironment, ctx: Ctx): void {
  const net = env.network;
  if (typeof net !== "object" || net === null || typeof env.region !== "string") return;
  const azs = net.availabilityZones ?? defaultAzs(env.region);
  if (!isStrings(azs) || !isStrings(net.publicSubnetCidrs) || !isStrings(net.privateSubnetCidrs)) return;
  if (azs.length < 2) {
    ctx.addIssue({
      code: "custom",
      path: ["network", "availabilityZones"],
      message: `needs at least 2 AZs: RDS subnet groups must cover two (got ${azs.length})`,
    });
  }
  azs.forEach((az, i) => {
    if (!new RegExp(`^${env.region}[a-z]$`).test(az)) {
      ctx.addIssue({
        code: "custom",
        path: ["network", "availabilityZones", i],
        message: `must be an AZ of ${env.region} such as ${env.region}a (got "${az}")`,
      });
    }
  });
  if (new Set(azs).size !== azs.length) {
    ctx.addIssue({ code: "custom", path: ["network", "availabilityZones"], message: "must not list an AZ twice" });
  }
  for (const key of ["publicSubnetCidrs", "privateSubnetCidrs"] as const) {
    if (net[key].length !== azs.length) {
      ctx.addIssue({
        code: "custom",
        path: ["network", key],
        message: `needs one subnet per AZ: ${azs.length} AZs, ${net[key].length} subnets`,
      });
    }
  }
  const vpc = typeof net.vpcCidr === "string" ? parseCidr(net.vpcCidr) : undefined;
  if (!vpc) return;
  if (vpc.prefix < 16 || vpc.prefix > 28) {
    ctx.addIssue({
      code: "custom",
      path: ["network", "vpcCidr"],
      message: `must have a prefix between /16 and /28, as AWS requires (got /${vpc.prefix})`,
    });
  }
  const seen: { label: string; text: string; block: NonNullable<ReturnType<typeof parseCidr>> }[] = [];
  for (const key of ["publicSubnetCidrs", "privateSubnetCidrs"] as const) {
    net[key].forEach((text, i) => {
      const block = parseCidr(text);
      if (!block) return;
      const path = ["network", key, i];
      if (!contains(vpc, block)) {
        ctx.addIssue({ code: "custom", path, message: `must lie inside vpcCidr ${net.vpcCidr} (got ${text})` });
      }
      const clash = seen.find((s) => overlaps(s.block, block));
      if (clash) {
        ctx.addIssue({ code: "custom", path, message: `overlaps ${clash.label} (${clash.text})` });
      }
      seen.push({ label: `network.${key}[${i}]`, text, block });
    });
  }
  if (net.natGatewayPerAz && !net.natGateway) {
    ctx.addIssue({ code: "custom", path: ["network", "natGatewayPerAz"], message: "needs network.natGateway: true" });
  }
}

function checkDatabase(env: ParsedEnvironment, ctx: Ctx): void {
  const db = env.database;
  if (typeof db !== "object" || db === null) return;
  if (
    typeof db.maxAllocatedStorageGb === "number" &&
    typeof db.allocatedStorageGb === "number" &&
    db.maxAllocatedStorageGb < db.allocatedStorageGb
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["database", "maxAllocatedStorageGb"],
      message: `must be at least allocatedStorageGb (${db.allocatedStorageGb}) (got ${db.maxAllocatedStorageGb})`,
    });
  }
  checkWindows(ctx, {
    daily: { path: ["database", "backupWindow"], value: db.backupWindow, label: "backupWindow" },
    weekly: { path: ["database", "maintenanceWindow"], value: db.maintenanceWindow },
    minMinutes: 30,
    service: "RDS",
  });
}

function checkTenants(env: ParsedStartupWebApp, ctx: Ctx): void {
  const t = env.tenants;
  if (typeof t !== "object" || t === null || !isStrings(t.databases)) return;
  const seen = new Set<string>();
  t.databases.forEach((name, i) => {
    if ((RESERVED_DATABASES as readonly string[]).includes(name)) {
      ctx.addIssue({ code: "custom", path: ["tenants", "databases", i], message: `"${name}" is reserved by PostgreSQL or RDS` });
    }
    if (seen.has(name)) ctx.addIssue({ code: "custom", path: ["tenants", "databases", i], message: `"${name}" is listed twice` });
    seen.add(name);
  });
  checkRole(ctx, ["tenants", "appUser"], t.appUser);
}

function checkEmail(env: ParsedStartupWebApp, ctx: Ctx): void {
  const e = env.email;
  if (typeof e !== "object" || e === null) return;
  if (e.hostedZoneId !== undefined && e.hostedZoneName !== undefined) {
    ctx.addIssue({ code: "custom", path: ["email", "hostedZoneName"], message: "give hostedZoneId or hostedZoneName, not both" });
  }
  if (typeof e.hostedZoneName === "string" && typeof e.domain === "string") {
    if (e.domain !== e.hostedZoneName && !e.domain.endsWith(`.${e.hostedZoneName}`)) {
      ctx.addIssue({
        code: "custom",
        path: ["email", "hostedZoneName"],
        message: `must be email.domain (${e.domain}) or a parent of it, or the records fall outside the zone (got ${e.hostedZoneName})`,
      });
    }
  }
}

function checkAppDatabase(env: ParsedSafeBucket, ctx: Ctx): void {
  const db = env.appDatabase;
  if (typeof db !== "object" || db === null) return;
  if (typeof db.name === "string" && (RESERVED_DATABASES as readonly string[]).includes(db.name)) {
    ctx.addIssue({ code: "custom", path: ["appDatabase", "name"], message: `"${db.name}" is reserved by PostgreSQL or RDS` });
  }
  checkRole(ctx, ["appDatabase", "username"], db.username);
}

function checkRole(ctx: Ctx, path: string[], role: unknown): void {
  if (typeof role !== "string") return;
  if ((RESERVED_ROLES as readonly string[]).includes(role) || role.startsWith("pg_") || role.startsWith("rds")) {
    ctx.addIssue({ code: "custom", path, message: `"${role}" is a role PostgreSQL or RDS reserves` });
  }
}

function checkCache(env: ParsedSafeBucket, ctx: Ctx): void {
  const cache = env.cache;
  if (typeof cache !== "object" || cache === null) return;
  // ElastiCache rejects windows shorter than an hour, and a snapshot window inside the maintenance window.
  checkWindows(ctx, {
    daily: { path: ["cache", "snapshotWindow"], value: cache.snapshotWindow, label: "cache.snapshotWindow" },
    weekly: { path: ["cache", "maintenanceWindow"], value: cache.maintenanceWindow },
    minMinutes: 60,
    service: "ElastiCache",
  });
}

/** The three services of the services stack, as keys of `services`. */
export const SERVICE_NAMES = ["safebucket", "loki", "mailpit"] as const;

function checkServices(env: ParsedSafeBucket, ctx: Ctx): void {
  const services = env.services;
  if (typeof services !== "object" || services === null) return;
  if (services.subnets === "private" && env.network?.natGateway !== true) {
    ctx.addIssue({
      code: "custom",
      path: ["services", "subnets"],
      message: 'needs network.natGateway: true: tasks in private subnets pull images and reach AWS APIs through NAT (or use "public")',
    });
  }
  for (const name of SERVICE_NAMES) {
    const service = services[name];
    if (typeof service !== "object" || service === null) continue;
    const path = (key: string) => ["services", name, key];
    if (service.image === undefined) {
      ctx.addIssue({
        code: "custom",
        path: path("image"),
        message: "is required (a pinned image such as ghcr.io/org/app:1.2.3)",
      });
    }
    if (typeof service.cpu === "number" && typeof service.memory === "number") {
      const problem = fargateSizeProblem(service.cpu, service.memory);
      if (problem) ctx.addIssue({ code: "custom", path: path(problem.split(" ")[0]), message: problem.replace(/^\w+ /, "") });
    }
    if (service.spot === true && service.architecture === "ARM64") {
      ctx.addIssue({ code: "custom", path: path("spot"), message: SPOT_NEEDS_X86 });
    }
    const scaling = name === "safebucket" ? services.safebucket.autoscaling : undefined;
    if (scaling && typeof scaling.minCount === "number" && typeof scaling.maxCount === "number") {
      if (scaling.maxCount < scaling.minCount) {
        ctx.addIssue({
          code: "custom",
          path: [...path("autoscaling"), "maxCount"],
          message: `must be at least minCount ${scaling.minCount} (got ${scaling.maxCount})`,
        });
      } else if (
        typeof service.desiredCount === "number" &&
        (service.desiredCount < scaling.minCount || service.desiredCount > scaling.maxCount)
      ) {
        ctx.addIssue({
          code: "custom",
          path: path("desiredCount"),
          message: `must lie between autoscaling.minCount and maxCount (${scaling.minCount}-${scaling.maxCount}) (got ${service.desiredCount})`,
        });
      }
    }
  }
}

/** The web section against the tenants it serves, and its sizes against Fargate's. */
function checkWeb(env: ParsedStartupWebApp, ctx: Ctx): void {
  const web = env.web;
  if (typeof web !== "object" || web === null) return;
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path: ["web", ...path], message });
  const databases = isStrings(env.tenants?.databases) ? env.tenants.databases : [];
  const apps = typeof web.apps === "object" && web.apps !== null ? web.apps : {};
  for (const database of Object.keys(apps)) {
    if (!databases.includes(database))
      issue(["apps", database], `must name a tenant database (tenants.databases: ${databases.join(", ")})`);
  }
  if (typeof web.cpu === "number" || typeof web.memory === "number") {
    const problem = fargateSizeProblem(web.cpu ?? 256, web.memory ?? 512);
    if (problem) issue([problem.split(" ")[0]], problem.replace(/^\w+ /, ""));
  }
  if (web.spot === true && web.architecture === "ARM64") issue(["spot"], SPOT_NEEDS_X86);
  const scaling = web.autoscaling;
  if (scaling && typeof scaling.minCount === "number" && typeof scaling.maxCount === "number") {
    const desired = web.desiredCount ?? 1;
    if (scaling.maxCount < scaling.minCount) {
      issue(["autoscaling", "maxCount"], `must be at least minCount ${scaling.minCount} (got ${scaling.maxCount})`);
    } else if (typeof desired === "number" && (desired < scaling.minCount || desired > scaling.maxCount)) {
      issue(
        ["desiredCount"],
        `must lie between autoscaling.minCount and maxCount (${scaling.minCount}-${scaling.maxCount}) (got ${desired}${web.desiredCount === undefined ? ", the default" : ""})`,
      );
    }
  }
}

/**
 * The URL name of a tenant database's app: `web.apps[database]`, else the database name without a
 * trailing `_<environment>` and with '_' as '-' (`startupwebapp_dev` in dev: `startupwebapp`).
 */
export function webAppName(database: string, apps: Readonly<Record<string, string>>, environment: string): string {
  if (apps[database] !== undefined) return apps[database];
  const suffix = `_${environment}`.replace(/-/g, "_");
  return (database.endsWith(suffix) && database !== suffix ? database.slice(0, -suffix.length) : database).replace(/_/g, "-");
}

/** A daily and a weekly window of one service: each long enough, and never overlapping. */
function checkWindows(
  ctx: Ctx,
  w: {
    daily: { path: string[]; value: unknown; label: string };
    weekly: { path: string[]; value: unknown };
    minMinutes: number;
    service: string;
  },
): void {
  const daily = windowMinutes(w.daily.value);
  const weekly = windowMinutes(w.weekly.value, true);
  for (const [window, path] of [
    [daily, w.daily.path],
    [weekly, w.weekly.path],
  ] as const) {
    if (window && window.length < w.minMinutes) {
      ctx.addIssue({ code: "custom", path, message: `must last at least ${w.minMinutes} minutes (got ${window.length})` });
    }
  }
  if (daily && weekly && dailyOverlapsWeekly(daily, weekly)) {
    ctx.addIssue({
      code: "custom",
      path: w.weekly.path,
      message: `must not overlap ${w.daily.label} ${String(w.daily.value)}, as ${w.service} requires`,
    });
  }
}

// ---------------------------------------------------------------- window arithmetic

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK = 7 * 1440;

interface Window {
  /** Minutes from the start of the day (daily) or of Monday (weekly). */
  readonly start: number;
  readonly length: number;
  readonly weekly: boolean;
}

function windowMinutes(text: unknown, weekly = false): Window | undefined {
  const shape = weekly ? /^[a-z]{3}:\d\d:\d\d-[a-z]{3}:\d\d:\d\d$/ : /^\d\d:\d\d-\d\d:\d\d$/;
  if (typeof text !== "string" || !shape.test(text)) return undefined;
  const parts = text.split("-");
  const toMinutes = (p: string): number => {
    const fields = p.split(":");
    const [d, h, m] = weekly ? [DAYS.indexOf(fields[0]), Number(fields[1]), Number(fields[2])] : [0, Number(fields[0]), Number(fields[1])];
    return d * 1440 + h * 60 + m;
  };
  const start = toMinutes(parts[0]);
  const period = weekly ? WEEK : 1440;
  const length = (toMinutes(parts[1]) - start + period) % period;
  return { start, length, weekly };
}

function dailyOverlapsWeekly(daily: Window, weekly: Window): boolean {
  for (let day = -1; day <= 7; day++) {
    const s = day * 1440 + daily.start;
    for (const shift of [-WEEK, 0, WEEK]) {
      const ws = weekly.start + shift;
      if (s < ws + weekly.length && ws < s + daily.length) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- resolved config

export function defaultAzs(regionName: string): string[] {
  return [`${regionName}a`, `${regionName}b`];
}

/** True for environments named `prod`, `production` or `<anything>-prod`. */
export function isProductionName(envName: string): boolean {
  return /^(prod|production)$|-prod(uction)?$/.test(envName);
}

/**
 * `<project>/<env>/app`: the application secret's name unless the config gives one. It carries the
 * environment because Secrets Manager names are unique per account and region: a name shared by dev
 * and prod makes the second environment fail with ResourceExistsException.
 */
export function defaultSecretName(project: string, environment: string): string {
  return `${project}/${environment}/app`;
}

/**
 * Days a deleted application secret stays restorable, for every application's secrets: 30 in
 * production; 0 elsewhere, since a secret in its recovery window keeps its name and a non-production
 * environment destroyed and deployed again would fail to create it ("scheduled for deletion").
 */
export function defaultRecoveryWindowDays(production: boolean): number {
  return production ? 30 : 0;
}

/** What the platform core reads, with the defaults that depend on the environment filled. */
interface ResolvedCore {
  /** Environment name: the config file's base name. */
  readonly environment: string;
  readonly production: boolean;
  readonly protect: boolean;
  readonly network: Readonly<ParsedEnvironment["network"] & { availabilityZones: string[]; flowLogs: boolean }>;
  readonly database: Readonly<ParsedEnvironment["database"] & { identifier: string }>;
  /**
   * The application's SQL layer, the one stack that connects to PostgreSQL as its master user (through
   * the bastion's tunnel or directly), and what operators reach with it: the core's view of the
   * application's own section (`tenants` or `appDatabase`).
   */
  readonly postgresAccess: Readonly<{
    layer: "tenants" | "database";
    /** The config section that sets it, for messages. */
    section: "tenants" | "appDatabase";
    connection: "tunnel" | "direct";
    tunnelPort: number;
    connectTimeoutSeconds: number;
    /** The databases the layer creates, and the secret the application reads them with. */
    databases: readonly string[];
    appSecretName: string;
    /** The config setting that rotates the generated credentials. */
    credentialsVersionKey: string;
  }>;
}

type Core<T> = Readonly<Omit<T, "production" | "protect" | "network" | "database"> & ResolvedCore>;

/** A validated StartupWebApp environment with every default filled. */
export type StartupWebAppConfig = Core<ParsedStartupWebApp> & {
  readonly tenants: Readonly<ParsedStartupWebApp["tenants"] & { secretName: string; secretRecoveryWindowDays: number; emailHost: string }>;
};

/** A validated SafeBucket environment with every default filled. */
export type SafeBucketConfig = Core<Omit<ParsedSafeBucket, "credentials" | "mail" | "objectStorage" | "services">> & {
  readonly credentials: Readonly<ParsedSafeBucket["credentials"] & { secretName: string; secretRecoveryWindowDays: number }>;
  /** `smtpHost` undefined: mail goes to the environment's Mailpit (never in production). */
  readonly mail: Readonly<ParsedSafeBucket["mail"] & { sender: string }>;
  readonly objectStorage: Readonly<ParsedSafeBucket["objectStorage"] & { eventNotifications: boolean }>;
  readonly services: Readonly<ParsedSafeBucket["services"] & { subnets: "private" | "public" }>;
};

/** A validated environment with every default filled: what stacks and constructs read. */
export type EnvironmentConfig = StartupWebAppConfig | SafeBucketConfig;

/** Fills the defaults that depend on the environment's name, region or project. */
export function resolveConfig(environment: string, parsed: ParsedEnvironment): EnvironmentConfig {
  const production = parsed.production ?? isProductionName(environment);
  const core = {
    environment,
    production,
    protect: parsed.protect ?? production,
    network: {
      ...parsed.network,
      availabilityZones: parsed.network.availabilityZones ?? defaultAzs(parsed.region),
      flowLogs: parsed.network.flowLogs ?? production,
    },
  };
  if (parsed.application === "safebucket") {
    const secretName = parsed.credentials.secretName ?? defaultSecretName(parsed.project, environment);
    const { name, username, ...access } = parsed.appDatabase;
    void username;
    return {
      ...parsed,
      ...core,
      database: { ...parsed.database, identifier: parsed.database.identifier ?? `${parsed.project}-${environment}` },
      postgresAccess: {
        layer: "database",
        section: "appDatabase",
        ...access,
        databases: [name],
        appSecretName: secretName,
        credentialsVersionKey: "credentials.version",
      },
      credentials: {
        ...parsed.credentials,
        secretName,
        secretRecoveryWindowDays: parsed.credentials.secretRecoveryWindowDays ?? defaultRecoveryWindowDays(production),
      },
      mail: { ...parsed.mail, sender: parsed.mail.sender ?? `noreply@${parsed.project}.local` },
      objectStorage: { ...parsed.objectStorage, eventNotifications: parsed.objectStorage.eventNotifications ?? true },
      services: { ...parsed.services, subnets: parsed.services.subnets ?? (parsed.network.natGateway ? "private" : "public") },
    };
  }
  const secretName = parsed.tenants.secretName ?? defaultSecretName(parsed.project, environment);
  const { connection, tunnelPort, connectTimeoutSeconds } = parsed.tenants;
  return {
    ...parsed,
    ...core,
    database: { ...parsed.database, identifier: parsed.database.identifier ?? `${parsed.project}-multi-tenant-${environment}` },
    postgresAccess: {
      layer: "tenants",
      section: "tenants",
      connection,
      tunnelPort,
      connectTimeoutSeconds,
      databases: parsed.tenants.databases,
      appSecretName: secretName,
      credentialsVersionKey: "tenants.credentialsVersion",
    },
    tenants: {
      ...parsed.tenants,
      secretName,
      secretRecoveryWindowDays: parsed.tenants.secretRecoveryWindowDays ?? defaultRecoveryWindowDays(production),
      emailHost: parsed.tenants.emailHost ?? `email-smtp.${parsed.region}.amazonaws.com`,
    },
  };
}

/** `network.publicSubnetCidrs[1]` from `["network", "publicSubnetCidrs", 1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("") || "(top level)";
}

/** Origins that only a developer's own machine serves. */
const LOCAL_ORIGIN = /^https?:\/\/(localhost|[^/]*\.localhost|127(\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0)(:\d+)?$/i;

/**
 * Rules that depend on the environment's name (production, names built from it), which the schema
 * cannot see; `parseEnvironment` reports them like schema problems, as `path: message`.
 */
type Problem = { path: (string | number)[]; message: string };

export function resolvedProblems(config: EnvironmentConfig): Problem[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  if (config.application !== "safebucket") return webProblems(config);
  const { objectStorage } = config;
  const naming = new Naming(config.project, config.environment);
  if (config.production) {
    objectStorage.corsAllowedOrigins.forEach((origin, i) => {
      if (LOCAL_ORIGIN.test(origin)) {
        problems.push({
          path: ["objectStorage", "corsAllowedOrigins", i],
          message: `must not be a local origin in production environment ${config.environment}: any page served on that machine could use the bucket (got "${origin}")`,
        });
      }
    });
    if (config.mail.smtpHost === undefined) {
      problems.push({
        path: ["mail", "smtpHost"],
        message: `is required in production environment ${config.environment}: production mail goes through a real relay, Mailpit only catches it outside production`,
      });
    }
  }
  const bucket = naming.name(objectStorage.bucketSuffix);
  if (bucket.length > 63) {
    problems.push({
      path: ["objectStorage", "bucketSuffix"],
      message: `makes the bucket name ${bucket} longer than S3's 63 characters; shorten it (got ${bucket.length})`,
    });
  }
  const prefix = naming.prefix;
  if (prefix.length > 28) {
    problems.push({
      path: ["project"],
      message: `the load balancer is named ${prefix}, and with its target group's "-tg" AWS allows 32 characters; shorten project or the environment name (got ${prefix.length})`,
    });
  }
  if (config.production) {
    for (const name of SERVICE_NAMES) {
      const pin = config.services[name].image === undefined ? undefined : imagePinProblem(config.services[name].image!);
      if (pin) problems.push({ path: ["services", name, "image"], message: `${pin}, which production never runs` });
    }
  }
  const group = naming.name("redis");
  // ElastiCache ids are at most 40 characters; the users' ids add "-app" and "-default".
  if (group.length > 32) {
    problems.push({
      path: ["project"],
      message: `the replication group id ${group} must be at most 32 characters so its user ids fit ElastiCache's 40; shorten project or the environment name (got ${group.length})`,
    });
  }
  return problems;
}

/** The web layer's rules that depend on the environment's name: production images, names within AWS limits. */
function webProblems(config: StartupWebAppConfig): Problem[] {
  const web = config.web;
  if (web === undefined) return [];
  const problems: Problem[] = [];
  if (config.production) {
    const problem = imageReferenceProblem(web.imageTag);
    if (problem) problems.push({ path: ["web", "imageTag"], message: `${problem}: production environment ${config.environment}` });
  }
  const naming = new Naming(config.project, config.environment);
  const seen = new Map<string, string>();
  for (const database of config.tenants.databases) {
    const app = webAppName(database, web.apps, config.environment);
    if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(app)) {
      problems.push({
        path: ["web", "apps", database],
        message: `is needed: the database name does not make a URL name of a-z, 0-9 and '-' (got "${app}")`,
      });
    }
    const other = seen.get(app);
    if (other !== undefined) {
      problems.push({ path: ["web", "apps", database], message: `must differ from ${other}'s: both would be served at /projects/${app}` });
    }
    seen.set(app, database);
    // The app's target group is `<prefix>-<app>`, and AWS allows target group names of 32 characters.
    const name = naming.name(app);
    if (name.length > 32) {
      problems.push({
        path: ["web", "apps", database],
        message: `makes the target group name ${name} longer than AWS's 32 characters; set a shorter app name (got ${name.length})`,
      });
    }
  }
  if (naming.name("web").length > 28) {
    problems.push({
      path: ["project"],
      message: `the load balancer is named ${naming.name("web")}, which must fit 28 characters; shorten project or the environment name`,
    });
  }
  return problems;
}

// ---------------------------------------------------------------- rules across environments

/** A physical name an environment takes, unique within `scope` (a region, or the whole account). */
interface Claim {
  readonly what: string;
  readonly name: string;
  /** The region the name is unique in, or "account" for IAM and S3 bucket names. */
  readonly scope: string;
  readonly path: (string | number)[];
}

/**
 * The names that two environments deployed to one account would both try to create. Everything
 * else an environment names starts with its `<project>-<env>` prefix, so that prefix stands for them
 * all (roles, log groups, topics, alarms, dashboards, load balancers, parameter and subnet groups).
 */
function claimedNames(config: EnvironmentConfig): Claim[] {
  const claims: Claim[] = [
    { what: "state bucket", name: config.state.bucket, scope: "account", path: ["state", "bucket"] },
    { what: "name prefix", name: new Naming(config.project, config.environment).prefix, scope: "account", path: ["project"] },
    { what: "RDS instance identifier", name: config.database.identifier, scope: config.region, path: ["database", "identifier"] },
  ];
  if (config.application === "safebucket") {
    claims.push({ what: "secret name", name: config.credentials.secretName, scope: config.region, path: ["credentials", "secretName"] });
  } else {
    const { secretName, isolation, databases } = config.tenants;
    claims.push({ what: "secret name", name: secretName, scope: config.region, path: ["tenants", "secretName"] });
    if (isolation === "per-database") {
      databases.forEach((db, i) =>
        claims.push({ what: "secret name", name: `${secretName}/${db}`, scope: config.region, path: ["tenants", "databases", i] }),
      );
    }
  }
  if (config.ci.githubRepository !== undefined && config.ci.oidcProviderArn === undefined) {
    claims.push({
      what: "GitHub OIDC provider",
      name: "token.actions.githubusercontent.com",
      scope: "account",
      path: ["ci", "oidcProviderArn"],
    });
  }
  return claims;
}

/**
 * Environments that would collide in one account: the same state bucket, secret name, RDS identifier
 * or name prefix, or two state stacks that both create the GitHub OIDC provider (an account holds one
 * per issuer URL). Each environment of a colliding pair gets its own problem, so they are rejected
 * together rather than the second failing halfway through its deploy.
 */
export function collisionProblems(environments: readonly { label: string; config: EnvironmentConfig }[]): (Problem & { label: string })[] {
  const owners = new Map<string, { label: string; claim: Claim }[]>();
  for (const { label, config } of environments) {
    for (const claim of claimedNames(config)) {
      const key = `${claim.scope}\u0000${claim.what}\u0000${claim.name}`;
      owners.set(key, [...(owners.get(key) ?? []), { label, claim }]);
    }
  }
  const problems: (Problem & { label: string })[] = [];
  for (const claimants of owners.values()) {
    for (const { label, claim } of claimants) {
      const others = claimants.filter((c) => c.label !== label).map((c) => `${c.label} (${formatPath(c.claim.path)})`);
      if (others.length === 0) continue;
      const where = claim.scope === "account" ? "one account" : `one account and region (${claim.scope})`;
      const message =
        claim.what === "GitHub OIDC provider"
          ? `is unset here and in ${others.join(", ")}: each would create the GitHub OIDC provider, and an account holds one per URL; set it in all but one environment to the ARN the first one's state stack outputs (github_oidc_provider_arn)`
          : `${claim.what} "${claim.name}" is also used by ${others.join(", ")}; environments in ${where} must not share it`;
      problems.push({ label, path: claim.path, message });
    }
  }
  return problems;
}
