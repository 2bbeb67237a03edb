/**
 * Running real plans against each stack's real backend, for `npm run plan` and `npm run drift`:
 * `terraform init`, `terraform plan -detailed-exitcode -out`, `terraform show -json`, each turned into
 * a StackReview (scripts/lib/plan-review.ts). A plan only reads the other stacks' state, so the
 * stacks of an environment are planned side by side (`--parallel N`, default the core count); the
 * review is printed once all are done, in deploy order.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, configFiles, loadConfigs } from "../../config/load";
import { classifyFailure } from "./outputs";
import {
  driftExitCode,
  EXIT,
  failedStack,
  planExitCode,
  renderMarkdown,
  renderText,
  reviewPlan,
  skippedStack,
  unchangedStack,
  type ReviewMode,
  type ShowJsonPlan,
  type StackReview,
} from "./plan-review";
import { synthesize, type SynthesizedStack } from "./synth";
import { declaresRules, RULE_TYPES, unmanagedRuleDrift, withDrift } from "./unmanaged-rules";
import { defaultParallelism, parseParallel } from "./schedule";
import { inParallel, prepareTerraform, terraform, type TerraformSetup } from "./terraform";
import { OVERRIDE_FILE } from "./emulator";

const PLAN_FILE = "review.tfplan";

/** A stack's review and, when it could be planned, the plan document (held in memory only). */
export interface PlannedStack {
  readonly review: StackReview;
  readonly plan?: ShowJsonPlan;
}

/**
 * Plans one stack against its real backend; never throws for a Terraform failure, reports it instead.
 * Plan and drift both run a normal plan: drift is what its refresh found changed AND what its apply
 * would set back (plan-review.ts, `driftOf`), which a `-refresh-only` plan cannot tell (it has no
 * `resource_changes`, and lists every computed value that moved, such as an RDS instance's
 * latest_restorable_time, on every run).
 */
export async function planStack(stack: SynthesizedStack, setup: TerraformSetup): Promise<PlannedStack> {
  const failed = (step: string, output: string): PlannedStack => ({
    review: failedStack(stack.name, explainFailure(stack.name, step, output)),
  });
  const init = await terraform(["init", "-input=false", "-no-color", "-reconfigure"], stack.dir, setup);
  if (init.code !== 0) return failed("init", init.stderr || init.stdout);

  const planArgs = ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", `-out=${PLAN_FILE}`];
  const plan = await terraform(planArgs, stack.dir, setup);
  // -detailed-exitcode: 0 no changes, 2 changes, 1 error.
  if (plan.code !== 0 && plan.code !== 2) return failed("plan", plan.stderr || plan.stdout);

  const document = JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8")) as { resource?: Record<string, unknown> };
  if (!needsPlanDocument(plan.code, document)) {
    rmSync(join(stack.dir, PLAN_FILE), { force: true });
    return { review: unchangedStack(stack.name) };
  }
  try {
    const show = await terraform(["show", "-json", "-no-color", PLAN_FILE], stack.dir, setup);
    if (show.code !== 0) return failed("show", show.stderr || show.stdout);
    const shown = JSON.parse(show.stdout) as ShowJsonPlan;
    return { review: reviewPlan(stack.name, shown), plan: shown };
  } finally {
    // The saved plan holds every attribute value, secrets included: it never outlives its review.
    rmSync(join(stack.dir, PLAN_FILE), { force: true });
  }
}

/**
 * Whether a plan must be read back with `terraform show -json`, which loads the AWS provider's schema
 * again (about 2 CPU seconds a stack). Not when the plan found nothing to change (exit 0): no change
 * means no drift either (drift is what an apply would set back), so its review is `unchangedStack`.
 * Except for a stack holding security groups or rules: the environment-wide check for rules added by
 * hand reads their refreshed state from the plan (scripts/lib/unmanaged-rules.ts).
 */
export function needsPlanDocument(planExitCode: number, stackDocument: { resource?: Record<string, unknown> }): boolean {
  if (planExitCode !== 0) return true;
  return Object.keys(stackDocument.resource ?? {}).some((type) => type === "aws_security_group" || RULE_TYPES.includes(type));
}

