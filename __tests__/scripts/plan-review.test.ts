/**
 * The plan review over plan documents built here in Terraform's `show -json` shape: counts, reasons,
 * DANGER, drift, exit codes and the two renderers.
 */
import {
  changedAttributes,
  driftExitCode,
  failedStack,
  planExitCode,
  renderMarkdown,
  renderText,
  REVIEW_MARKER,
  reviewPlan,
  skippedStack,
  type PlannedResourceChange,
  type ShowJsonPlan,
} from "../../scripts/lib/plan-review";

function change(
  address: string,
  actions: string[],
  extra: Partial<PlannedResourceChange> & Record<string, unknown> = {},
): PlannedResourceChange {
  const type = address.split(".")[0];
  const { change: body, ...rest } = extra;
  return { address, type, mode: "managed", ...rest, change: { actions, before: null, after: {}, ...body } };
}

const create = (address: string) => change(address, ["create"]);
const update = (address: string, before: object, after: object) =>
  change(address, ["update"], { change: { actions: ["update"], before, after } });
const replace = (address: string, reason: string, paths: (string | number)[][], order = ["delete", "create"]) =>
  change(address, order, { action_reason: reason, change: { actions: order, before: {}, after: {}, replace_paths: paths } });
const destroy = (address: string, reason = "delete_because_no_resource_config") =>
  change(address, ["delete"], { action_reason: reason, change: { actions: ["delete"], before: {}, after: null } });

const PLAN: ShowJsonPlan = {
  resource_changes: [
    create("aws_vpc.main"),
    create("aws_subnet.private_a"),
    change("aws_iam_role.unchanged", ["no-op"]),
    change("data.aws_partition.partition", ["read"], { mode: "data" }),
    update(
      "aws_security_group.db",
      { ingress: [1], description: "db", tags: { a: "1" } },
      { ingress: [1, 2], description: "db", tags: { a: "2" } },
    ),
    replace("aws_db_instance.main", "replace_because_cannot_update", [["storage_encrypted"], ["engine"]]),
    replace("aws_route_table.public", "replace_because_tainted", [], ["create", "delete"]),
    destroy("aws_s3_bucket.uploads"),
    destroy("aws_cloudwatch_metric_alarm.cpu", "delete_because_each_key"),
  ],
};

describe("reviewPlan", () => {
  const review = reviewPlan("prod-data", PLAN);

  test("counts creates, updates, replacements and deletions; no-ops and data reads are not changes", () => {
    expect(review.counts).toEqual({ create: 2, update: 1, replace: 2, delete: 2 });
    expect(review.changes.map((c) => c.address)).not.toContain("aws_iam_role.unchanged");
    expect(review.changes.map((c) => c.address)).not.toContain("data.aws_partition.partition");
  });

  test("create-before-destroy counts as a replacement too", () => {
    expect(review.changes.find((c) => c.address === "aws_route_table.public")?.action).toBe("replace");
  });

  test("a replacement carries its reason in words and the attributes that force it", () => {
    const db = review.changes.find((c) => c.address === "aws_db_instance.main")!;
    expect(db.reason).toBe("an attribute cannot be updated in place");
    expect(db.replacePaths).toEqual(["storage_encrypted", "engine"]);
  });

  test("a deletion carries its reason in words", () => {
    expect(review.changes.find((c) => c.address === "aws_cloudwatch_metric_alarm.cpu")?.reason).toBe("its for_each key is gone");
  });

  test("an unknown action_reason is shown as Terraform wrote it", () => {
    const r = reviewPlan("s", { resource_changes: [destroy("aws_sns_topic.t", "delete_because_something_new")] });
    expect(r.changes[0].reason).toBe("delete_because_something_new");
  });

  test("an update lists the attributes it changes and nothing unchanged", () => {
    expect(review.changes.find((c) => c.action === "update")?.changedAttributes).toEqual(["ingress", "tags"]);
  });

  test("stateful resources destroyed or replaced are DANGER; others are not", () => {
    const danger = review.changes.filter((c) => c.danger).map((c) => c.address);
    expect(danger).toEqual(["aws_db_instance.main", "aws_s3_bucket.uploads"]);
  });

  test("creating or updating a stateful resource is not DANGER", () => {
    const r = reviewPlan("s", {
      resource_changes: [create("aws_db_instance.new"), update("aws_kms_key.k", { description: "a" }, { description: "b" })],
    });
    expect(r.changes.some((c) => c.danger)).toBe(false);
  });

  test("tenant databases and roles of the postgresql provider are stateful", () => {
    const r = reviewPlan("prod-tenants", { resource_changes: [destroy("postgresql_database.shop"), destroy("postgresql_role.app")] });
    expect(r.changes.every((c) => c.danger)).toBe(true);
  });

  test("a removed block (forget) keeps the resource: not counted, not DANGER", () => {
    const r = reviewPlan("s", { resource_changes: [change("aws_db_instance.old", ["forget"])] });
    expect(r.counts).toEqual({ create: 0, update: 0, replace: 0, delete: 0 });
    expect(r.changes[0]).toMatchObject({ action: "forget", danger: false });
  });
});

