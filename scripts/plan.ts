/**
 * npm run plan -- <env> [stack...] [--fail-on-danger] [--include-tenants] [--markdown <file>]
 *
 * Synthesizes the environment, plans each stack against its real backend in dependency order and
 * prints a review: counts per stack, every replacement and deletion with its reason, DANGER on
 * stateful resources. Exit 0 no changes, 2 changes, 1 error, 3 DANGER with --fail-on-danger.
 */
import { runReviewCommand } from "./lib/run-plan";

runReviewCommand("plan", process.argv.slice(2)).then((code) => process.exit(code));
