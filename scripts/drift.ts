/**
 * npm run drift -- <env> [stack...] [--include-tenants] [--markdown <file>]
 *
 * `terraform plan -refresh-only` per stack: what changed outside Terraform since the last apply,
 * reported apart from pending code changes. Exit 0 no drift, 2 drift, 1 error. The tenants stack
 * needs the SSM tunnel, so it is skipped (and the report says so) unless --include-tenants.
 */
import { runReviewCommand } from "./lib/run-plan";

runReviewCommand("drift", process.argv.slice(2)).then((code) => process.exit(code));