describe("changedAttributes", () => {
  test("a value known only after apply counts as changed", () => {
    expect(changedAttributes({ arn: "a", name: "n" }, { name: "n" }, { arn: true })).toEqual(["arn"]);
  });

  test("tags_all is left out: it repeats tags plus the provider's default tags", () => {
    expect(changedAttributes({ tags_all: { a: "1" } }, { tags_all: { a: "2" } })).toEqual([]);
  });

  test("returns names only, never the values", () => {
    const names = changedAttributes({ password: "old-value" }, { password: "new-value" });
    expect(names).toEqual(["password"]);
    expect(JSON.stringify(names)).not.toContain("value");
  });
});

describe("drift: changed outside Terraform and set back by the next apply", () => {
  // Shaped after a real plan (Terraform 1.11, AWS provider 5.100) of a deployed stack: the refresh
  // (resource_drift) lists computed churn and nulls read back as [] on every run; resource_changes
  // holds what an apply would do.
  const db = (over: object = {}) => ({
    identifier: "acme-prod",
    backup_retention_period: 7,
    latest_restorable_time: "2026-12-03T07:22:40Z",
    enabled_cloudwatch_logs_exports: null,
    password: "do-not-print-1",
    tags: { Name: "acme-prod" },
    ...over,
  });
  const churn = update(
    "aws_db_instance.postgres",
    db(),
    db({ latest_restorable_time: "2026-12-03T07:27:40Z", enabled_cloudwatch_logs_exports: [] }),
  );
  const noOp = (address: string) => change(address, ["no-op"]);

  test("a refresh in which only latest_restorable_time moved is no drift", () => {
    const review = reviewPlan("prod-data", { resource_drift: [churn], resource_changes: [noOp("aws_db_instance.postgres")] });
    expect(review.drift).toEqual([]);
    expect(driftExitCode([review])).toBe(0);
  });

  test("an attribute the configuration does not set changing is no drift (an SG's ingress filled by separate rule resources)", () => {
    const sg = update(
      "aws_security_group.db",
      { ingress: [], tags: null },
      { ingress: [{ from_port: 22, cidr_blocks: ["0.0.0.0/0"] }], tags: {} },
    );
    const review = reviewPlan("prod-network", { resource_drift: [sg], resource_changes: [noOp("aws_security_group.db")] });
    expect(review.drift).toEqual([]);
  });

  test("a configuration change not yet deployed is a pending change, not drift", () => {
    const pending = update("aws_db_instance.postgres", db(), db({ backup_retention_period: 14 }));
    const review = reviewPlan("prod-data", { resource_drift: [churn], resource_changes: [pending] });
    expect(review.drift).toEqual([]);
    expect(review.changes.map((c) => c.address)).toEqual(["aws_db_instance.postgres"]);
    expect(driftExitCode([review])).toBe(0);
  });

  test("an out-of-band change of a configured attribute is drift, named with its values and nothing else", () => {
    const outOfBand = db({ backup_retention_period: 3, latest_restorable_time: "2026-12-03T07:27:40Z" });
    const review = reviewPlan("prod-data", {
      resource_drift: [update("aws_db_instance.postgres", db(), outOfBand)],
      resource_changes: [update("aws_db_instance.postgres", outOfBand, db({ latest_restorable_time: "2026-12-03T07:27:40Z" }))],
    });
    expect(review.drift).toEqual([
      expect.objectContaining({
        address: "aws_db_instance.postgres",
        action: "update",
        changedAttributes: ["backup_retention_period"],
        values: { backup_retention_period: "7 -> 3" },
      }),
    ]);
    expect(driftExitCode([review])).toBe(2);
    const text = renderText([review], { mode: "drift", environment: "prod", exitCode: 2 });
    expect(text.split("\n").filter((l) => l.startsWith("  "))).toEqual([
      "  drift aws_db_instance.postgres: backup_retention_period 7 -> 3",
    ]);
  });

  test("a value known only after apply is the provider recomputing, not a revert", () => {
    const drift = update("aws_cloudwatch_metric_alarm.cpu", { threshold: 70, arn: "a" }, { threshold: 70, arn: "b" });
    const plan = change("aws_cloudwatch_metric_alarm.cpu", ["update"], {
      change: { actions: ["update"], before: { threshold: 70, arn: "b" }, after: { threshold: 80 }, after_unknown: { arn: true } },
    });
    expect(reviewPlan("prod-observability", { resource_drift: [drift], resource_changes: [plan] }).drift).toEqual([]);
  });

  test("a changed rule whose revert replaces it is drift; a string value is quoted", () => {
    const before = { cidr_ipv4: "10.9.0.0/16", from_port: 5432, description: null };
    const after = { cidr_ipv4: "10.0.0.0/8", from_port: 5432, description: "changed" };
    const review = reviewPlan("prod-network", {
      resource_drift: [update("aws_vpc_security_group_ingress_rule.db", before, after)],
      resource_changes: [
        change("aws_vpc_security_group_ingress_rule.db", ["delete", "create"], {
          change: { actions: ["delete", "create"], before: after, after: before },
        }),
      ],
    });
    expect(review.drift[0].values).toEqual({ cidr_ipv4: '"10.9.0.0/16" -> "10.0.0.0/8"', description: 'null -> "changed"' });
  });

  test("tags changed outside Terraform are drift when the apply sets them back", () => {
    const review = reviewPlan("prod-network", {
      resource_drift: [update("aws_vpc.main", { tags: { Name: "a" } }, { tags: { Name: "b" } })],
      resource_changes: [update("aws_vpc.main", { tags: { Name: "b" } }, { tags: { Name: "a" } })],
    });
    expect(review.drift.map((d) => [d.address, d.changedAttributes, d.values])).toEqual([["aws_vpc.main", ["tags"], undefined]]);
  });

  test("a sensitive or credential-like value is named, never shown", () => {
    const sensitive = change("aws_db_instance.postgres", ["update"], {
      change: {
        actions: ["update"],
        before: { port: 5432, password: "do-not-print-1" },
        after: { port: 5433, password: "do-not-print-2" },
        before_sensitive: { port: true },
      },
    });
    const revert = update(
      "aws_db_instance.postgres",
      { port: 5433, password: "do-not-print-2" },
      { port: 5432, password: "do-not-print-1" },
    );
    const review = reviewPlan("prod-data", { resource_drift: [sensitive], resource_changes: [revert] });
    expect(review.drift[0].changedAttributes).toEqual(["password", "port"]);
    expect(review.drift[0].values).toBeUndefined();
    for (const text of [
      renderText([review], { mode: "drift", environment: "prod", exitCode: 2 }),
      renderMarkdown([review], { mode: "drift", environment: "prod", exitCode: 2 }),
    ]) {
      expect(text).toContain("password, port");
      expect(text).not.toContain("do-not-print");
      expect(text).not.toContain("5433");
    }
  });

  test("a stateful resource deleted outside Terraform is drift and flagged DANGER", () => {
    const gone = change("aws_sqs_queue.events", ["delete"], { change: { actions: ["delete"], before: {}, after: null } });
    const review = reviewPlan("prod-data", { resource_drift: [gone], resource_changes: [create("aws_sqs_queue.events")] });
    expect(review.drift).toEqual([expect.objectContaining({ action: "delete", danger: true })]);
    expect(renderText([review], { mode: "drift", environment: "prod", exitCode: 2 })).toContain(
      "  drift aws_sqs_queue.events  DANGER: deleted outside Terraform",
    );
  });

  test("outputs not yet applied are pending code changes, not drift", () => {
    const review = reviewPlan("s", { output_changes: { vpc_id: { actions: ["create"] }, db_port: { actions: ["no-op"] } } });
    expect(review.outputChanges).toEqual(["vpc_id"]);
    expect(driftExitCode([review])).toBe(0);
  });

  test("the drift report counts drift per stack and points pending code changes to npm run plan", () => {
    const pending = reviewPlan("prod-network", { resource_changes: [create("aws_subnet.c")] });
    const clean = reviewPlan("prod-access", {});
    const text = renderText([clean, pending, skippedStack("prod-tenants", "needs the SSM tunnel")], {
      mode: "drift",
      environment: "prod",
      exitCode: 0,
    });
    expect(text.split("\n")).toEqual([
      "Drift report: prod",
      "",
      "prod-access  no drift",
      "prod-network  no drift",
      "  (1 pending code change(s), not drift: npm run plan -- prod shows them)",
      "prod-tenants  skipped: needs the SSM tunnel",
      "",
      "result: no drift (exit 0)",
    ]);
    const md = renderMarkdown([clean, pending], { mode: "drift", environment: "prod", exitCode: 0 });
    expect(md).toContain("| `prod-network` | 0 | 1 pending code change(s), not drift |");
    expect(md).toContain("Pending code changes are not drift: `npm run plan -- prod` reviews them.");
  });

  test("a check that could not run is said before the result, in both reports", () => {
    const options = { mode: "drift" as const, environment: "prod", exitCode: 0, notes: ["rules were not looked for"] };
    expect(renderText([reviewPlan("prod-data", {})], options)).toContain("note: rules were not looked for\n\nresult: no drift (exit 0)");
    expect(renderMarkdown([reviewPlan("prod-data", {})], options)).toContain("_Note: rules were not looked for._");
  });

  test("the drift markdown lists each drifted resource with its attributes", () => {
    const review = reviewPlan("prod-observability", {
      resource_drift: [update("aws_cloudwatch_metric_alarm.cpu", { threshold: 70 }, { threshold: 95 })],
      resource_changes: [update("aws_cloudwatch_metric_alarm.cpu", { threshold: 95 }, { threshold: 70 })],
    });
    const md = renderMarkdown([review], { mode: "drift", environment: "prod", exitCode: 2 });
    expect(md).toContain("| `prod-observability` | 1 |  |");
    expect(md).toContain("- `aws_cloudwatch_metric_alarm.cpu`: threshold 70 -> 95");
  });
});