/** A failed terraform step as a few lines an operator can act on. */
export function explainFailure(stack: string, step: string, output: string): string {
  const classified = classifyFailure(stack, output);
  if (classified.reason !== "terraform-error") return `terraform ${step}: ${classified.message.slice(stack.length + 2)}`;
  const lines = output
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "");
  return `terraform ${step} failed:\n${lines.slice(0, 15).join("\n")}${lines.length > 15 ? "\n..." : ""}`;
}

/** The tenants stack talks to PostgreSQL through the bastion's SSM port forward. */
export function needsTunnel(stack: SynthesizedStack): boolean {
  if (stack.name.endsWith("-tenants")) return true;
  const document = JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8")) as { provider?: Record<string, unknown> };
  return document.provider?.postgresql !== undefined;
}

/** The state file of a stack on a local backend, when this checkout does not have it (e.g. in CI). */
export function missingLocalState(stack: SynthesizedStack): string | undefined {
  type Backend = { terraform?: { backend?: { local?: { path?: string } } } };
  const read = (file: string): Backend | undefined =>
    existsSync(join(stack.dir, file)) ? (JSON.parse(readFileSync(join(stack.dir, file), "utf8")) as Backend) : undefined;
  // An override file's backend block replaces the stack's whole (Terraform's override rules): the
  // emulator mode's override moves the local state out of the repository (scripts/lib/emulator.ts).
  const documents = [read("cdk.tf.json"), read(OVERRIDE_FILE)].filter((d): d is Backend => d?.terraform?.backend !== undefined);
  const path = documents.at(-1)?.terraform?.backend?.local?.path;
  return path !== undefined && !existsSync(path) ? path : undefined;
}

export interface Selection {
  /** Stacks to plan, in deploy order. */
  readonly planned: SynthesizedStack[];
  /** Stacks left out, with the reason, in deploy order. */
  readonly skipped: StackReview[];
}

/**
 * Which of an environment's stacks to plan. `requested` names stacks (`prod-data` or `data`); a stack
 * named there is always planned. Otherwise the tenants stack is left out unless `includeTenants`
 * (it needs the tunnel), and so is a local-backend stack whose state file is not here (planning it
 * would show everything as new).
 */
export function selectStacks(
  stacks: readonly SynthesizedStack[],
  environment: string,
  requested: readonly string[],
  options: { includeTenants?: boolean } = {},
): Selection {
  const names = requested.map((r) => (r.startsWith(`${environment}-`) ? r : `${environment}-${r}`));
  const unknown = names.filter((n) => !stacks.some((s) => s.name === n));
  if (unknown.length > 0) {
    throw new UsageError(`stacks: one of ${stacks.map((s) => s.name).join(", ")} (got ${unknown.join(", ")})`);
  }
  const planned: SynthesizedStack[] = [];
  const skipped: StackReview[] = [];
  for (const stack of stacks) {
    const named = names.includes(stack.name);
    if (names.length > 0 && !named) continue;
    const localState = missingLocalState(stack);
    if (!named && needsTunnel(stack) && !options.includeTenants) {
      skipped.push(
        skippedStack(
          stack.name,
          `needs the SSM tunnel to the database: add --include-tenants (it opens the tunnel for the run, starting a stopped bastion)`,
        ),
      );
    } else if (!named && localState) {
      skipped.push(
        skippedStack(
          stack.name,
          `local backend and no state file in this checkout (${localState}); once migrated (state.stateStackBackend: s3) it is planned here too`,
        ),
      );
    } else {
      planned.push(stack);
    }
  }
  return { planned, skipped };
}

/**
 * Adds security group rules nobody declared to the drift of their group's stack (scripts/lib/unmanaged-rules.ts),
 * when every stack that declares rules was planned; otherwise returns a note saying the check did not run.
 */
export function checkUnmanagedRules(
  stacks: readonly SynthesizedStack[],
  plans: readonly { stack: string; plan: ShowJsonPlan }[],
  reviews: Map<string, StackReview>,
): string[] {
  const ruleStacks = stacks.filter((s) => declaresRules(JSON.parse(readFileSync(join(s.dir, "cdk.tf.json"), "utf8")) as object));
  const missing = ruleStacks.filter((s) => !plans.some((p) => p.stack === s.name)).map((s) => s.name);
  if (missing.length > 0) {
    return [`security group rules added outside Terraform were not looked for: not planned, and declaring rules: ${missing.join(", ")}`];
  }
  for (const [stack, extra] of unmanagedRuleDrift(plans)) {
    const review = reviews.get(stack);
    if (review) reviews.set(stack, withDrift(review, extra));
  }
  return [];
}

