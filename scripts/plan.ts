/**
 * npm run plan -- <env> [stack...] [--fail-on-danger] [--include-tenants] [--markdown <file>]
 *
 * Synthesizes the environment, plans each stack against its real backend in dependency order and
 * prints a review: counts per stack, every replacement and deletion with its reason, DANGER on
 * stateful resources. Exit 0 no changes, 2 changes, 1 error, 3 DANGER with --fail-on-danger.
 * Planning the tenants stack (--include-tenants, or naming it) opens the SSM tunnel for the run,
 * starting a bastion kept stopped and stopping it again afterwards (scripts/lib/plan-tunnel.ts).
 */
import { configFiles, loadConfigs } from "../config/load";
import { planArguments, planWithTunnel } from "./lib/plan-tunnel";
import { runReviewCommand } from "./lib/run-plan";
import { TunnelPrerequisitesMissing } from "./lib/tunnel";

async function main(argv: readonly string[]): Promise<number> {
  const review = () => runReviewCommand("plan", argv);
  const { environment } = planArguments(argv);
  // A config that does not load, or an unknown environment: the review reports it with its usage.
  let config;
  try {
    config = loadConfigs(configFiles()).find((c) => c.environment === environment);
  } catch {
    return review();
  }
  if (!config) return review();
  try {
    return await planWithTunnel(config, argv, review, { onOutput: (line) => process.stderr.write(`  ${line}\n`) });
  } catch (err) {
    process.stderr.write(`${err instanceof TunnelPrerequisitesMissing ? err.message : ((err as Error).stack ?? err)}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
