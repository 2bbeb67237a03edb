/**
 * npm run drift -- <env> [stack...] [--include-tenants] [--markdown <file>]
 *
 * A normal `terraform plan` per stack; drift is what its refresh found changed outside Terraform AND
 * its apply would set back: `<address>: <attribute> <before> -> <after>` per drifted resource.
 * Computed values that move by themselves (RDS latest_restorable_time), attributes the configuration
 * does not set, and configuration not yet deployed are not drift (scripts/lib/plan-review.ts says
 * why). Exit 0 no drift, 2 drift, 1 error. The tenants stack needs the SSM tunnel, so it is skipped
 * (and the report says so) unless --include-tenants.
 */
import { runReviewCommand } from "./lib/run-plan";

runReviewCommand("drift", process.argv.slice(2)).then((code) => process.exit(code));
