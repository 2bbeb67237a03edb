/**
 * npm run cost -- <env> [--free-tier]
 *
 * A monthly estimate of what the environment's synthesized stacks ask for, priced from
 * scripts/prices.json (us-east-1 on-demand; other regions are marked approximate) by one pricer per
 * resource type (scripts/lib/cost/registry.ts). No AWS call.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config/load";
import { estimateCost } from "./lib/cost/estimate";
import { readStackDocuments } from "./lib/cost/model";
import { formatCostTable } from "./lib/cost/table";
import { loadEnvironment, parseOperatorArgs, UsageError } from "./lib/operator/cli";
import { synthesize } from "./lib/synth";

function main(argv: readonly string[]): number {
  let outdir: string | undefined;
  try {
    const args = parseOperatorArgs(argv, ["--free-tier"]);
    const config = loadEnvironment(args.environment);
    outdir = mkdtempSync(join(tmpdir(), "infra-cost-"));
    const stacks = synthesize(outdir, [config]);
    const estimate = estimateCost(readStackDocuments(stacks), { freeTier: args.flags.has("--free-tier") });
    process.stdout.write(`${formatCostTable(estimate, config.environment)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) process.stderr.write(`${err.message}\nusage: npm run cost -- <env> [--free-tier]\n`);
    else if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  } finally {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
}

process.exit(main(process.argv.slice(2)));
