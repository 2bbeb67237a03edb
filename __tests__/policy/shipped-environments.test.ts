import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { synthesize } from "../../scripts/lib/synth";
import { shippedConfig } from "../helpers";

describe("shipped environments", () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), "guardrails-shipped-"));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  // synthesize() is what main.ts and the operator tools run: a guardrail violation throws from it.
  test.each(["dev", "prod"])("config/%s.json passes every guardrail", (name) => {
    const stacks = synthesize(outdir, [shippedConfig(name)]);
    expect(stacks.map((s) => s.name)).toEqual(
      ["state", "network", "data", "access", "observability", "tenants"].map((layer) => `${name}-${layer}`),
    );
  });
});
