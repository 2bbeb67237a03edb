/**
 * AWS's (and PostgreSQL's) own limits on values, in one neutral place: the config schema checks them
 * so every problem is listed with its JSON path, and the constructs check them again for callers
 * that do not come through a config. Both read the rule text from here, so the two never disagree.
 */

/** One limit: whether a value is allowed, and the rule as an error message says it ("must ..."). */
export interface Limit<T> {
  readonly check: (value: T) => boolean;
  readonly rule: string;
}

const whole = (min: number, max: number): Limit<number> => ({
  check: (n) => Number.isInteger(n) && n >= min && n <= max,
  rule: `must be a whole number ${min}-${max}`,
});

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const LIMITS = {
  logRetentionDays: {
    check: (d: number) => (LOG_RETENTION_DAYS as readonly number[]).includes(d),
    rule: `must be one of CloudWatch's retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
  },
  rdsIdentifier: {
    check: (s: string) => /^[a-z](?!.*--)[a-z0-9-]{0,61}[a-z0-9]$/.test(s),
    rule: "must be an RDS identifier: 1-63 of a-z, 0-9, '-', starting with a letter, no '--', not ending with '-'",
  },
  /** RDS: 7 days are free; longer retention is billed by the month of 31 days. */
  performanceInsightsRetentionDays: {
    check: (d: number) => d === 7 || (Number.isInteger(d) && d >= 31 && d <= 731 && d % 31 === 0),
    rule: "must be 7 or a multiple of 31 up to 731",
  },
  monitoringIntervalSeconds: {
    check: (s: number) => [0, 1, 5, 10, 15, 30, 60].includes(s),
    rule: "must be one of 0, 1, 5, 10, 15, 30, 60",
  },
  /** RDS keeps automated backups up to 35 days; 0 turns them off. */
  backupRetentionDays: { check: whole(0, 35).check, rule: "must be between 0 and 35" },
  /** gp3's minimum and RDS's maximum. */
  allocatedStorageGb: { check: whole(20, 65536).check, rule: "must be at least 20 (gp3 minimum) and at most 65536 GiB" },
  /** An EC2 instance type (`<family><generation><attributes>.<size>`) Amazon Linux 2023 runs on: no Mac types. */
  ec2InstanceType: {
    check: (s: string) => {
      const family = /^([a-z]+)\d+[a-z-]*\.[a-z0-9-]+$/.exec(s)?.[1];
      return family !== undefined && family !== "mac";
    },
    rule: "must be an EC2 instance type such as t4g.nano (not a Mac type)",
  },
  /** S3 bucket names (the general purpose rules; no `xn--` prefix, no `..`). */
  s3BucketName: {
    check: (s: string) => /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s),
    rule: "must be a valid S3 bucket name: 3-63 of a-z, 0-9, '.', '-', starting and ending with a letter or digit",
  },
  /** ElastiCache: a primary plus up to five replicas in one shard. */
  cacheNumNodes: { check: whole(1, 6).check, rule: "must be between 1 and 6" },
  /** ElastiCache keeps daily snapshots up to 35 days; 0 takes none. */
  cacheSnapshotRetentionDays: { check: whole(0, 35).check, rule: "must be between 0 and 35" },
  cacheNodeType: {
    check: (s: string) => /^cache\.[a-z0-9]+\.[a-z0-9]+$/.test(s),
    rule: "must be an ElastiCache node type such as cache.t4g.micro",
  },
  /** SQS: retention of 1 minute to 14 days, in whole days here. */
  sqsMessageRetentionDays: whole(1, 14),
  sqsVisibilityTimeoutSeconds: whole(0, 43200),
  /** SQS long polling waits at most 20 seconds. */
  sqsReceiveWaitTimeSeconds: whole(0, 20),
  sqsMaxReceiveCount: whole(1, 1000),
  /** Secrets Manager: immediate deletion, or a recovery window of 7 to 30 days. */
  secretRecoveryWindowDays: {
    check: (d: number) => d === 0 || (Number.isInteger(d) && d >= 7 && d <= 30),
    rule: "must be 0 or 7-30",
  },
  /** CloudWatch alarms on a percentage: 0 would always fire, 100 could never be crossed. */
  alarmPercent: {
    check: (p: number) => Number.isFinite(p) && p > 0 && p < 100,
    rule: "must be more than 0 and less than 100",
  },
} as const;

const range = (from: number, to: number, step: number): number[] =>
  Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);

/** Fargate's task sizes: CPU units (1024 = 1 vCPU) and the memory sizes in MiB each allows. */
export const FARGATE_TASK_SIZES: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

/** Why `cpu`/`memoryMiB` is not a Fargate task size (starting with the field at fault), or undefined when it is one. */
export function fargateSizeProblem(cpu: number, memoryMiB: number): string | undefined {
  const memories = FARGATE_TASK_SIZES[cpu];
  if (!memories) return `cpu must be one of Fargate's sizes ${Object.keys(FARGATE_TASK_SIZES).join(", ")} (got ${cpu})`;
  if (!memories.includes(memoryMiB)) {
    const [low, high, step] = [memories[0], memories[memories.length - 1], memories[1] - memories[0]];
    const allowed = memories.length <= 3 ? memories.join(", ") : `${low}-${high} in steps of ${step}`;
    return `memory must be a Fargate size for cpu ${cpu}: ${allowed} MiB (got ${memoryMiB})`;
  }
  return undefined;
}

/** AWS: Fargate Spot runs x86_64 tasks only. */
export const SPOT_NEEDS_X86 = 'needs architecture "X86_64": Fargate Spot has no ARM64 capacity';

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
