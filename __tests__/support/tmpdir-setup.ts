/**
 * jest globalSetup: one temporary directory for the whole run, removed by tmpdir-teardown.ts.
 * cdktf's Testing.app() and Testing.synth() create a `cdktf.outdir.*` folder in os.tmpdir() for each
 * app and never delete it (one `npm test` used to leave ~450 behind, and an empty `mirror-*` folder
 * that misled a later lookup of the real provider mirror). Set here, before the workers start, TMPDIR
 * reaches every worker and every child process (terraform) they run.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): void {
  process.env.INFRA_SYSTEM_TMPDIR = tmpdir();
  process.env.TMPDIR = mkdtempSync(join(tmpdir(), "infra-jest-"));
}
