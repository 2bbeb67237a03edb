import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { configFiles, loadConfigs } from "../../config/load";
import { synthesize } from "../../scripts/lib/synth";
import { layersOf } from "../../stacks/environment-stack";

/** Every shipped config/*.json, whatever INFRA_CONFIG says in the test's environment. */
const SHIPPED = configFiles({});

describe("shipped environments", () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), "guardrails-shipped-"));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  test("include dev and prod", () => {
    expect(SHIPPED.map((f) => basename(f))).toEqual(expect.arrayContaining(["dev.json", "prod.json"]));
  });

  // synthesize() is what main.ts and the operator tools run: a guardrail violation throws from it.
  test.each(SHIPPED.map((f) => [basename(f), f]))("config/%s passes every guardrail", (_name, file) => {
    const environment = basename(file, ".json");
    const stacks = synthesize(outdir, loadConfigs([file]));
    expect(stacks.map((s) => s.name).sort()).toEqual(
      layersOf(loadConfigs([file])[0])
        .map((layer) => `${environment}-${layer}`)
        .sort(),
    );
  });
});
