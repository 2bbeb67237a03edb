/**
 * Which stacks `npm run plan` / `npm run drift` plan, and how a failed Terraform step is explained.
 * Stacks here are folders with a hand-written cdk.tf.json: no synth, no terraform.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reviewPlan, skippedStack, unchangedStack } from "../../scripts/lib/plan-review";
import { explainFailure, needsPlanDocument, planStacks, selectStacks, UsageError, type PlannedStack } from "../../scripts/lib/run-plan";
import type { SynthesizedStack } from "../../scripts/lib/synth";

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), "run-plan-test-"))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function stack(name: string, document: object = { terraform: { backend: { s3: { bucket: "b" } } } }): SynthesizedStack {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify(document));
  return { name, dir, dependencies: [] };
}

function environment(): SynthesizedStack[] {
  const localState = join(root, "terraform.prod-state.tfstate");
  return [
    stack("prod-state", { terraform: { backend: { local: { path: localState } } } }),
    stack("prod-network"),
    stack("prod-data"),
    stack("prod-tenants", { provider: { postgresql: [{}] }, terraform: { backend: { s3: { bucket: "b" } } } }),
  ];
}

const names = (s: { name: string }[]) => s.map((x) => x.name);

test("by default every stack is planned except tenants (tunnel) and a local state that is not here", () => {
  const { planned, skipped } = selectStacks(environment(), "prod", []);
  expect(names(planned)).toEqual(["prod-network", "prod-data"]);
  expect(skipped.map((s) => s.stack)).toEqual(["prod-state", "prod-tenants"]);
});

test("an emulator override that moves the local state is where the state stack's state is looked for", () => {
  const stacks = environment();
  const moved = join(root, "emulator-state", "terraform.prod-state.tfstate");
  mkdirSync(join(root, "emulator-state"), { recursive: true });
  writeFileSync(join(stacks[0].dir, "emulator_override.tf.json"), JSON.stringify({ terraform: { backend: { local: { path: moved } } } }));
  try {
    expect(selectStacks(stacks, "prod", []).skipped.find((s) => s.stack === "prod-state")?.note).toContain(moved);
    writeFileSync(moved, "{}");
    expect(names(selectStacks(stacks, "prod", []).planned)).toContain("prod-state");
  } finally {
    rmSync(join(stacks[0].dir, "emulator_override.tf.json"), { force: true });
  }
});

test("the tenants stack is skipped with a note that says how to include it", () => {
  const tenants = selectStacks(environment(), "prod", []).skipped.find((s) => s.stack === "prod-tenants")!;
  expect(tenants.status).toBe("skipped");
  expect(tenants.note).toContain("--include-tenants");
  expect(tenants.note).toContain("opens the tunnel");
});

test("--include-tenants plans the tenants stack", () => {
  expect(names(selectStacks(environment(), "prod", [], { includeTenants: true }).planned)).toContain("prod-tenants");
});

test("a stack using the postgresql provider needs the tunnel whatever its name", () => {
  const stacks = [stack("prod-extra", { provider: { postgresql: [{}] } })];
  expect(selectStacks(stacks, "prod", []).skipped.map((s) => s.stack)).toEqual(["prod-extra"]);
});

test("a local-backend stack whose state file exists is planned", () => {
  const path = join(root, "present.tfstate");
  writeFileSync(path, "{}");
  const stacks = [stack("prod-state2", { terraform: { backend: { local: { path } } } })];
  expect(names(selectStacks(stacks, "prod", []).planned)).toEqual(["prod-state2"]);
});

test("stacks named on the command line, by layer or full name, are the only ones planned, even tenants", () => {
  const { planned, skipped } = selectStacks(environment(), "prod", ["data", "prod-tenants"]);
  expect(names(planned)).toEqual(["prod-data", "prod-tenants"]);
  expect(skipped).toEqual([]);
});

test("an unknown stack name is a usage error listing the stacks there are", () => {
  expect(() => selectStacks(environment(), "prod", ["netwrok"])).toThrow(UsageError);
  expect(() => selectStacks(environment(), "prod", ["netwrok"])).toThrow(/one of prod-state, prod-network.*\(got prod-netwrok\)/);
});

test("a credentials failure is explained in one actionable line", () => {
  const message = explainFailure("prod-network", "init", "Error: No valid credential sources found\n\nPlease see https://...");
  expect(message).toBe("terraform init: no usable AWS credentials (set AWS_PROFILE or run `aws sso login`)");
});

test("any other failure keeps Terraform's first lines", () => {
  const output = ["Error: Error acquiring the state lock", "", ...Array.from({ length: 30 }, (_, i) => `line ${i}`)].join("\n");
  const message = explainFailure("prod-network", "plan", output);
  expect(message.split("\n")[1]).toBe("Error: Error acquiring the state lock");
  expect(message.split("\n")).toHaveLength(17);
  expect(message.endsWith("...")).toBe(true);
});

test("stacks are planned side by side, at most --parallel at once, and reported in deploy order", async () => {
  const stacks = environment();
  const finish = new Map<string, () => void>();
  const started: string[] = [];
  let running = 0;
  let most = 0;
  const plan = (stack: SynthesizedStack): Promise<PlannedStack> => {
    running++;
    most = Math.max(most, running);
    return new Promise((resolve) =>
      finish.set(stack.name, () => {
        running--;
        resolve({ review: skippedStack(stack.name, "planned") });
      }),
    );
  };
  const settle = () => new Promise((r) => setImmediate(r));
  const done = planStacks(stacks, 2, plan, (stack) => started.push(stack.name));
  await settle();
  expect(started).toEqual(["prod-state", "prod-network"]);
  // the later stack finishes first; the report order does not change
  finish.get("prod-network")!();
  await settle();
  expect(started).toEqual(["prod-state", "prod-network", "prod-data"]);
  for (const name of ["prod-data", "prod-state"]) {
    finish.get(name)!();
    await settle();
  }
  finish.get("prod-tenants")!();
  const results = await done;
  expect(results.map((r) => r.review.stack)).toEqual(["prod-state", "prod-network", "prod-data", "prod-tenants"]);
  expect(most).toBe(2);
});

describe("reading a plan back with show -json", () => {
  const plain = { resource: { aws_s3_bucket: {}, aws_kms_key: {} } };
  test("is skipped only for a plan that changes nothing in a stack without security groups or rules", () => {
    expect(needsPlanDocument(0, plain)).toBe(false);
    expect(needsPlanDocument(0, {})).toBe(false);
  });
  test("is needed when the plan has changes or drift to show", () => {
    expect(needsPlanDocument(2, plain)).toBe(true);
  });
  test.each(["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule", "aws_security_group_rule"])(
    "is needed for a stack holding %s, whose refreshed state the check for hand-added rules reads",
    (type) => expect(needsPlanDocument(0, { resource: { [type]: {} } })).toBe(true),
  );
  test("an unchanged stack reads exactly as the review of a plan whose changes are all no-ops", () => {
    const noOps = {
      resource_changes: [
        { address: "aws_s3_bucket.b", type: "aws_s3_bucket", mode: "managed", change: { actions: ["no-op"], before: {}, after: {} } },
      ],
      output_changes: { bucket: { actions: ["no-op"] } },
    };
    expect(unchangedStack("dev-state")).toEqual(reviewPlan("dev-state", noOps as never));
  });
});
