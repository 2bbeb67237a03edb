/**
 * npm run status -- <env> [--parallel N]
 *
 * Per stack: deployed or not, its key outputs (RDS address, bastion id and state), and the next
 * command to run. Reads Terraform state only, at most N stacks at once (default: the core count),
 * and prints the report in deploy order; with no credentials or no state it says so plainly.
 * Exit 0 when the report could be made (whatever it says), 1 on a usage or config error.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config/load";
import type { Layer } from "../stacks/environment-stack";
import { loadEnvironment, parseOperatorArgs, UsageError } from "./lib/operator/cli";
import { formatStatus, readStackState } from "./lib/status";
import { synthesize } from "./lib/synth";
import { inParallel, prepareTerraform, terraform } from "./lib/terraform";

async function main(argv: readonly string[]): Promise<number> {
  let outdir: string | undefined;
  try {
    const args = parseOperatorArgs(argv, ["--parallel"]);
    const config = loadEnvironment(args.environment);
    // A scratch folder: status must not disturb cdktf.out/ while a deploy may be using it.
    outdir = mkdtempSync(join(tmpdir(), "infra-status-"));
    const stacks = synthesize(outdir, [config]);
    const setup = prepareTerraform();
    process.stdout.write(`reading the state of ${stacks.length} stacks...\n`);
    const states = await inParallel(stacks, args.parallel, (stack) =>
      readStackState(stack.name, stack.name.slice(config.environment.length + 1) as Layer, (args) => terraform(args, stack.dir, setup)),
    );
    process.stdout.write(`${formatStatus(config, states)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) process.stderr.write(`${err.message}\nusage: npm run status -- <env> [--parallel N]\n`);
    else if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  } finally {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