describe("exit codes", () => {
  const none = reviewPlan("prod-network", { resource_changes: [change("aws_vpc.main", ["no-op"])] });
  const changes = reviewPlan("prod-network", { resource_changes: [create("aws_vpc.main")] });
  const danger = reviewPlan("prod-data", { resource_changes: [destroy("aws_db_instance.main")] });
  const failed = failedStack("prod-access", "terraform plan failed");
  const skipped = skippedStack("prod-tenants", "needs the SSM tunnel");

  test("plan: 0 when nothing would change, skipped stacks included", () => {
    expect(planExitCode([none, skipped])).toBe(0);
  });

  test("plan: 2 when something would change", () => {
    expect(planExitCode([none, changes])).toBe(2);
  });

  test("plan: only output changes still count as changes", () => {
    expect(planExitCode([reviewPlan("s", { output_changes: { vpc_id: { actions: ["update"] } } })])).toBe(2);
  });

  test("plan: DANGER is 3 only with --fail-on-danger", () => {
    expect(planExitCode([changes, danger])).toBe(2);
    expect(planExitCode([changes, danger], { failOnDanger: true })).toBe(3);
  });

  test("plan: an error wins over DANGER, so an allow-destructive label never passes an incomplete review", () => {
    expect(planExitCode([danger, failed], { failOnDanger: true })).toBe(1);
  });

  test("drift: 0 none, 2 drift, 1 error", () => {
    const drifted = reviewPlan("prod-network", {
      resource_drift: [update("aws_vpc.main", { tags: {} }, { tags: { a: "b" } })],
      resource_changes: [update("aws_vpc.main", { tags: { a: "b" } }, { tags: {} })],
    });
    expect(driftExitCode([none, skipped])).toBe(0);
    expect(driftExitCode([none, drifted])).toBe(2);
    expect(driftExitCode([drifted, failed])).toBe(1);
  });
});

