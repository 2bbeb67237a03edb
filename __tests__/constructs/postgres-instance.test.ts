import { PostgresInstance, type PostgresInstanceProps } from "../../constructs/postgres-instance";
import { Role } from "../../constructs/role";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformOutput, type TerraformStack } from "cdktf";
import { prepareTerraform, terraform, type TerraformSetup } from "../../scripts/lib/terraform";
import { OFFLINE_ENV, withoutCloud } from "../../scripts/lib/offline-plan";
import { onlyResource, resourcesOf, synth, testStack, type Json } from "../helpers";

const NETWORK = { subnetGroupName: "acme-test-db", securityGroupIds: ["sg-0123456789abcdef0"] };

function build(props: Partial<PostgresInstanceProps> = {}) {
  const stack = testStack();
  const database = new PostgresInstance(stack, "postgres", { identifier: "acme-test-db", ...NETWORK, ...props });
  return { stack, database };
}

function postgres(props: Partial<PostgresInstanceProps> = {}): Json {
  return synth(build(props).stack);
}

const instanceOf = (json: Json) => onlyResource(json, "aws_db_instance");
const addressOf = (json: Json, type: string) => `${type}.${Object.keys(json.resource[type])[0]}`;

/** The Terraform expression a field stands for, read back through an output. */
function expressionOf(stack: TerraformStack, value: string): string {
  new TerraformOutput(stack, "probe", { value });
  return synth(stack).output.probe.value;
}

