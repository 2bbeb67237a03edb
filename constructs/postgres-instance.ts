import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsDbInstance } from "@cdktf/provider-aws/lib/data-aws-db-instance";
import { DataAwsDbInstances } from "@cdktf/provider-aws/lib/data-aws-db-instances";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Fn, TerraformIterator, Token, type Precondition } from "cdktf";
import { Construct } from "constructs";
import { LIMITS } from "./aws-limits";
import { allow } from "./iam";
import { FINAL_SNAPSHOT_IGNORED, finalSnapshotName } from "./final-snapshot";
import { Naming } from "./naming";
import { Role, type IGrantable } from "./role";
import { propError } from "./errors";

/** Log types PostgreSQL on RDS can export to CloudWatch Logs. */
const LOG_EXPORTS = ["postgresql", "upgrade"] as const;

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const POSTGRES_DEFAULTS = {
  engineVersion: "16",
  applyImmediately: false,
  instanceClass: "db.t4g.small",
  allocatedStorageGb: 20,
  maxAllocatedStorageGb: 100,
  backupRetentionDays: 7,
  backupWindow: "03:00-04:00",
  maintenanceWindow: "sun:04:00-sun:05:00",
  multiAz: false,
  deletionProtection: true,
  skipFinalSnapshot: false,
  performanceInsightsRetentionDays: 7,
  monitoringIntervalSeconds: 60,
  logRetentionDays: 30,
  logMinDurationStatementMs: 1000,
} as const;

export interface PostgresInstanceProps {
  /** RDS instance identifier; also names the log groups and the final snapshot. */
  readonly identifier: string;
  /** DB subnet group spanning at least two AZs (the network stack's). */
  readonly subnetGroupName: string;
  /** Security groups attached to the instance (the network stack's database group). */
  readonly securityGroupIds: readonly string[];
  /**
   * PostgreSQL major version only ("16"): minor versions follow AWS through auto minor version
   * upgrade, so a minor upgrade is never drift and never planned as a downgrade.
   * @default "16"
   */
  readonly engineVersion?: string;
  /**
   * Lets a change of `engineVersion` to a new major version apply (AWS refuses it otherwise). It
   * permits an upgrade; it never starts one.
   * @default false
   */
  readonly allowMajorVersionUpgrade?: boolean;
  /**
   * Apply instance changes (class, storage, engine version, parameter group) at once, instead of in
   * the next maintenance window. A major version upgrade needs it: see the class comment.
   * @default false
   */
  readonly applyImmediately?: boolean;
  /** @default "db.t4g.small" */
  readonly instanceClass?: string;
  /**
   * Initial gp3 storage in GiB.
   * @default 20
   */
  readonly allocatedStorageGb?: number;
  /**
   * Storage autoscaling ceiling in GiB; equal to `allocatedStorageGb` turns storage autoscaling off.
   * @default 100
   */
  readonly maxAllocatedStorageGb?: number;
  /**
   * Days automated backups are kept, 0-35.
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /** @default "03:00-04:00" (UTC) */
  readonly backupWindow?: string;
  /** @default "sun:04:00-sun:05:00" (UTC) */
  readonly maintenanceWindow?: string;
  /**
   * Standby in a second AZ.
   * @default false
   */
  readonly multiAz?: boolean;
  /**
   * RDS refuses to delete the instance while this is on.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Destroy without a final snapshot. A risky opt-in: the data is gone.
   * @default false
   */
  readonly skipFinalSnapshot?: boolean;
  /**
   * `prevent_destroy` on the instance: Terraform refuses any plan that would delete it.
   * @default true
   */
  readonly protect?: boolean;
  /**
   * Performance Insights retention: 7 (free tier) or a multiple of 31 up to 731.
   * @default 7
   */
  readonly performanceInsightsRetentionDays?: number;
  /**
   * Enhanced monitoring interval in seconds; 0 turns it off and creates no monitoring role.
   * @default 60
   */
  readonly monitoringIntervalSeconds?: number;
  /**
   * Days the exported `postgresql` and `upgrade` logs are kept.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Statements slower than this many milliseconds are logged; -1 turns it off.
   * @default 1000
   */
  readonly logMinDurationStatementMs?: number;
  /** @default "postgres" */
  readonly masterUsername?: string;
}

