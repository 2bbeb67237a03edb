/**
 * A PostgreSQL major upgrade (engineVersion 16 -> 17) planned by real Terraform against the real AWS
 * provider, with no cloud: config/dev.json's data stack, a local backend holding the state a
 * deployed 16 would have (built from the first plan's own planned values), `-refresh=false`, and a
 * fake RDS API on 127.0.0.1 answering the data sources that read the deployed engine version.
 *
 * Not provable offline: what RDS then does with the modification (that ApplyImmediately releases the
 * old parameter group before Terraform deletes it) is AWS behaviour; see README, "Data".
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OFFLINE_ENV, withoutCloud } from "../../scripts/lib/offline-plan";
import { reviewPlan, type PlannedResourceChange, type ShowJsonPlan } from "../../scripts/lib/plan-review";
import { synthesize } from "../../scripts/lib/synth";
import { prepareTerraform, terraform, type TerraformSetup } from "../../scripts/lib/terraform";
import { prepareScratchCopy } from "../../scripts/lib/validate";
import { startFakeRds, type FakeRds } from "../support/fake-rds";
import { shippedStartupWebApp, type Json } from "../helpers";

const IDENTIFIER = "startupwebapp-multi-tenant-dev";
const OLD_GROUP = "startupwebapp-dev-postgres-16-20261203000000000000000001";

let rds: FakeRds;
let setup: TerraformSetup;
let scratch: string;
let first: ShowJsonPlan & Json;

interface PlanRun {
  readonly code: number;
  readonly stderr: string;
  readonly plan?: ShowJsonPlan & Json;
}

/** config/dev.json with `database` overrides, its data stack written into the scratch folder, plannable offline. */
function writeDataStack(database: Json): void {
  const outdir = mkdtempSync(join(tmpdir(), "major-upgrade-synth-"));
  try {
    const stack = synthesize(outdir, [shippedStartupWebApp("dev", { database })]).find((s) => s.name === "dev-data")!;
    prepareScratchCopy(stack, scratch, setup);
    const file = join(scratch, "cdk.tf.json");
    // The network stack's outputs (subnet group, security group) become fixed names: no remote state offline.
    const text = readFileSync(file, "utf8").replace(
      /\$\{data\.terraform_remote_state\.[^.}]+\.outputs\.([^}]+)\}/g,
      (_m, output: string) =>
        `offline-${output
          .replace(/[^a-z0-9]/gi, "")
          .slice(-20)
          .toLowerCase()}`,
    );
    const document = withoutCloud(JSON.parse(text));
    delete document.data.terraform_remote_state;
    if (Object.keys(document.data).length === 0) delete document.data;
    document.provider.aws[0].endpoints = [{ rds: rds.endpoint }];
    writeFileSync(file, JSON.stringify(document));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

async function plan(refresh: boolean): Promise<PlanRun> {
  const args = ["plan", "-input=false", "-lock=false", "-no-color", "-out=upgrade.tfplan", ...(refresh ? [] : ["-refresh=false"])];
  const run = await terraform(args, scratch, setup, OFFLINE_ENV);
  if (run.code !== 0) return { code: run.code, stderr: run.stderr };
  const show = await terraform(["show", "-json", "-no-color", "upgrade.tfplan"], scratch, setup, OFFLINE_ENV);
  return { code: 0, stderr: "", plan: JSON.parse(show.stdout) };
}

/**
 * The state a deployed PostgreSQL 16 leaves: every resource of the first plan with its planned values,
 * and the values only AWS knows (ids, ARNs, the generated group name, the endpoint) filled in.
 */
function deployedState(planned: Json): Json {
  const known: Record<string, Json> = {
    aws_cloudwatch_log_group: { log_group_class: "STANDARD", name_prefix: "" },
    aws_secretsmanager_secret: { name_prefix: "", policy: "", replica: [] },
    aws_db_parameter_group: { id: OLD_GROUP, name: OLD_GROUP, arn: `arn:aws:rds:us-east-1:123456789012:pg:${OLD_GROUP}` },
    aws_db_instance: {
      id: "db-OFFLINE0123456789",
      resource_id: "db-OFFLINE0123456789",
      arn: `arn:aws:rds:us-east-1:123456789012:db:${IDENTIFIER}`,
      address: `${IDENTIFIER}.offline.us-east-1.rds.amazonaws.com`,
      endpoint: `${IDENTIFIER}.offline.us-east-1.rds.amazonaws.com:5432`,
      port: 5432,
      hosted_zone_id: "Z2R2ITUGPM61AM",
      status: "available",
      engine_version_actual: "16.4",
      parameter_group_name: OLD_GROUP,
      master_user_secret: [
        {
          kms_key_id: "alias/aws/secretsmanager",
          secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-offline",
          secret_status: "active",
        },
      ],
      availability_zone: "us-east-1a",
      license_model: "postgresql-license",
      option_group_name: "default:postgres-16",
      network_type: "IPV4",
      listener_endpoint: [],
      replicas: [],
    },
  };
  const resources = (planned.planned_values.root_module.resources as Json[])
    .filter((r) => r.mode === "managed")
    .map((r) => {
      const attributes: Json = { ...r.values, ...known[r.type] };
      attributes.id ??= r.values.name;
      attributes.arn ??= `arn:aws:offline:us-east-1:123456789012:${attributes.id}`;
      return {
        mode: "managed",
        type: r.type,
        name: r.name,
        provider: 'provider["registry.terraform.io/hashicorp/aws"]',
        instances: [
          {
            schema_version: r.schema_version,
            attributes,
            sensitive_attributes: [],
            ...(r.type === "aws_db_parameter_group" ? { create_before_destroy: true } : {}),
          },
        ],
      };
    });
  return { version: 4, terraform_version: "1.11.4", serial: 1, lineage: "00000000-0000-4000-8000-000000000016", outputs: {}, resources };
}

