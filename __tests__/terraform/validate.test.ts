/**
 * Terraform itself accepts every shipped stack against the real provider schema, offline.
 * Resources of providers missing from the mirror are stubbed and must be listed, never dropped silently.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize, type SynthesizedStack } from "../../scripts/lib/synth";
import { prepareTerraform, type TerraformSetup } from "../../scripts/lib/terraform";
import { formatValidateReport, validateStacks, type ValidateResult } from "../../scripts/lib/validate";

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
