/**
 * npm run upgrade-check without an emulator: the plan classification over `show -json` documents
 * written here by hand, the verdict on stateful types, the printed lines, and the command line.
 */
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseUpgradeArgs, UpgradeUsageError } from "../../scripts/lib/upgrade-args";
import {
  classifyPlan,
  countChanges,
  formatChanges,
  isUpgradeStateful,
  stateLosses,
  summarize,
  type UpgradePlanDocument,
  type UpgradeResourceChange,
} from "../../scripts/lib/upgrade-plan";
import { checkoutRelease, releaseConfig, synthesizeRelease } from "../../scripts/lib/upgrade-release";
import { stateLocation } from "../../scripts/lib/upgrade-stacks";

function change(address: string, actions: string[], extra: Partial<UpgradeResourceChange> = {}): UpgradeResourceChange {
  const type = address.split(".")[0];
  const { change: body, ...rest } = extra;
  return { address, type, mode: "managed", ...rest, change: { actions, before: {}, after: {}, ...body } };
}

describe("classifyPlan", () => {
  const plan: UpgradePlanDocument = {
    resource_changes: [
      change("aws_vpc.main", ["no-op"]),
      change("data.aws_caller_identity.current", ["read"], { mode: "data" }),
      change("aws_sns_topic.alerts_topic_1", ["no-op"], { previous_address: "aws_sns_topic.topic_0" }),
      change("aws_secretsmanager_secret_version.credentials_value", ["update"], {
        previous_address: "aws_secretsmanager_secret_version.credentials-safebucket_value",
        change: {
          actions: ["update"],
          before: { secret_string_wo_version: 1, tags_all: {} },
          after: { secret_string_wo_version: 2, tags_all: { a: "b" } },
        },
      }),
      change("aws_cloudwatch_metric_alarm.cpu", ["update"], {
        change: {
          actions: ["update"],
          before: { threshold: 80, alarm_description: "x" },
          after: { threshold: 90, alarm_description: "x" },
        },
      }),
      change("aws_sesv2_configuration_set.mail", ["create"]),
      change("aws_db_instance.main", ["delete", "create"], {
        action_reason: "replace_because_cannot_update",
        change: { actions: ["delete", "create"], before: { identifier: "a" }, after: { identifier: "b" }, replace_paths: [["identifier"]] },
      }),
      change("aws_security_group_rule.old", ["delete"], { action_reason: "delete_because_no_resource_config" }),
      change("aws_sqs_queue.jobs", ["create", "delete"], { action_reason: "replace_because_cannot_update" }),
    ],
  };
  const changes = classifyPlan(plan);
  const byAddress = new Map(changes.map((c) => [c.address, c]));

  test("no-ops and data reads are left out, a pure move is kept as moved", () => {
    expect(byAddress.has("aws_vpc.main")).toBe(false);
    expect(byAddress.has("data.aws_caller_identity.current")).toBe(false);
    expect(byAddress.get("aws_sns_topic.alerts_topic_1")).toMatchObject({
      action: "move",
      movedFrom: "aws_sns_topic.topic_0",
      destroysState: false,
    });
  });

  test("a moved and updated resource keeps both, with attribute names but no tags_all", () => {
    expect(byAddress.get("aws_secretsmanager_secret_version.credentials_value")).toMatchObject({
      action: "update",
      movedFrom: "aws_secretsmanager_secret_version.credentials-safebucket_value",
      attributes: ["secret_string_wo_version"],
    });
    expect(byAddress.get("aws_cloudwatch_metric_alarm.cpu")?.attributes).toEqual(["threshold"]);
  });

  test("a stateful replacement (either order) fails, a delete of a rule does not", () => {
    expect(byAddress.get("aws_db_instance.main")).toMatchObject({
      action: "replace",
      replacePaths: ["identifier"],
      reason: "replace_because_cannot_update",
      destroysState: true,
    });
    expect(byAddress.get("aws_sqs_queue.jobs")).toMatchObject({ action: "replace", destroysState: true });
    expect(byAddress.get("aws_security_group_rule.old")).toMatchObject({ action: "delete", destroysState: false });
    expect(stateLosses(changes).map((c) => c.address)).toEqual(["aws_db_instance.main", "aws_sqs_queue.jobs"]);
  });

  test("counts moves apart from the action they come with", () => {
    expect(countChanges(changes)).toEqual({ create: 1, update: 2, replace: 2, delete: 1, forget: 0, move: 2 });
    expect(summarize(changes)).toBe("2 replacements, 1 delete, 2 updates, 1 create, 2 moved");
    expect(summarize([])).toBe("no changes");
  });

  test("prints the losses first and never a value", () => {
    const lines = formatChanges(changes);
    expect(lines[0]).toBe("REPLACE aws_db_instance.main (stateful): forced by identifier; replace_because_cannot_update");
    expect(lines).toContain(
      "update  aws_secretsmanager_secret_version.credentials_value (moved from aws_secretsmanager_secret_version.credentials-safebucket_value): secret_string_wo_version",
    );
    expect(lines).toContain("moved   aws_sns_topic.alerts_topic_1 (moved from aws_sns_topic.topic_0)");
    expect(lines.join("\n")).not.toMatch(/\b(80|90)\b/);
  });
});

