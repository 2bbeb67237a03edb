/**
 * Suppressions are written into each resource's "//" key through an override (cdktf has no API for
 * it): Terraform itself must still accept the stack.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { suppress } from "../../constructs/guardrails";
import { readManifest } from "../../scripts/lib/synth";
import { prepareTerraform } from "../../scripts/lib/terraform";
import { formatValidateReport, validateStack } from "../../scripts/lib/validate";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { testConfig } from "../helpers";
import { safeDatabase } from "./fixtures";

let outdir: string;
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "guardrails-validate-"));
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

test("a stack carrying suppression metadata passes terraform validate", async () => {
  const app = new App({ outdir });
  const stack = new EnvironmentStack(app, { config: testConfig(), layer: "data" });
  suppress(safeDatabase(stack, { publiclyAccessible: true }), "rds-private", "vendor BI tool reaches it over an allowlist");
  app.synth();
  const setup = prepareTerraform();
  const [synthesized] = readManifest(outdir);
  const result = await validateStack(synthesized, setup);
  if (!result.valid) throw new Error(formatValidateReport([result], setup));
  expect(result.valid).toBe(true);
}, 120_000);