describe("renderers", () => {
  const review = reviewPlan("prod-data", PLAN);
  const reviews = [
    review,
    skippedStack("prod-tenants", "needs the SSM tunnel"),
    failedStack("prod-access", "terraform plan failed:\nAccessDenied"),
  ];
  const options = { mode: "plan" as const, environment: "prod", exitCode: 1 };

  test("markdown starts with the marker the workflow finds its comment by", () => {
    expect(renderMarkdown(reviews, options).startsWith(REVIEW_MARKER)).toBe(true);
  });

  test("markdown has one table row per stack with its counts", () => {
    const md = renderMarkdown(reviews, options);
    expect(md).toContain("| `prod-data` | 2 | 1 | 2 | 2 | 0 | **DANGER** |");
    expect(md).toMatch(/\| `prod-tenants` \|.*skipped: needs the SSM tunnel/);
    expect(md).toMatch(/\| `prod-access` \|.*\*\*error\*\*: terraform plan failed: \(below\)/);
  });

  test("markdown lists each replacement with its reason and forcing attributes, DANGER first in a caution block", () => {
    const md = renderMarkdown(reviews, options);
    expect(md).toContain("> **DANGER**: 2 stateful resource(s) would be destroyed or replaced.");
    expect(md).toContain(
      "- **DANGER** replace `aws_db_instance.main`: an attribute cannot be updated in place; forced by storage_encrypted, engine",
    );
    expect(md).toContain("- delete `aws_cloudwatch_metric_alarm.cpu`: its for_each key is gone");
  });

  test("markdown states the result and the exit code", () => {
    expect(renderMarkdown(reviews, options)).toContain("**Result: error: at least one stack could not be planned (exit 1)**");
  });

  test("a long list of creates is cut to fit a PR comment", () => {
    const many = reviewPlan("prod-network", { resource_changes: Array.from({ length: 100 }, (_, i) => create(`aws_subnet.s${i}`)) });
    const md = renderMarkdown([many], { ...options, exitCode: 2 });
    expect(md).toContain("<summary>Created: 100</summary>");
    expect(md).toContain("... and 40 more (see the job log)");
    expect(md).not.toContain("aws_subnet.s99`");
  });

  test("text lists replacements before updates and creates, each with its symbol", () => {
    const lines = renderText([review], { ...options, exitCode: 2 }).split("\n");
    const at = (needle: string) => lines.findIndex((l) => l.includes(needle));
    expect(lines[at("aws_db_instance.main")]).toMatch(/^ {2}-\/\+ aws_db_instance\.main {2}DANGER/);
    expect(at("aws_db_instance.main")).toBeLessThan(at("aws_security_group.db"));
    expect(at("aws_security_group.db")).toBeLessThan(at("aws_vpc.main"));
    expect(lines).toContain("prod-data  create 2  update 1  replace 2  delete 2  drift 0");
  });

  test("no attribute value from the plan reaches either report", () => {
    const secret = reviewPlan("prod-data", {
      resource_changes: [update("aws_db_instance.main", { password: "do-not-print-1" }, { password: "do-not-print-2" })],
    });
    for (const text of [renderText([secret], options), renderMarkdown([secret], options)]) {
      expect(text).toContain("password");
      expect(text).not.toContain("do-not-print");
    }
  });
});