describe("PostgresInstance", () => {
  test("engine is postgres pinned to the major version only, with auto minor upgrades", () => {
    expect(instanceOf(postgres())).toMatchObject({ engine: "postgres", engine_version: "16", auto_minor_version_upgrade: true });
  });

  test("major version upgrades are refused unless explicitly allowed", () => {
    expect(instanceOf(postgres()).allow_major_version_upgrade).toBe(false);
    expect(instanceOf(postgres({ allowMajorVersionUpgrade: true })).allow_major_version_upgrade).toBe(true);
  });

  test("changes wait for the maintenance window unless applyImmediately is chosen", () => {
    expect(instanceOf(postgres()).apply_immediately).toBe(false);
    expect(instanceOf(postgres({ applyImmediately: true })).apply_immediately).toBe(true);
  });

  test("without applyImmediately, a precondition holds the engine version to the deployed instance's major version", () => {
    const json = postgres({ engineVersion: "17" });
    const lookup = Object.values(json.data.aws_db_instances)[0] as Json;
    expect(lookup.filter).toEqual([{ name: "db-instance-id", values: ["acme-test-db"] }]);
    const deployed = `data.aws_db_instance.${Object.keys(json.data.aws_db_instance)[0]}`;
    const [precondition] = instanceOf(json).lifecycle.precondition;
    expect(precondition.condition).toBe(`\${alltrue([ for key, val in ${deployed}: split(".", val.engine_version)[0] == "17"])}`);
    expect(precondition.error_message).toMatch(/^The instance acme-test-db runs another major version than engineVersion 17 asks for\./);
    expect(precondition.error_message).toContain("database.applyImmediately: true");
  });

  test("the deployed instance is read only when it exists: none found before the first deploy passes the check", () => {
    const json = postgres();
    const lookup = `data.aws_db_instances.${Object.keys(json.data.aws_db_instances)[0]}`;
    expect((Object.values(json.data.aws_db_instance)[0] as Json).for_each).toBe(`\${toset(${lookup}.instance_identifiers)}`);
  });

  test("with applyImmediately there is no check and nothing to read at plan time", () => {
    const json = postgres({ applyImmediately: true });
    expect(instanceOf(json).lifecycle.precondition).toBeUndefined();
    expect(json.data?.aws_db_instances).toBeUndefined();
    expect(json.data?.aws_db_instance).toBeUndefined();
  });

  test("storage is encrypted gp3, 20 GiB autoscaling to 100 GiB by default", () => {
    expect(instanceOf(postgres())).toMatchObject({
      storage_type: "gp3",
      storage_encrypted: true,
      allocated_storage: 20,
      max_allocated_storage: 100,
    });
  });

  test("a ceiling equal to the allocated size turns storage autoscaling off", () => {
    expect(instanceOf(postgres({ allocatedStorageGb: 50, maxAllocatedStorageGb: 50 })).max_allocated_storage).toBe(0);
  });

  test("instance is private, in the given subnet group behind the given security groups", () => {
    expect(instanceOf(postgres())).toMatchObject({
      publicly_accessible: false,
      db_subnet_group_name: "acme-test-db",
      vpc_security_group_ids: ["sg-0123456789abcdef0"],
    });
  });

  test("master user is postgres with a password RDS manages in Secrets Manager", () => {
    const instance = instanceOf(postgres());
    expect(instance).toMatchObject({ username: "postgres", manage_master_user_password: true });
    expect(Object.keys(instance).filter((k) => /password/.test(k))).toEqual(["manage_master_user_password"]);
  });

  test("backups are kept 7 days in 03:00-04:00, maintenance is sun:04:00-sun:05:00, tags go to snapshots", () => {
    expect(instanceOf(postgres())).toMatchObject({
      backup_retention_period: 7,
      backup_window: "03:00-04:00",
      maintenance_window: "sun:04:00-sun:05:00",
      copy_tags_to_snapshot: true,
    });
  });

  test("server certificate comes from the rds-ca-rsa2048-g1 authority", () => {
    expect(instanceOf(postgres()).ca_cert_identifier).toBe("rds-ca-rsa2048-g1");
  });

  test("single-AZ unless multiAz is chosen", () => {
    expect(instanceOf(postgres()).multi_az).toBe(false);
    expect(instanceOf(postgres({ multiAz: true })).multi_az).toBe(true);
  });

  test("parameter group forces TLS, preloads pg_stat_statements on reboot and logs slow statements", () => {
    const json = postgres();
    const group = onlyResource(json, "aws_db_parameter_group");
    expect(group.family).toBe("postgres16");
    expect(group.parameter).toEqual(
      expect.arrayContaining([
        { name: "rds.force_ssl", value: "1" },
        { name: "shared_preload_libraries", value: "pg_stat_statements", apply_method: "pending-reboot" },
        { name: "log_min_duration_statement", value: "1000" },
      ]),
    );
    expect(instanceOf(json).parameter_group_name).toBe(`\${${addressOf(json, "aws_db_parameter_group")}.name}`);
  });

  test("parameter group has a generated name and is replaced before it is destroyed, so a family change cannot wedge", () => {
    const group = onlyResource(postgres(), "aws_db_parameter_group");
    expect(group.name).toBeUndefined();
    expect(group.name_prefix).toBe("acme-test-postgres-16-");
    expect(group.lifecycle.create_before_destroy).toBe(true);
  });

  test("parameter group family and slow statement threshold follow the props", () => {
    const group = onlyResource(postgres({ engineVersion: "17", logMinDurationStatementMs: 250 }), "aws_db_parameter_group");
    expect(group.family).toBe("postgres17");
    expect(group.parameter).toContainEqual({ name: "log_min_duration_statement", value: "250" });
  });

  test("postgresql and upgrade logs go to log groups that exist before the instance, with retention", () => {
    const json = postgres({ logRetentionDays: 14 });
    const groups = resourcesOf(json, "aws_cloudwatch_log_group");
    expect(groups.map((g) => g.name).sort()).toEqual([
      "/aws/rds/instance/acme-test-db/postgresql",
      "/aws/rds/instance/acme-test-db/upgrade",
    ]);
    expect(groups.every((g) => g.retention_in_days === 14)).toBe(true);
    const instance = instanceOf(json);
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    for (const key of Object.keys(json.resource.aws_cloudwatch_log_group)) {
      expect(instance.depends_on).toContain(`aws_cloudwatch_log_group.${key}`);
    }
  });

  test("enhanced monitoring every 60 s uses a role RDS monitoring can assume, with the partition-aware managed policy", () => {
    const json = postgres();
    const role = onlyResource(json, "aws_iam_role");
    expect(role.assume_role_policy).toContain('"Service" = ["monitoring.rds.amazonaws.com"]');
    const attachment = onlyResource(json, "aws_iam_role_policy_attachment");
    expect(attachment.policy_arn).toBe(
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    );
    const instance = instanceOf(json);
    expect(instance.monitoring_interval).toBe(60);
    expect(instance.monitoring_role_arn).toBe(`\${${addressOf(json, "aws_iam_role")}.arn}`);
  });

  test("instance waits for the monitoring role's policy, which RDS checks at creation", () => {
    const json = postgres();
    expect(instanceOf(json).depends_on).toContain(addressOf(json, "aws_iam_role_policy_attachment"));
  });

  test("monitoring interval 0 turns enhanced monitoring off and creates no role", () => {
    const { stack, database } = build({ monitoringIntervalSeconds: 0 });
    const json = synth(stack);
    expect(resourcesOf(json, "aws_iam_role")).toHaveLength(0);
    expect(instanceOf(json).monitoring_interval).toBe(0);
    expect(instanceOf(json).monitoring_role_arn).toBeUndefined();
    expect(database.monitoringRoleArn).toBeUndefined();
  });

  test("Performance Insights is on with 7 days of retention", () => {
    expect(instanceOf(postgres())).toMatchObject({ performance_insights_enabled: true, performance_insights_retention_period: 7 });
  });

  test("deletion protection, a final snapshot and prevent_destroy are on by default", () => {
    const instance = instanceOf(postgres());
    expect(instance.deletion_protection).toBe(true);
    expect(instance.skip_final_snapshot).toBe(false);
    expect(instance.lifecycle.prevent_destroy).toBe(true);
  });

  test("each protection can be turned off on its own", () => {
    const instance = instanceOf(postgres({ deletionProtection: false, skipFinalSnapshot: true, protect: false }));
    expect(instance).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
    expect(instance.lifecycle.prevent_destroy).toBe(false);
  });

  test("final snapshot name carries the instance's creation time and is then frozen, so a later instance never collides with it", () => {
    const instance = instanceOf(postgres());
    expect(instance.final_snapshot_identifier).toBe('acme-test-db-final-${formatdate("YYYYMMDDhhmmss", timestamp())}');
    expect(instance.lifecycle.ignore_changes).toEqual(["final_snapshot_identifier"]);
  });

  test("masterSecretArn is the RDS-managed secret's ARN", () => {
    const { stack, database } = build();
    expect(expressionOf(stack, database.masterSecretArn)).toMatch(/^\$\{aws_db_instance\.[^.]+\.master_user_secret\[0\]\.secret_arn\}$/);
  });

  test("instance fields point at the instance's identifier, resource id and address", () => {
    for (const [field, attribute] of [
      ["instanceIdentifier", "identifier"],
      ["instanceResourceId", "resource_id"],
      ["address", "address"],
    ] as const) {
      const { stack, database } = build();
      expect(expressionOf(stack, database[field])).toMatch(new RegExp(`^\\$\\{aws_db_instance\\.[^.]+\\.${attribute}\\}$`));
    }
  });

  test("master username is postgres", () => {
    expect(build().database.masterUsername).toBe("postgres");
  });

  test("grantMasterSecretRead lets a role read exactly the RDS-managed master secret", () => {
    const { stack, database } = build();
    const role = new Role(stack, "reader", { roleName: "acme-test-reader", assumedBy: ["ec2.amazonaws.com"] });
    database.grantMasterSecretRead(role);
    const json = synth(stack);
    const policy = onlyResource(json, "aws_iam_role_policy").policy as string;
    expect(policy).toContain('"Action" = ["secretsmanager:GetSecretValue"]');
    expect(policy).toContain(`"Resource" = [${addressOf(json, "aws_db_instance")}.master_user_secret[0].secret_arn]`);
  });

  test.each<[string, Partial<PostgresInstanceProps>]>([
    ["identifier", { identifier: "Bad--Name" }],
    ["engineVersion", { engineVersion: "16.3" }],
    ["allocatedStorageGb", { allocatedStorageGb: 10 }],
    ["maxAllocatedStorageGb", { allocatedStorageGb: 200, maxAllocatedStorageGb: 100 }],
    ["backupRetentionDays", { backupRetentionDays: 40 }],
    ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 30 }],
    ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 45 }],
    ["logRetentionDays", { logRetentionDays: 8 }],
    ["logMinDurationStatementMs", { logMinDurationStatementMs: -5 }],
    ["securityGroupIds", { securityGroupIds: [] }],
  ])("an invalid %s is rejected at construction, naming the prop", (prop, props) => {
    expect(() => build(props)).toThrow(new RegExp(`PostgresInstance .*: ${prop} `));
  });
});

