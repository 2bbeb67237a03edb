/**
 * A real `terraform plan` of prod-network against the real AWS provider, with no cloud: Terraform
 * itself builds the resource graph, evaluates every expression and reports what it would create.
 * The same plan document then goes through the plan review (`npm run plan`'s reader), end to end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { offlinePlan, type PlanDocument } from "../../scripts/lib/offline-plan";
import { planExitCode, renderMarkdown, renderText, reviewPlan, type ShowJsonPlan, type StackReview } from "../../scripts/lib/plan-review";
import { synthesize } from "../../scripts/lib/synth";
import { prepareTerraform } from "../../scripts/lib/terraform";
import { shippedStartupWebApp } from "../helpers";

let outdir: string;
let plan: PlanDocument;
let review: StackReview;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "offline-plan-test-"));
  const stack = synthesize(outdir, [shippedStartupWebApp("prod")]).find((s) => s.name === "prod-network");
  if (!stack) throw new Error("prod-network was not synthesized");
  plan = await offlinePlan(stack, prepareTerraform());
  review = reviewPlan("prod-network", plan as ShowJsonPlan);
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const changes = () => plan.resource_changes ?? [];

/** `{ aws_subnet: 4, ... }` from the planned changes. */
function countByType(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const change of changes()) counts[change.type] = (counts[change.type] ?? 0) + 1;
  return counts;
}

test("prod-network plans 29 resources, all to create", () => {
  expect(changes()).toHaveLength(29);
  for (const change of changes()) expect(change.change.actions).toEqual(["create"]);
});

test("the plan holds StartupWebApp's network, resource type by type", () => {
  expect(countByType()).toEqual({
    aws_vpc: 1,
    aws_subnet: 4,
    aws_internet_gateway: 1,
    aws_route_table: 2,
    aws_route: 1,
    aws_route_table_association: 4,
    aws_db_subnet_group: 1,
    aws_default_security_group: 1,
    aws_security_group: 3,
    aws_vpc_security_group_ingress_rule: 2,
    aws_vpc_security_group_egress_rule: 5,
    aws_cloudwatch_log_group: 1,
    aws_flow_log: 1,
    aws_iam_role: 1,
    aws_iam_role_policy: 1,
  });
});

test("planned addresses are the stable construct names operators see in plan output", () => {
  const addresses = changes().map((c) => c.address);
  for (const expected of [
    /^aws_vpc\.network_vpc_\w+$/,
    /^aws_subnet\.network_public-us-east-1a_\w+$/,
    /^aws_subnet\.network_private-us-east-1b_\w+$/,
    /^aws_security_group\.database-sg_group_\w+$/,
    /^aws_vpc_security_group_ingress_rule\.database-sg_from-bastion-sg-5432_\w+$/,
    /^aws_flow_log\.network_flow-log_\w+$/,
  ]) {
    expect(addresses).toContainEqual(expect.stringMatching(expected));
  }
});

test("the planned VPC and subnets carry the configured ranges", () => {
  const planned = (plan.planned_values as { root_module: { resources: { type: string; values: Record<string, unknown> }[] } }).root_module
    .resources;
  const ranges = (type: string) =>
    planned
      .filter((r) => r.type === type)
      .map((r) => r.values.cidr_block)
      .sort();
  expect(ranges("aws_vpc")).toEqual(["10.0.0.0/16"]);
  expect(ranges("aws_subnet")).toEqual(["10.0.1.0/24", "10.0.10.0/24", "10.0.11.0/24", "10.0.2.0/24"]);
});

describe("the plan review of that plan", () => {
  const creates = () =>
    ((plan as ShowJsonPlan).resource_changes ?? []).filter((c) => c.mode === "managed" && c.change.actions.join() === "create");

  test("every resource Terraform would create is counted, and nothing else", () => {
    expect(creates().length).toBeGreaterThan(0);
    expect(review.counts).toEqual({ create: creates().length, update: 0, replace: 0, delete: 0 });
  });

  test("the VPC and the four subnets of config/prod.json are among the creates", () => {
    const types = review.changes.map((c) => c.type);
    expect(types).toContain("aws_vpc");
    expect(types.filter((t) => t === "aws_subnet")).toHaveLength(4);
  });

  test("a first plan destroys nothing, so there is no DANGER and the exit code is 2 even with --fail-on-danger", () => {
    expect(review.changes.filter((c) => c.danger)).toEqual([]);
    expect(planExitCode([review], { failOnDanger: true })).toBe(2);
  });

  test("an offline plan has no drift: nothing was refreshed", () => {
    expect(review.drift).toEqual([]);
  });

  test("both reports list every create by address", () => {
    const options = { mode: "plan" as const, environment: "prod", exitCode: 2 };
    const text = renderText([review], options);
    const markdown = renderMarkdown([review], options);
    expect(markdown).toContain(`| \`prod-network\` | ${creates().length} | 0 | 0 | 0 | 0 |  |`);
    for (const c of creates()) expect(text).toContain(`+   ${c.address}`);
    // Markdown lists the first 60 of a kind (a PR comment's size limit), in plan order.
    for (const c of creates().slice(0, 60)) expect(markdown).toContain(`\`${c.address}\``);
  });
});
