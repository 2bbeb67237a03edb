/**
 * End to end over a real plan: the prod network stack is synthesized from config/prod.json,
 * planned by Terraform offline (local backend, no cloud), and the review read from its document.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { offlinePlan } from "../../scripts/lib/offline-plan";
import { planExitCode, renderMarkdown, renderText, reviewPlan, type ShowJsonPlan, type StackReview } from "../../scripts/lib/plan-review";
import { synthesize } from "../../scripts/lib/synth";
import { prepareTerraform } from "../../scripts/lib/terraform";
import { shippedConfig } from "../helpers";

let outdir: string;
let plan: ShowJsonPlan;
let review: StackReview;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "plan-review-offline-"));
  const network = synthesize(outdir, [shippedConfig("prod")]).find((s) => s.name === "prod-network")!;
  plan = (await offlinePlan(network, prepareTerraform())) as ShowJsonPlan;
  review = reviewPlan("prod-network", plan);
}, 300_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const creates = () => (plan.resource_changes ?? []).filter((c) => c.mode === "managed" && c.change.actions.join() === "create");

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