/**
 * The final snapshot name under a real `terraform plan` (offline: no refresh, placeholder credentials,
 * provider from the local mirror): decided when the instance is created, then never planned again.
 */
describe("PostgresInstance final snapshot name, planned by Terraform", () => {
  let dir: string;
  let setup: TerraformSetup;
  let instanceName: string;

  async function run(args: string[]): Promise<string> {
    const result = await terraform(args, dir, setup, OFFLINE_ENV);
    if (result.code !== 0) throw new Error(`terraform ${args[0]} failed:\n${result.stderr || result.stdout}`);
    return result.stdout;
  }

  async function plannedInstance(): Promise<{ actions: string[]; before?: Json; after: Json; after_unknown: Json }> {
    await run(["plan", "-refresh=false", "-input=false", "-lock=false", "-no-color", "-out=test.tfplan"]);
    const plan = JSON.parse(await run(["show", "-json", "-no-color", "test.tfplan"]));
    return plan.resource_changes.find((c: Json) => c.type === "aws_db_instance").change;
  }

  beforeAll(async () => {
    // applyImmediately: no data source reading the deployed engine version, so no RDS call offline
    // (__tests__/terraform/major-upgrade.test.ts plans that check against a fake RDS).
    const json = withoutCloud(postgres({ monitoringIntervalSeconds: 0, applyImmediately: true }));
    instanceName = Object.keys(json.resource.aws_db_instance)[0];
    dir = mkdtempSync(join(tmpdir(), "postgres-instance-plan-"));
    writeFileSync(join(dir, "main.tf.json"), JSON.stringify(json));
    setup = prepareTerraform();
    await run(["init", "-input=false", "-no-color"]);
  }, 180_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("a new instance gets its final snapshot name at apply time, when it is created", async () => {
    rmSync(join(dir, "terraform.tfstate"), { force: true });
    const change = await plannedInstance();
    expect(change.actions).toEqual(["create"]);
    expect(change.after_unknown.final_snapshot_identifier).toBe(true);
  }, 120_000);

  test("an existing instance keeps the final snapshot name it was created with, plan after plan", async () => {
    const created = "acme-test-db-final-20240101000000";
    const attributes = { id: "db-TEST", identifier: "acme-test-db", engine: "postgres", engine_version: "16", username: "postgres" };
    writeFileSync(
      join(dir, "terraform.tfstate"),
      JSON.stringify({
        version: 4,
        terraform_version: "1.11.4",
        serial: 1,
        lineage: "00000000-0000-4000-8000-000000000000",
        outputs: {},
        resources: [
          {
            mode: "managed",
            type: "aws_db_instance",
            name: instanceName,
            provider: 'provider["registry.terraform.io/hashicorp/aws"]',
            instances: [
              {
                schema_version: 2,
                attributes: { ...attributes, storage_encrypted: true, final_snapshot_identifier: created },
                sensitive_attributes: [],
              },
            ],
          },
        ],
      }),
    );
    const change = await plannedInstance();
    // The hand-written state lacks most attributes, so the plan updates others; never this one, never a replace.
    expect(change.actions).toEqual(["update"]);
    expect(change.after.final_snapshot_identifier).toBe(created);
    expect(change.after_unknown.final_snapshot_identifier).toBeUndefined();
  }, 120_000);
});
