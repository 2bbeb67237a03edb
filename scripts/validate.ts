/**
 * npm run validate [-- <stack>...]: synthesize, then `terraform validate` every stack offline.
 * Exit 0 when every stack is valid, 1 otherwise.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config/load";
import { synthesize } from "./lib/synth";
import { prepareTerraform } from "./lib/terraform";
import { formatValidateReport, validateStacks } from "./lib/validate";

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const outdir = mkdtempSync(join(tmpdir(), "infra-synth-"));
  try {
    const stacks = synthesize(outdir).filter((s) => only.length === 0 || only.includes(s.name));
    if (stacks.length === 0) {
      process.stderr.write(`no stack matches ${only.join(", ")}\n`);
      return 1;
    }
    const setup = prepareTerraform();
    const results = await validateStacks(stacks, setup);
    process.stdout.write(`${formatValidateReport(results, setup)}\n`);
    return results.every((r) => r.valid) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).stack}\n`);
    return 1;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main().then((code) => process.exit(code));