/** A mistake in the command line, reported without a stack trace. */
export class UsageError extends Error {}

const USAGE: Record<ReviewMode, string> = {
  plan: "usage: npm run plan -- <env> [stack...] [--fail-on-danger] [--include-tenants] [--markdown <file>] [--parallel N]",
  drift: "usage: npm run drift -- <env> [stack...] [--include-tenants] [--markdown <file>] [--parallel N]",
};

/**
 * Plans `stacks` at most `parallel` at once, starting them in the given (deploy) order; the result
 * keeps that order whatever finishes first. `progress` hears each stack as it starts.
 */
export function planStacks(
  stacks: readonly SynthesizedStack[],
  parallel: number,
  plan: (stack: SynthesizedStack) => Promise<PlannedStack>,
  progress: (stack: SynthesizedStack) => void = () => undefined,
): Promise<PlannedStack[]> {
  return inParallel(stacks, parallel, (stack) => {
    progress(stack);
    return plan(stack);
  });
}

/**
 * The whole command: parse arguments, synthesize the environment, plan its stacks side by side,
 * print the plain-text review in deploy order (progress goes to stderr), write the Markdown review
 * when asked, and return the exit code.
 */
export async function runReviewCommand(mode: ReviewMode, argv: readonly string[]): Promise<number> {
  let outdir: string | undefined;
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        "fail-on-danger": { type: "boolean", default: false },
        "include-tenants": { type: "boolean", default: false },
        markdown: { type: "string" },
        parallel: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE[mode]}\n`);
      return 0;
    }
    if (mode === "drift" && values["fail-on-danger"]) throw new UsageError("--fail-on-danger is a plan option");
    let parallel = defaultParallelism();
    if (values.parallel !== undefined) {
      try {
        parallel = parseParallel(values.parallel);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    }
    const [environment, ...requested] = positionals;
    const configs = loadConfigs(configFiles());
    const config = configs.find((c) => c.environment === environment);
    if (!config)
      throw new UsageError(`environment: one of ${configs.map((c) => c.environment).join(", ")} (got ${environment ?? "nothing"})`);

    outdir = mkdtempSync(join(tmpdir(), `infra-${mode}-`));
    const stacks = synthesize(outdir, [config]);
    const { planned, skipped } = selectStacks(stacks, environment, requested, { includeTenants: values["include-tenants"] });
    const setup = prepareTerraform();
    const byName = new Map<string, StackReview>(skipped.map((r) => [r.stack, r]));
    const plans: { stack: string; plan: ShowJsonPlan }[] = [];
    const results = await planStacks(
      planned,
      parallel,
      (stack) => planStack(stack, setup),
      (stack) => process.stderr.write(`${mode === "plan" ? "planning" : "checking drift of"} ${stack.name} ...\n`),
    );
    planned.forEach((stack, i) => {
      byName.set(stack.name, results[i].review);
      if (results[i].plan) plans.push({ stack: stack.name, plan: results[i].plan });
    });
    const notes = checkUnmanagedRules(stacks, plans, byName);
    const reviews = stacks.map((s) => byName.get(s.name)).filter((r): r is StackReview => r !== undefined);

    const exitCode = mode === "plan" ? planExitCode(reviews, { failOnDanger: values["fail-on-danger"] }) : driftExitCode(reviews);
    const options = { mode, environment, exitCode, notes };
    process.stdout.write(`${renderText(reviews, options)}\n`);
    if (values.markdown) writeFileSync(values.markdown, `${renderMarkdown(reviews, options)}\n`);
    return exitCode;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n${err instanceof UsageError ? `${USAGE[mode]}\n` : ""}`);
    } else if (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`${err.message}\n${USAGE[mode]}\n`);
    } else {
      process.stderr.write(`${(err as Error).stack ?? err}\n`);
    }
    return EXIT.error;
  } finally {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  }
}