/**
 * An RDS PostgreSQL instance as the old system's documents promised it: private, encrypted gp3 with
 * storage autoscaling, TLS enforced by its own parameter group, a master password RDS keeps in Secrets
 * Manager (never in code, config or state), enhanced monitoring, Performance Insights, and its logs in
 * log groups this construct owns.
 *
 * A major version upgrade (`engineVersion` 16 -> 17) is one apply that needs `applyImmediately`.
 * The new family needs a new parameter group: it is created first (create-before-destroy), the
 * instance is modified to the new version and group, and the old group is deleted last. Without
 * ApplyImmediately RDS only schedules that modification for the maintenance window, the old group
 * stays attached, its deletion fails (InvalidDBParameterGroupState), and every later plan tries to
 * attach a 17 group to a 16 instance. So, unless `applyImmediately` is on, the instance carries a
 * precondition: the major version the deployed instance runs (read at plan time) must equal
 * `engineVersion`. A major upgrade then fails at plan, before anything changes, with the fix.
 */
export class PostgresInstance extends Construct {
  readonly instanceIdentifier: string;
  /** The `db-...` resource id that IAM database authentication and Performance Insights name. */
  readonly instanceResourceId: string;
  readonly instanceArn: string;
  readonly address: string;
  readonly port: number;
  readonly masterUsername: string;
  /** ARN of the RDS-managed Secrets Manager secret holding the master user's credentials. */
  readonly masterSecretArn: string;
  /** The enhanced monitoring role's ARN; undefined when `monitoringIntervalSeconds` is 0. */
  readonly monitoringRoleArn?: string;
  /** Name of the instance's parameter group (generated from a prefix). */
  readonly parameterGroupName: string;
  /** Log group names by exported log type. */
  readonly logGroupNames: Readonly<Record<(typeof LOG_EXPORTS)[number], string>>;

