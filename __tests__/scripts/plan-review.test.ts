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

describe("drift", () => {
  const drifted: ShowJsonPlan = {
    resource_changes: [],
    resource_drift: [
      update("aws_db_instance.main", { allocated_storage: 20, tags: {} }, { allocated_storage: 40, tags: {} }),
      change("aws_sqs_queue.events", ["delete"], { change: { actions: ["delete"], before: {}, after: null } }),
    ],
    output_changes: { vpc_id: { actions: ["create"] }, db_port: { actions: ["no-op"] } },
  };
  const review = reviewPlan("prod-data", drifted);

  test("out-of-band changes come from resource_drift, apart from pending changes", () => {
    expect(review.drift.map((d) => d.address)).toEqual(["aws_db_instance.main", "aws_sqs_queue.events"]);
    expect(review.changes).toEqual([]);
  });

  test("a drifted attribute is named", () => {
    expect(review.drift[0].changedAttributes).toEqual(["allocated_storage"]);
  });

  test("a stateful resource deleted outside Terraform is flagged DANGER", () => {
    expect(review.drift[1]).toMatchObject({ action: "delete", danger: true });
  });

  test("outputs not yet applied are pending code changes, not drift", () => {
    expect(review.outputChanges).toEqual(["vpc_id"]);
    expect(driftExitCode([reviewPlan("s", { output_changes: { vpc_id: { actions: ["create"] } } })])).toBe(0);
  });

  test("the text report names drift as changed or deleted outside Terraform", () => {
    const text = renderText([review], { mode: "drift", environment: "prod", exitCode: 2 });
    expect(text).toContain("drift aws_db_instance.main  (changed outside Terraform; attributes: allocated_storage)");
    expect(text).toContain("drift aws_sqs_queue.events  DANGER  (deleted outside Terraform)");
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
    const drifted = reviewPlan("prod-network", { resource_drift: [update("aws_vpc.main", { tags: {} }, { tags: { a: "b" } })] });
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