describe("isUpgradeStateful", () => {
  test.each([
    "aws_db_instance",
    "aws_db_parameter_group",
    "aws_secretsmanager_secret",
    "aws_secretsmanager_secret_version",
    "aws_s3_bucket",
    "aws_s3_bucket_versioning",
    "aws_sqs_queue",
    "aws_elasticache_replication_group",
    "aws_kms_key",
    "aws_dynamodb_table",
    "aws_sns_topic",
  ])("%s is stateful", (type) => expect(isUpgradeStateful(type)).toBe(true));

  test.each(["aws_security_group_rule", "aws_cloudwatch_metric_alarm", "aws_iam_role_policy", "aws_ecs_service"])("%s is not", (type) =>
    expect(isUpgradeStateful(type)).toBe(false),
  );
});

describe("stateLocation", () => {
  test("matches a stack to its predecessor by backend, not by name", () => {
    expect(stateLocation({ terraform: { backend: { s3: { bucket: "b", key: "sb/tenants.tfstate" } } } })).toBe("s3://b/sb/tenants.tfstate");
    // A local path names the checkout that synthesized it: the same state file in two checkouts matches.
    expect(stateLocation({ terraform: { backend: { local: { path: "/old/checkout/terraform.dev-state.tfstate" } } } })).toBe(
      stateLocation({ terraform: { backend: { local: { path: "/work/repo/terraform.dev-state.tfstate" } } } }),
    );
    expect(stateLocation({})).toBeUndefined();
  });
});

describe("parseUpgradeArgs", () => {
  test("--from and environments", () => {
    expect(parseUpgradeArgs(["--from", "v1.2.0", "dev", "safebucket-dev", "dev"])).toEqual({
      from: "v1.2.0",
      environments: ["dev", "safebucket-dev"],
      parallel: 2,
      planOnly: false,
      accept: [],
      help: false,
    });
    expect(parseUpgradeArgs(["--from=08a0d48", "--parallel", "1"])).toMatchObject({ from: "08a0d48", environments: [], parallel: 1 });
  });

  test.each([
    [[], /--from: name the previous release/],
    [["dev"], /--from/],
    [["--from", "--parallel"], /--from/],
    [["--from=-x"], /--from: a git ref, not an option \(got -x\)/],
    [["--from", "x", "--parallel", "0"], /--parallel: must be a whole number of at least 1 \(got 0\)/],
    [["--from", "x", "Dev_1"], /environment: .* \(got Dev_1\)/],
    [["--from", "x", "--yes"], /Unknown option '--yes'/],
  ])("%j is refused", (argv, message) => {
    expect(() => parseUpgradeArgs(argv)).toThrow(UpgradeUsageError);
    expect(() => parseUpgradeArgs(argv)).toThrow(message);
  });

  test("--plan-only and repeated --accept <stack>:<address>", () => {
    expect(
      parseUpgradeArgs([
        "--from",
        "v1",
        "--plan-only",
        "--accept",
        "dev-data:aws_secretsmanager_secret.app-secret_99D6BEB7",
        "--accept=dev-access:aws_instance.bastion",
      ]),
    ).toMatchObject({
      planOnly: true,
      accept: ["dev-data:aws_secretsmanager_secret.app-secret_99D6BEB7", "dev-access:aws_instance.bastion"],
    });
  });

  test("--accept without its stack is refused", () => {
    expect(() => parseUpgradeArgs(["--from", "v1", "--accept", "aws_s3_bucket.b"])).toThrow(
      /--accept: <stack>:<address>.*\(got aws_s3_bucket.b\)/,
    );
  });

  test("--help needs nothing else", () => {
    expect(parseUpgradeArgs(["--help"]).help).toBe(true);
  });
});