const changeOf = (p: ShowJsonPlan | undefined, type: string): PlannedResourceChange | undefined =>
  p?.resource_changes?.find((c) => c.type === type && c.mode !== "data");
const after = (c: PlannedResourceChange | undefined) => (c?.change.after ?? {}) as Json;

beforeAll(async () => {
  rds = await startFakeRds();
  setup = prepareTerraform();
  scratch = mkdtempSync(join(tmpdir(), "major-upgrade-"));
  writeDataStack({ engineVersion: "16" });
  const init = await terraform(["init", "-input=false", "-no-color"], scratch, setup, OFFLINE_ENV);
  if (init.code !== 0) throw new Error(init.stderr);
  const run = await plan(true);
  if (!run.plan) throw new Error(`the first plan failed:\n${run.stderr}`);
  first = run.plan;
  writeFileSync(join(scratch, "terraform.tfstate"), JSON.stringify(deployedState(first)));
  rds.deployed = { identifier: IDENTIFIER, engineVersion: "16.4" };
}, 300_000);

afterAll(async () => {
  await rds?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test("before the first deploy no instance is found, the version check passes and the instance is created", () => {
  expect(changeOf(first, "aws_db_instance")?.change.actions).toEqual(["create"]);
  expect(after(changeOf(first, "aws_db_parameter_group")).family).toBe("postgres16");
  expect(rds.actions).toContain("DescribeDBInstances");
});

test("17 without applyImmediately is refused at plan, before anything changes, naming the config field", async () => {
  writeDataStack({ engineVersion: "17" });
  const run = await plan(false);
  expect(run.code).toBe(1);
  const message = run.stderr.replace(/[│\s]+/g, " ");
  expect(message).toContain("Resource precondition failed");
  expect(message).toContain(`The instance ${IDENTIFIER} runs another major version than engineVersion 17 asks for.`);
  expect(message).toContain("database.applyImmediately: true");
}, 120_000);

describe("17 with applyImmediately: the whole upgrade in one reviewed apply", () => {
  let upgrade: PlanRun;
  beforeAll(async () => {
    writeDataStack({ engineVersion: "17", applyImmediately: true });
    upgrade = await plan(false);
  }, 120_000);

  test("plans", () => {
    expect(upgrade.stderr).toBe("");
    expect(upgrade.code).toBe(0);
  });

  test("the postgres17 parameter group is created before the postgres16 one is destroyed", () => {
    const group = changeOf(upgrade.plan, "aws_db_parameter_group")!;
    expect(group.change.actions).toEqual(["create", "delete"]);
    expect(group.action_reason).toBe("replace_because_cannot_update");
    expect(group.change.replace_paths).toContainEqual(["family"]);
    expect((group.change.before as Json).family).toBe("postgres16");
    expect(after(group).family).toBe("postgres17");
  });

  test("the instance is modified in place to 17, immediately, with major upgrades allowed, onto the new group", () => {
    const instance = changeOf(upgrade.plan, "aws_db_instance")!;
    expect(instance.change.actions).toEqual(["update"]);
    expect((instance.change.before as Json).engine_version).toBe("16");
    expect(after(instance)).toMatchObject({ engine_version: "17", apply_immediately: true, allow_major_version_upgrade: true });
    // The new group's generated name is known only once it exists: the instance waits for it.
    expect((instance.change.after_unknown as Json).parameter_group_name).toBe(true);
  });

  test("nothing else changes, and the plan review shows no DANGER", () => {
    const changed = (upgrade.plan!.resource_changes ?? []).filter((c) => c.mode !== "data" && c.change.actions.join() !== "no-op");
    expect(changed.map((c) => c.type).sort()).toEqual(["aws_db_instance", "aws_db_parameter_group"]);
    const review = reviewPlan("dev-data", upgrade.plan!);
    expect(review.changes.filter((c) => c.danger)).toEqual([]);
    expect(review.counts).toEqual({ create: 0, update: 1, replace: 1, delete: 0 });
  });
});

test("a change that is not a major upgrade keeps the maintenance window: no apply_immediately, same group", async () => {
  writeDataStack({ engineVersion: "16", instanceClass: "db.t4g.medium" });
  const run = await plan(false);
  expect(run.stderr).toBe("");
  const instance = changeOf(run.plan, "aws_db_instance")!;
  expect(instance.change.actions).toEqual(["update"]);
  expect(after(instance)).toMatchObject({ instance_class: "db.t4g.medium", apply_immediately: false, parameter_group_name: OLD_GROUP });
  expect(changeOf(run.plan, "aws_db_parameter_group")?.change.actions).toEqual(["no-op"]);
}, 120_000);