  constructor(scope: Construct, id: string, props: PostgresInstanceProps) {
    super(scope, id);
    const settings: CheckedSettings = {
      engineVersion: props.engineVersion ?? POSTGRES_DEFAULTS.engineVersion,
      allocatedStorageGb: props.allocatedStorageGb ?? POSTGRES_DEFAULTS.allocatedStorageGb,
      maxAllocatedStorageGb: props.maxAllocatedStorageGb ?? POSTGRES_DEFAULTS.maxAllocatedStorageGb,
      backupRetentionDays: props.backupRetentionDays ?? POSTGRES_DEFAULTS.backupRetentionDays,
      performanceInsightsRetentionDays: props.performanceInsightsRetentionDays ?? POSTGRES_DEFAULTS.performanceInsightsRetentionDays,
      monitoringIntervalSeconds: props.monitoringIntervalSeconds ?? POSTGRES_DEFAULTS.monitoringIntervalSeconds,
      logRetentionDays: props.logRetentionDays ?? POSTGRES_DEFAULTS.logRetentionDays,
      logMinDurationStatementMs: props.logMinDurationStatementMs ?? POSTGRES_DEFAULTS.logMinDurationStatementMs,
    };
    this.check(props, settings);
    const { engineVersion, monitoringIntervalSeconds, logMinDurationStatementMs } = settings;
    this.masterUsername = props.masterUsername ?? "postgres";
    const naming = Naming.of(this);

    const parameters = new DbParameterGroup(this, "parameters", {
      // A family change (a major upgrade) needs a new group: a generated name lets the new one exist
      // next to the old one until the instance has moved, instead of wedging on a name clash.
      namePrefix: `${naming.name("postgres", engineVersion)}-`,
      family: `postgres${engineVersion}`,
      description: `PostgreSQL ${engineVersion} settings for ${props.identifier}`,
      parameter: [
        // The old documents said "SSL required"; the scripts never enforced it. Now the server does.
        { name: "rds.force_ssl", value: "1" },
        // Static parameter: RDS rejects any apply method but pending-reboot for it.
        { name: "shared_preload_libraries", value: "pg_stat_statements", applyMethod: "pending-reboot" },
        { name: "log_min_duration_statement", value: String(logMinDurationStatementMs) },
      ],
      lifecycle: { createBeforeDestroy: true },
      tags: naming.tags("postgres"),
    });
    this.parameterGroupName = parameters.name;

    // RDS creates these groups itself, with no retention and outside Terraform, the moment the
    // first line is exported; existing first, they stay managed and expire.
    const logGroups = LOG_EXPORTS.map(
      (type) =>
        new CloudwatchLogGroup(this, `log-${type}`, {
          name: `/aws/rds/instance/${props.identifier}/${type}`,
          retentionInDays: settings.logRetentionDays,
          tags: naming.tags("postgres", type, "logs"),
        }),
    );
    this.logGroupNames = { postgresql: logGroups[0].name, upgrade: logGroups[1].name };

    const monitoringRole =
      monitoringIntervalSeconds > 0
        ? new Role(this, "monitoring-role", {
            roleName: naming.name("rds", "monitoring"),
            description: `Enhanced monitoring of ${props.identifier}`,
            assumedBy: ["monitoring.rds.amazonaws.com"],
            managedPolicies: ["service-role/AmazonRDSEnhancedMonitoringRole"],
          })
        : undefined;
    this.monitoringRoleArn = monitoringRole?.roleArn;

    const applyImmediately = props.applyImmediately ?? POSTGRES_DEFAULTS.applyImmediately;
    const instance = new DbInstance(this, "instance", {
      identifier: props.identifier,
      engine: "postgres",
      engineVersion,
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: props.allowMajorVersionUpgrade ?? false,
      applyImmediately,
      instanceClass: props.instanceClass ?? POSTGRES_DEFAULTS.instanceClass,
      parameterGroupName: parameters.name,
      caCertIdentifier: "rds-ca-rsa2048-g1",

      storageType: "gp3",
      allocatedStorage: settings.allocatedStorageGb,
      // The provider takes 0, not a ceiling equal to the size, as "autoscaling off".
      maxAllocatedStorage: settings.maxAllocatedStorageGb === settings.allocatedStorageGb ? 0 : settings.maxAllocatedStorageGb,
      storageEncrypted: true,

      dbSubnetGroupName: props.subnetGroupName,
      vpcSecurityGroupIds: [...props.securityGroupIds],
      publiclyAccessible: false,
      multiAz: props.multiAz ?? POSTGRES_DEFAULTS.multiAz,

      username: this.masterUsername,
      manageMasterUserPassword: true,

      backupRetentionPeriod: settings.backupRetentionDays,
      backupWindow: props.backupWindow ?? POSTGRES_DEFAULTS.backupWindow,
      maintenanceWindow: props.maintenanceWindow ?? POSTGRES_DEFAULTS.maintenanceWindow,
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection ?? POSTGRES_DEFAULTS.deletionProtection,
      skipFinalSnapshot: props.skipFinalSnapshot ?? POSTGRES_DEFAULTS.skipFinalSnapshot,
      finalSnapshotIdentifier: finalSnapshotName(props.identifier),

      monitoringInterval: monitoringIntervalSeconds,
      monitoringRoleArn: monitoringRole?.roleArn,
      performanceInsightsEnabled: true,
      performanceInsightsRetentionPeriod: settings.performanceInsightsRetentionDays,
      enabledCloudwatchLogsExports: [...LOG_EXPORTS],

      // RDS checks at creation that it can assume the monitoring role with its policy attached.
      dependsOn: [...logGroups, ...(monitoringRole ? attachmentsOf(monitoringRole) : [])],
      lifecycle: {
        preventDestroy: props.protect ?? true,
        ignoreChanges: [FINAL_SNAPSHOT_IGNORED],
        precondition: applyImmediately ? undefined : [this.sameMajorVersionAsDeployed(props.identifier, engineVersion)],
      },
      tags: naming.tags("postgres"),
    });

    this.instanceIdentifier = instance.identifier;
    this.instanceResourceId = instance.resourceId;
    this.instanceArn = instance.arn;
    this.address = instance.address;
    this.port = instance.port;
    this.masterSecretArn = instance.masterUserSecret.get(0).secretArn;
  }

  /** Lets `grantable` read the RDS-managed master secret, and only that secret. */
  grantMasterSecretRead(grantable: IGrantable): void {
    grantable.addToPolicy(allow(["secretsmanager:GetSecretValue"], [this.masterSecretArn]));
  }