describe("a previous release's checkout and synthesis", () => {
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd, encoding: "utf8" }).trim();
  let repo: string;
  let first: string;

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), "upgrade-repo-"));
    git(repo, "init", "-q");
    mkdirSync(join(repo, "config"));
    mkdirSync(join(repo, "node_modules"));
    writeFileSync(join(repo, "config", "dev.json"), '{"release": 1}\n');
    // The release's own app: writes a manifest naming one stack and records which config it was given.
    const app = [
      "const fs = require('fs'), path = require('path'); const out = process.env.CDKTF_OUTDIR;",
      "fs.mkdirSync(path.join(out, 'stacks', 'dev-state'), { recursive: true });",
      "fs.writeFileSync(path.join(out, 'stacks', 'dev-state', 'cdk.tf.json'), fs.readFileSync(process.env.INFRA_CONFIG));",
      "fs.writeFileSync(path.join(out, 'manifest.json'), JSON.stringify({ stacks: { 'dev-state': { name: 'dev-state', workingDirectory: 'stacks/dev-state', dependencies: [] } } }));",
    ].join(" ");
    writeFileSync(join(repo, "app.js"), app);
    writeFileSync(join(repo, "cdktf.json"), JSON.stringify({ app: "node app.js" }));
    git(repo, "add", "-A");
    git(repo, "commit", "-qm", "first");
    first = git(repo, "rev-parse", "HEAD");
    writeFileSync(join(repo, "config", "dev.json"), '{"release": 2}\n');
    git(repo, "commit", "-qam", "second");
  });

  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  test("checks out the ref detached, links node_modules, synthesizes with its own config, and is removed", async () => {
    const checkout = checkoutRelease(repo, first.slice(0, 7));
    try {
      expect(checkout.commit).toBe(first);
      expect(lstatSync(join(checkout.dir, "node_modules")).isSymbolicLink()).toBe(true);
      expect(git(repo, "worktree", "list")).toContain(checkout.dir);
      const out = mkdtempSync(join(tmpdir(), "upgrade-out-"));
      const stacks = await synthesizeRelease(checkout.dir, releaseConfig(checkout.dir, "dev")!, out);
      expect(stacks.map((s) => s.name)).toEqual(["dev-state"]);
      expect(readFileSync(join(out, "stacks", "dev-state", "cdk.tf.json"), "utf8")).toBe('{"release": 1}\n');
      expect(releaseConfig(checkout.dir, "prod")).toBeUndefined();
      rmSync(out, { recursive: true, force: true });
    } finally {
      checkout.remove();
    }
    expect(existsSync(checkout.dir)).toBe(false);
    expect(git(repo, "worktree", "list")).not.toContain(checkout.dir);
  });

  test("a ref that names no commit is refused with the option's name", () => {
    expect(() => checkoutRelease(repo, "no-such-tag")).toThrow(/--from: no-such-tag names no commit/);
  });
});
