import type { EnvironmentConfig } from "../../config/schema";
import { allStrings, onlyResource, preparedEnvironment, resourcesOf, shippedStartupWebApp, synth, testConfig, type Json } from "../helpers";

/** The data stack of `config` as `cdktf synth` writes it: cross-stack references already turned into remote state. */
function dataStack(config: EnvironmentConfig): Json {
  return synth(preparedEnvironment(config).data);
}

const prod = dataStack(shippedStartupWebApp("prod"));
const dev = dataStack(shippedStartupWebApp("dev"));
const instanceOf = (json: Json) => onlyResource(json, "aws_db_instance");

/** Every key anywhere in a value, with its path, for "this never appears" assertions. */
function allKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => allKeys(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => [`${path}.${k}`, ...allKeys(v, `${path}.${k}`)]);
  }
  return [];
}

describe("DataStack", () => {
  test("prod runs the documented instance: startupwebapp-multi-tenant-prod, PostgreSQL 16 on db.t4g.small", () => {
    expect(instanceOf(prod)).toMatchObject({
      identifier: "startupwebapp-multi-tenant-prod",
      engine: "postgres",
      engine_version: "16",
      instance_class: "db.t4g.small",
      allocated_storage: 20,
      max_allocated_storage: 100,
      storage_type: "gp3",
      storage_encrypted: true,
      publicly_accessible: false,
      multi_az: false,
    });
  });

  test("changes wait for the maintenance window unless database.applyImmediately, which a major upgrade needs", () => {
    expect(instanceOf(prod)).toMatchObject({ apply_immediately: false, allow_major_version_upgrade: true });
    expect(instanceOf(prod).lifecycle.precondition).toHaveLength(1);
    const upgrading = dataStack(shippedStartupWebApp("prod", { database: { engineVersion: "17", applyImmediately: true } }));
    expect(instanceOf(upgrading)).toMatchObject({ engine_version: "17", apply_immediately: true });
  });

  test("prod keeps 7 days of backups, monitors every 60 s and keeps Performance Insights 7 days", () => {
    expect(instanceOf(prod)).toMatchObject({
      backup_retention_period: 7,
      backup_window: "03:00-04:00",
      maintenance_window: "sun:04:00-sun:05:00",
      monitoring_interval: 60,
      performance_insights_enabled: true,
      performance_insights_retention_period: 7,
    });
    expect(onlyResource(prod, "aws_iam_role").assume_role_policy).toContain("monitoring.rds.amazonaws.com");
  });

  test("prod database and application secret cannot be destroyed by accident", () => {
    const instance = instanceOf(prod);
    expect(instance).toMatchObject({ deletion_protection: true, skip_final_snapshot: false });
    expect(instance.lifecycle.prevent_destroy).toBe(true);
    expect(onlyResource(prod, "aws_secretsmanager_secret").lifecycle.prevent_destroy).toBe(true);
  });

  test("dev runs a smaller instance with 1 day of backups, no deletion protection and no monitoring role", () => {
    expect(instanceOf(dev)).toMatchObject({
      identifier: "startupwebapp-multi-tenant-dev",
      instance_class: "db.t4g.micro",
      backup_retention_period: 1,
      deletion_protection: false,
      monitoring_interval: 0,
    });
    expect(resourcesOf(dev, "aws_iam_role")).toHaveLength(0);
    expect(instanceOf(dev).monitoring_role_arn).toBeUndefined();
  });

  test("dev is not protected from destroy, but still takes a final snapshot", () => {
    expect(instanceOf(dev).lifecycle.prevent_destroy).toBe(false);
    expect(instanceOf(dev).skip_final_snapshot).toBe(false);
    expect(onlyResource(dev, "aws_secretsmanager_secret").lifecycle.prevent_destroy).toBe(false);
  });

  test("log groups keep the configured retention: 30 days in prod, 7 in dev", () => {
    expect(resourcesOf(prod, "aws_cloudwatch_log_group").map((g) => g.retention_in_days)).toEqual([30, 30]);
    expect(resourcesOf(dev, "aws_cloudwatch_log_group").map((g) => [g.name, g.retention_in_days])).toEqual([
      ["/aws/rds/instance/startupwebapp-multi-tenant-dev/postgresql", 7],
      ["/aws/rds/instance/startupwebapp-multi-tenant-dev/upgrade", 7],
    ]);
  });

  test("instance sits in the network stack's DB subnet group and database security group, read from its remote state", () => {
    const instance = instanceOf(prod);
    expect(instance.db_subnet_group_name).toMatch(
      /^\$\{data\.terraform_remote_state\.cross-stack-reference-input-prod-network\.outputs\.\S+\}$/,
    );
    expect(instance.vpc_security_group_ids).toHaveLength(1);
    expect(instance.vpc_security_group_ids[0]).toMatch(/^\$\{data\.terraform_remote_state\.cross-stack-reference-input-prod-network\./);
    expect(instance.vpc_security_group_ids[0]).not.toBe(instance.db_subnet_group_name);
  });

  test("application secret is named from config with a 30-day recovery window", () => {
    expect(onlyResource(prod, "aws_secretsmanager_secret")).toMatchObject({
      name: "rds/startupwebapp/multi-tenant/master",
      recovery_window_in_days: 30,
    });
  });

  test("outside production every application secret, per-database ones included, is deleted at once, so destroy then deploy works", () => {
    const perDatabase = dataStack(shippedStartupWebApp("dev", { tenants: { isolation: "per-database", databases: ["alpha", "beta"] } }));
    const secrets = resourcesOf(perDatabase, "aws_secretsmanager_secret");
    expect(secrets.map((s) => [s.name, s.recovery_window_in_days])).toEqual([
      ["startupwebapp/dev/app", 0],
      ["startupwebapp/dev/app/alpha", 0],
      ["startupwebapp/dev/app/beta", 0],
    ]);
    expect(onlyResource(dev, "aws_secretsmanager_secret").recovery_window_in_days).toBe(0);
  });

  test("application secret name and recovery window follow config", () => {
    const json = dataStack(testConfig({ tenants: { secretName: "rds/acme/app", secretRecoveryWindowDays: 7 } }));
    expect(onlyResource(json, "aws_secretsmanager_secret")).toMatchObject({ name: "rds/acme/app", recovery_window_in_days: 7 });
  });

  test("protect: true puts prevent_destroy on the instance and the secret even outside production", () => {
    const json = dataStack(testConfig({ protect: true }));
    expect(instanceOf(json).lifecycle.prevent_destroy).toBe(true);
    expect(onlyResource(json, "aws_secretsmanager_secret").lifecycle.prevent_destroy).toBe(true);
  });

  test("database settings from config reach the instance and its parameter group", () => {
    const json = dataStack(
      testConfig({
        database: {
          identifier: "acme-db",
          engineVersion: "17",
          multiAz: true,
          allocatedStorageGb: 50,
          maxAllocatedStorageGb: 200,
          performanceInsightsRetentionDays: 31,
          logMinDurationStatementMs: 500,
          skipFinalSnapshot: true,
        },
      }),
    );
    expect(instanceOf(json)).toMatchObject({
      identifier: "acme-db",
      engine_version: "17",
      multi_az: true,
      allocated_storage: 50,
      max_allocated_storage: 200,
      performance_insights_retention_period: 31,
      skip_final_snapshot: true,
    });
    const group = onlyResource(json, "aws_db_parameter_group");
    expect(group.family).toBe("postgres17");
    expect(group.parameter).toContainEqual({ name: "log_min_duration_statement", value: "500" });
  });

  test("stack exposes the terraform-aws-modules outputs", () => {
    expect(prod.output).toMatchObject({
      db_instance_identifier: { value: expect.stringMatching(/^\$\{aws_db_instance\.[^.]+\.identifier\}$/) },
      db_instance_address: { value: expect.stringMatching(/\.address\}$/) },
      db_instance_port: { value: expect.stringMatching(/\.port\}$/) },
      db_instance_resource_id: { value: expect.stringMatching(/\.resource_id\}$/) },
      db_instance_master_user_secret_arn: { value: expect.stringMatching(/\.master_user_secret\[0\]\.secret_arn\}$/) },
      app_secret_arn: { value: expect.stringMatching(/^\$\{aws_secretsmanager_secret\.[^.]+\.arn\}$/) },
      app_secret_name: { value: expect.stringMatching(/^\$\{aws_secretsmanager_secret\.[^.]+\.name\}$/) },
    });
  });

  test("no password or secret value appears anywhere in the synthesized JSON", () => {
    for (const json of [prod, dev]) {
      // The only password-ish argument is the flag that hands the master password to RDS.
      expect(allKeys(json).filter((k) => /password|secret_string|secret_binary/i.test(k.split(".").pop() ?? ""))).toEqual([
        expect.stringMatching(/\.aws_db_instance\.[^.]+\.manage_master_user_password$/),
      ]);
      expect(resourcesOf(json, "aws_secretsmanager_secret_version")).toHaveLength(0);
      expect(Object.keys(json.variable ?? {})).toEqual([]);
      // Nothing that looks like a generated credential: long runs of mixed letters and digits outside
      // references and resource addresses (depends_on).
      const literals = allStrings(json)
        .filter((s) => !/^(data\.)?[a-z][a-z0-9_]*\.[\w-]+$/.test(s))
        .map((s) => s.replace(/\$\{[^}]*\}/g, ""));
      expect(literals.filter((s) => /(?=[^\s]*[a-z])(?=[^\s]*[A-Z])(?=[^\s]*\d)[A-Za-z0-9+/=_-]{20,}/.test(s))).toEqual([]);
    }
  });
});
