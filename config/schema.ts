/**
 * The one source of truth for every environment setting: its type, default, limits and doc line.
 *
 * Defaults reproduce StartupWebApp's production settings. A few defaults depend on the environment
 * (its name, region or project); those fields are optional here and filled by `resolveConfig`, so the
 * rule for each stays next to its siblings below.
 *
 * README's settings table is generated from this file (`npm run docs:config`).
 */
import { z } from "zod";
import { contains, overlaps, parseCidr } from "./cidr";

// ---------------------------------------------------------------- field types

const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/, "must be a lowercase DNS-safe slug: 3-32 of a-z, 0-9, '-', starting with a letter");

const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/, "must be an AWS region such as us-east-1");

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, "must be an IPv4 CIDR such as 10.0.0.0/16, with no host bits set");

const bucketName = z
  .string()
  .regex(
    /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "must be a valid S3 bucket name: 3-63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit",
  );

const port = z.number().int().min(1, "must be a port 1-65535").max(65535, "must be a port 1-65535");
const percent = z.number().min(0, "must be a percentage 0-100").max(100, "must be a percentage 0-100");
const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an e-mail address");
const positiveInt = z.number().int().positive();

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;
const logRetention = z
  .number()
  .refine(
    (d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
    `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  );

/** Identifiers PostgreSQL or RDS keep for themselves. */
export const RESERVED_DATABASES = ["postgres", "template0", "template1", "rdsadmin"] as const;
export const RESERVED_ROLES = [
  "postgres",
  "rdsadmin",
  "rds_superuser",
  "rdsrepladmin",
  "rds_replication",
  "rds_password",
  "public",
  "pg_monitor",
] as const;

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
  noncurrentVersionExpirationDays: positiveInt.default(90).describe("days an overwritten state version is kept before it expires"),
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
  natGateway: z.boolean().default(false).describe("give private subnets internet egress through a NAT gateway (about $32/month each)"),
  natGatewayPerAz: z.boolean().default(false).describe("one NAT gateway and route table per AZ instead of one shared (needs natGateway)"),
  flowLogs: z.boolean().optional().describe("send VPC flow logs to CloudWatch (default: on in production, off elsewhere)"),
  flowLogsRetentionDays: logRetention.default(30).describe("days flow logs are kept (a CloudWatch retention period: 1, 3, 5, 7, 14, 30, 60, 90, ...)"),
});

const databaseSchema = z.strictObject({
  identifier: z
    .string()
    .regex(
      /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/,
      "must be an RDS identifier: 1-63 of a-z, 0-9, '-', starting with a letter, no '--', not ending with '-'",
    )
    .optional()
    .describe("RDS instance identifier (default: `<project>-multi-tenant-<env>`)"),
  engineVersion: z
    .string()
    .regex(/^(13|14|15|16|17)$/, 'must be a PostgreSQL major version 13-17, as a string such as "16"')
    .default("16")
    .describe("PostgreSQL major version; minor versions follow AWS through auto minor version upgrade"),
  instanceClass: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, "must be an RDS instance class such as db.t4g.small")
    .default("db.t4g.small")
    .describe("RDS instance class (`db.<family>.<size>`)"),
  allocatedStorageGb: z
    .number()
    .int()
    .min(20, "must be at least 20 (gp3 minimum)")
    .max(65536)
    .default(20)
    .describe("initial gp3 storage in GiB (20-65536)"),
  maxAllocatedStorageGb: z.number().int().max(65536).default(100).describe("storage autoscaling ceiling in GiB (>= allocatedStorageGb)"),
  backupRetentionDays: z
    .number()
    .int()
    .min(0, "must be between 0 and 35")
    .max(35, "must be between 0 and 35")
    .default(7)
    .describe("days automated backups are kept (0-35)"),
  backupWindow: dailyWindow.default("03:00-04:00").describe("daily backup window, UTC"),
  maintenanceWindow: weeklyWindow.default("sun:04:00-sun:05:00").describe("weekly maintenance window, UTC"),
  multiAz: z.boolean().default(false).describe("standby replica in a second AZ (doubles the instance cost)"),
  deletionProtection: z.boolean().default(true).describe("RDS refuses to delete the instance until this is turned off"),
  skipFinalSnapshot: z.boolean().default(false).describe("destroy without a final snapshot (never in production)"),
  performanceInsightsRetentionDays: z
    .number()
    .int()
    .refine((d) => d === 7 || (d % 31 === 0 && d >= 31 && d <= 731), "must be 7 or a multiple of 31 up to 731")
    .default(7)
    .describe("Performance Insights retention: 7 (free) or a multiple of 31 up to 731"),
  monitoringIntervalSeconds: z
    .number()
    .refine((s) => [0, 1, 5, 10, 15, 30, 60].includes(s), "must be one of 0, 1, 5, 10, 15, 30, 60")
    .default(60)
    .describe("enhanced monitoring interval in seconds; 0 turns it off"),
  logRetentionDays: logRetention.default(30).describe("days the exported PostgreSQL and upgrade logs are kept (a CloudWatch retention period)"),
  logMinDurationStatementMs: z.number().int().min(-1).default(1000).describe("log statements slower than this many ms; -1 turns it off"),
});

const tenantsSchema = z.strictObject({
  appUser: pgIdentifier.default("django_app").describe("PostgreSQL login role the application uses (shared isolation)"),
  databases: z
    .array(pgIdentifier)
    .default(["startupwebapp_prod", "healthtech_experiment", "fintech_experiment"])
    .describe("tenant databases, each owned by the app user: lowercase identifiers of at most 63 characters, unique, not postgres/template0/template1/rdsadmin"),
  isolation: z
    .enum(["shared", "per-database"])
    .default("shared")
    .describe("`shared`: one app role owns every database; `per-database`: one role and secret per database"),
  secretName: z
    .string()
    .min(1)
    .max(512)
    .optional()
    .describe("Secrets Manager name of the application secret (default: `rds/<project>/multi-tenant/master`)"),
  secretRecoveryWindowDays: z
    .number()
    .int()
    .min(7, "must be 0 or 7-30")
    .max(30, "must be 0 or 7-30")
    .or(z.literal(0))
    .default(30)
    .describe("days a deleted application secret can be restored (0 deletes at once)"),
  credentialsVersion: positiveInt.default(1).describe("bump to rotate the generated app password and Django key"),
  connection: z
    .enum(["tunnel", "direct"])
    .default("tunnel")
    .describe("`tunnel`: reach RDS at 127.0.0.1:tunnelPort through SSM; `direct`: at its address (a runner inside the VPC)"),
  tunnelPort: port.default(15432).describe("local port of the SSM port-forwarding tunnel (1-65535)"),
  connectTimeoutSeconds: positiveInt.default(15).describe("PostgreSQL provider connect timeout"),
  emailHost: z
    .string()
    .min(1)
    .optional()
    .describe("SMTP host written into the application secret (default: `email-smtp.<region>.amazonaws.com`, SES)"),
  emailPort: port.default(587).describe("SMTP port written into the application secret (1-65535)"),
});

const bastionSchema = z.strictObject({
  enabled: z.boolean().default(true).describe("create the SSM bastion used to reach RDS"),
  instanceType: z
    .string()
    .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, "must be an EC2 instance type such as t4g.nano")
    .default("t4g.nano")
    .describe("bastion EC2 instance type (t4g = arm64, t3 = x86_64)"),
  running: z.boolean().default(true).describe("false keeps the bastion but stopped (about $1/month instead of $7)"),
});

const monitoringSchema = z.strictObject({
  alarmEmails: z.array(email).default([]).describe("e-mail addresses subscribed to the alarm topic (each must confirm)"),
  cpuHighPercent: percent.default(70).describe("CPU alarm threshold, percent (0-100)"),
  connectionsHigh: positiveInt.default(80).describe("database connections alarm threshold"),
  freeStorageLowGb: z.number().positive().default(2).describe("free storage alarm threshold, GiB"),
  freeMemoryLowMb: z.number().positive().default(500).describe("freeable memory alarm threshold, MiB"),
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

const always = { when: () => true };

const environmentShape = z.strictObject({
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
  tenants: tenantsSchema.prefault({}),
  bastion: bastionSchema.prefault({}),
  monitoring: monitoringSchema.prefault({}),
  ci: ciSchema.prefault({}),
});

export const environmentSchema = environmentShape
  // Cross-field rules run even when single fields failed, so one run lists every problem; they read
  // the partly parsed value defensively (a field that failed still holds the raw input).
  .superRefine((env, ctx) => checkNetwork(env, ctx), always)
  .superRefine((env, ctx) => checkDatabase(env, ctx), always)
  .superRefine((env, ctx) => checkTenants(env, ctx), always);

export type ParsedEnvironment = z.output<typeof environmentShape>;

// ---------------------------------------------------------------- rules across fields

type Ctx = z.RefinementCtx;

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

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
  const backup = windowMinutes(db.backupWindow);
  const maintenance = windowMinutes(db.maintenanceWindow, true);
  if (backup && backup.length < 30) {
    ctx.addIssue({ code: "custom", path: ["database", "backupWindow"], message: `must last at least 30 minutes (got ${backup.length})` });
  }
  if (maintenance && maintenance.length < 30) {
    ctx.addIssue({
      code: "custom",
      path: ["database", "maintenanceWindow"],
      message: `must last at least 30 minutes (got ${maintenance.length})`,
    });
  }
  if (backup && maintenance && dailyOverlapsWeekly(backup, maintenance)) {
    ctx.addIssue({
      code: "custom",
      path: ["database", "maintenanceWindow"],
      message: `must not overlap backupWindow ${db.backupWindow}, as RDS requires`,
    });
  }
}

function checkTenants(env: ParsedEnvironment, ctx: Ctx): void {
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
  if (typeof t.appUser !== "string") return;
  if ((RESERVED_ROLES as readonly string[]).includes(t.appUser) || t.appUser.startsWith("pg_") || t.appUser.startsWith("rds")) {
    ctx.addIssue({ code: "custom", path: ["tenants", "appUser"], message: `"${t.appUser}" is a role PostgreSQL or RDS reserves` });
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

/** A validated environment with every default filled: what stacks and constructs read. */
export type EnvironmentConfig = Readonly<
  Omit<ParsedEnvironment, "production" | "protect" | "network" | "database" | "tenants"> & {
    /** Environment name: the config file's base name. */
    environment: string;
    production: boolean;
    protect: boolean;
    network: Readonly<ParsedEnvironment["network"] & { availabilityZones: string[]; flowLogs: boolean }>;
    database: Readonly<ParsedEnvironment["database"] & { identifier: string }>;
    tenants: Readonly<ParsedEnvironment["tenants"] & { secretName: string; emailHost: string }>;
  }
>;

/** Fills the defaults that depend on the environment's name, region or project. */
export function resolveConfig(environment: string, parsed: ParsedEnvironment): EnvironmentConfig {
  const production = parsed.production ?? isProductionName(environment);
  return {
    ...parsed,
    environment,
    production,
    protect: parsed.protect ?? production,
    network: {
      ...parsed.network,
      availabilityZones: parsed.network.availabilityZones ?? defaultAzs(parsed.region),
      flowLogs: parsed.network.flowLogs ?? production,
    },
    database: {
      ...parsed.database,
      identifier: parsed.database.identifier ?? `${parsed.project}-multi-tenant-${environment}`,
    },
    tenants: {
      ...parsed.tenants,
      secretName: parsed.tenants.secretName ?? `rds/${parsed.project}/multi-tenant/master`,
      emailHost: parsed.tenants.emailHost ?? `email-smtp.${parsed.region}.amazonaws.com`,
    },
  };
}