  /**
   * Refuses, at plan time, an engine major version other than the one the deployed instance runs.
   * The instance is looked up by identifier with a filter (none found, as before the first deploy,
   * is fine), then read for its engine version.
   */
  private sameMajorVersionAsDeployed(identifier: string, engineVersion: string): Precondition {
    const found = new DataAwsDbInstances(this, "deployed", { filter: [{ name: "db-instance-id", values: [identifier] }] });
    const each = TerraformIterator.fromList(found.instanceIdentifiers);
    const deployed = new DataAwsDbInstance(this, "deployed-instance", { forEach: each, dbInstanceIdentifier: Token.asString(each.value) });
    const sameMajor = TerraformIterator.fromResources(deployed).forExpressionForList(
      `split(".", val.engine_version)[0] == "${engineVersion}"`,
    );
    return {
      condition: Fn.alltrue(Token.asList(sameMajor)),
      errorMessage:
        `The instance ${identifier} runs another major version than engineVersion ${engineVersion} asks for. A major upgrade ` +
        "must apply immediately: without it RDS defers the upgrade to the maintenance window and the old parameter group " +
        "cannot be deleted. Set applyImmediately (database.applyImmediately: true in the environment config) in the same " +
        "change, review the plan, and apply it: the upgrade runs during that apply.",
    };
  }

  private check(props: PostgresInstanceProps, s: CheckedSettings): void {
    const fail = (prop: string, rule: string, got: unknown): never => {
      throw propError(this, prop, `${rule} (got ${JSON.stringify(got)})`);
    };
    const wholeIn = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
    if (!Token.isUnresolved(props.identifier) && !LIMITS.rdsIdentifier.check(props.identifier)) {
      fail("identifier", LIMITS.rdsIdentifier.rule, props.identifier);
    }
    if (!/^\d{2}$/.test(s.engineVersion)) fail("engineVersion", 'must be a major version only, such as "16"', s.engineVersion);
    if (!LIMITS.allocatedStorageGb.check(s.allocatedStorageGb))
      fail("allocatedStorageGb", LIMITS.allocatedStorageGb.rule, s.allocatedStorageGb);
    if (!wholeIn(s.maxAllocatedStorageGb, s.allocatedStorageGb, 65536)) {
      fail(
        "maxAllocatedStorageGb",
        `must be a whole number of GiB from allocatedStorageGb (${s.allocatedStorageGb}) to 65536`,
        s.maxAllocatedStorageGb,
      );
    }
    if (!LIMITS.backupRetentionDays.check(s.backupRetentionDays))
      fail("backupRetentionDays", LIMITS.backupRetentionDays.rule, s.backupRetentionDays);
    const pi = s.performanceInsightsRetentionDays;
    if (!LIMITS.performanceInsightsRetentionDays.check(pi))
      fail("performanceInsightsRetentionDays", LIMITS.performanceInsightsRetentionDays.rule, pi);
    if (!LIMITS.monitoringIntervalSeconds.check(s.monitoringIntervalSeconds)) {
      fail("monitoringIntervalSeconds", LIMITS.monitoringIntervalSeconds.rule, s.monitoringIntervalSeconds);
    }
    if (!LIMITS.logRetentionDays.check(s.logRetentionDays)) fail("logRetentionDays", LIMITS.logRetentionDays.rule, s.logRetentionDays);
    if (!wholeIn(s.logMinDurationStatementMs, -1, 2147483647)) {
      fail("logMinDurationStatementMs", "must be a whole number of milliseconds, or -1 for off", s.logMinDurationStatementMs);
    }
    if (props.securityGroupIds.length === 0) fail("securityGroupIds", "needs at least one security group", props.securityGroupIds);
  }
}

interface CheckedSettings {
  readonly engineVersion: string;
  readonly allocatedStorageGb: number;
  readonly maxAllocatedStorageGb: number;
  readonly backupRetentionDays: number;
  readonly performanceInsightsRetentionDays: number;
  readonly monitoringIntervalSeconds: number;
  readonly logRetentionDays: number;
  readonly logMinDurationStatementMs: number;
}

/** The managed policy attachments of `role`, so the instance can wait for them. */
function attachmentsOf(role: Role): IamRolePolicyAttachment[] {
  return role.node.findAll().filter((c): c is IamRolePolicyAttachment => c instanceof IamRolePolicyAttachment);
}
