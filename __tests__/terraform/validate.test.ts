/**
 * Terraform itself accepts every shipped stack against the real provider schema, offline.
 * Resources of providers missing from the mirror are stubbed and must be listed, never dropped silently.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize, type SynthesizedStack } from "../../scripts/lib/synth";
import { prepareTerraform, type TerraformSetup } from "../../scripts/lib/terraform";
import { formatValidateReport, validateStack, validateStacks, validateTogether, type ValidateResult } from "../../scripts/lib/validate";

let outdir: string;
let setup: TerraformSetup;
let stacks: SynthesizedStack[];
let results: ValidateResult[];

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "validate-test-"));
  stacks = synthesize(outdir);
  setup = prepareTerraform();
  results = await validateStacks(stacks, setup);
}, 600_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

test("every shipped stack passes terraform validate", () => {
  const failed = results.filter((r) => !r.valid);
  if (failed.length > 0) throw new Error(formatValidateReport(failed, setup));
  expect(results.map((r) => r.stack).sort()).toEqual(stacks.map((s) => s.name).sort());
});

test("every stubbed address is named in the report", () => {
  const report = formatValidateReport(results, setup);
  for (const address of results.flatMap((r) => r.stubbed)) expect(report).toContain(address);
});

test("validating stacks together still pins each error on its own stack", async () => {
  const dir = mkdtempSync(join(tmpdir(), "validate-together-"));
  const stackDir = (name: string, resource: Record<string, unknown>) => {
    const path = join(dir, name);
    mkdirSync(path);
    const document = {
      terraform: { required_providers: { aws: { source: "aws", version: "5.100.0" } } },
      provider: { aws: [{ region: "us-east-1" }] },
      resource: { aws_sqs_queue: { q: resource } },
    };
    writeFileSync(join(path, "cdk.tf.json"), JSON.stringify(document));
    return { name, dir: path, dependencies: [] };
  };
  const bad = stackDir("bad", { name: "q", no_such_argument: 1 });
  const results = await validateTogether([stackDir("good", { name: "q" }), bad], setup);
  // the one-stack path, used when stacks cannot share an init, finds the same error
  const alone = await validateStack(bad, setup);
  rmSync(dir, { recursive: true, force: true });
  expect(alone.valid).toBe(false);
  expect(results?.map((r) => [r.stack, r.valid])).toEqual([
    ["good", true],
    ["bad", false],
  ]);
  expect(results?.[1].diagnostics[0].summary).toMatch(/Extraneous JSON object property/);
}, 120_000);
