/**
 * Running synthesized stacks for `npm run upgrade-check`, in emulator mode: the previous release's
 * stacks applied, this release's planned against the state they left. Terraform runs through
 * scripts/lib/terraform.ts `terraform()`, with the emulator's override files beside each stack
 * (scripts/lib/emulator.ts), exactly as `npm run deploy` and `npm run plan` run it, but on folders
 * synthesized elsewhere (the previous release's code), which those commands do not take.
 *
 * A stack whose providers the mirror lacks (the SQL layer: postgresql) is run without them: their
 * resources are removed (scripts/lib/stub.ts, which lists them) and the stack's AWS resources (the
 * application secret's value) are still applied and planned, so their `moved` blocks are proven too.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { stubUnavailableProviders } from "./stub";
import type { SynthesizedStack } from "./synth";
import { providerAddress, terraform, type TerraformSetup } from "./terraform";
import { classifyPlan, type UpgradeChange, type UpgradePlanDocument } from "./upgrade-plan";

/** No single terraform command may run longer than this (an RDS create on moto takes about 3 minutes). */
export const COMMAND_TIMEOUT_MS = 20 * 60_000;

const PLAN_FILE = "upgrade.tfplan";

interface StackDocument {
  terraform?: {
    required_providers?: Record<string, { source?: string }>;
    backend?: Record<string, Record<string, unknown>>;
  };
  resource?: Record<string, Record<string, unknown>>;
}

function readStack(stack: SynthesizedStack): StackDocument {
  return JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8")) as StackDocument;
}

/**
 * Where a stack keeps its state: `s3://bucket/key` or `local:<path>`. A stack of this release that
 * took over a previous layer's state (stateKey) is matched to that layer's stack by it.
 */
export function stateLocation(document: StackDocument): string | undefined {
  const backend = document.terraform?.backend ?? {};
  if (backend.s3) return `s3://${String(backend.s3.bucket)}/${String(backend.s3.key)}`;
  // A local path is written relative to the checkout that synthesized it; emulator mode keeps every
  // local state in one folder by file name (scripts/lib/emulator.ts), so the file name is the place.
  if (backend.local) return `local:${basename(String(backend.local.path ?? "terraform.tfstate"))}`;
  return undefined;
}

export function stackStateLocation(stack: SynthesizedStack): string | undefined {
  return stateLocation(readStack(stack));
}

/** How many resources a synthesized stack declares. */
export function resourceCount(stack: SynthesizedStack): number {
  return Object.values(readStack(stack).resource ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
}

/**
 * Removes, in place, the blocks of providers `available` lacks (their addresses are returned, with
 * the providers); the stack folder must be a throwaway synthesis. Nothing removed: nothing written.
 */
export function withoutUnavailableProviders(
  stack: SynthesizedStack,
  available: ReadonlySet<string> | undefined,
): { stubbed: string[]; missingProviders: string[] } {
  if (!available) return { stubbed: [], missingProviders: [] };
  const document = readStack(stack);
  const result = stubUnavailableProviders(document as Record<string, unknown>, (p) => available.has(p));
  if (result.missingProviders.length === 0) return { stubbed: [], missingProviders: [] };
  // A reference to a removed resource became a variable (an output naming a database, say): it gets
  // a placeholder default, so apply and plan run unattended; the removed resources are reported.
  const variables = (result.document.variable ?? {}) as Record<string, Record<string, unknown>>;
  for (const name of Object.keys(result.variables)) variables[name] = { ...variables[name], default: "upgrade-check-placeholder" };
  writeFileSync(join(stack.dir, "cdk.tf.json"), `${JSON.stringify(result.document, null, 2)}\n`);
  return { stubbed: result.stubbed, missingProviders: result.missingProviders };
}

/** Every provider address a stack requires. */
export function requiredProviders(stack: SynthesizedStack): string[] {
  const required = readStack(stack).terraform?.required_providers ?? {};
  return Object.entries(required).map(([name, p]) => providerAddress(p.source ?? name));
}

export interface StepResult {
  readonly ok: boolean;
  readonly ms: number;
  /** The failing command's last lines, when not ok. */
  readonly problem?: string;
}

function bounded(signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

function lastLines(text: string, n = 15): string {
  const lines = text
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "");
  return lines.slice(-n).join("\n");
}

/** `terraform init` then `apply -auto-approve`, as deploy's apply of an approved plan does. */
export async function applyStack(stack: SynthesizedStack, setup: TerraformSetup, signal?: AbortSignal): Promise<StepResult> {
  const started = Date.now();
  const init = await terraform(["init", "-input=false", "-no-color", "-reconfigure"], stack.dir, setup, {}, bounded(signal));
  if (init.code !== 0) return { ok: false, ms: Date.now() - started, problem: `terraform init:\n${lastLines(init.stderr || init.stdout)}` };
  const apply = await terraform(
    ["apply", "-input=false", "-no-color", "-auto-approve", "-lock-timeout=120s"],
    stack.dir,
    setup,
    {},
    bounded(signal),
  );
  if (apply.code !== 0)
    return { ok: false, ms: Date.now() - started, problem: `terraform apply:\n${lastLines(apply.stderr || apply.stdout)}` };
  return { ok: true, ms: Date.now() - started };
}

export interface PlanResult extends StepResult {
  readonly changes: readonly UpgradeChange[];
  /** How long the apply of that plan took, when it was applied. */
  readonly applyMs?: number;
}

/**
 * `terraform init`, `plan -out`, `show -json`, then with `apply` the apply of that very plan (as deploy
 * applies the plan it showed), so the next stack is planned against this one's new outputs. The plan
 * file (it holds every value) is removed at once.
 */
export async function planUpgrade(
  stack: SynthesizedStack,
  setup: TerraformSetup,
  options: { readonly apply?: boolean; readonly signal?: AbortSignal } = {},
): Promise<PlanResult> {
  const signal = options.signal;
  const started = Date.now();
  const failed = (step: string, output: string): PlanResult => ({
    ok: false,
    ms: Date.now() - started,
    problem: `terraform ${step}:\n${lastLines(output)}`,
    changes: [],
  });
  const init = await terraform(["init", "-input=false", "-no-color", "-reconfigure"], stack.dir, setup, {}, bounded(signal));
  if (init.code !== 0) return failed("init", init.stderr || init.stdout);
  const planFile = join(stack.dir, PLAN_FILE);
  try {
    const plan = await terraform(
      ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", `-out=${PLAN_FILE}`],
      stack.dir,
      setup,
      {},
      bounded(signal),
    );
    // -detailed-exitcode: 0 no changes, 2 changes (outputs alone count: a later stack may read a new one).
    if (plan.code !== 0 && plan.code !== 2) return failed("plan", plan.stderr || plan.stdout);
    const show = await terraform(["show", "-json", "-no-color", PLAN_FILE], stack.dir, setup, {}, bounded(signal));
    if (show.code !== 0) return failed("show", show.stderr || show.stdout);
    const changes = classifyPlan(JSON.parse(show.stdout) as UpgradePlanDocument);
    const planned = Date.now() - started;
    if (!options.apply || plan.code === 0) return { ok: true, ms: planned, changes };
    const apply = await terraform(
      ["apply", "-input=false", "-no-color", "-lock-timeout=120s", PLAN_FILE],
      stack.dir,
      setup,
      {},
      bounded(signal),
    );
    const applyMs = Date.now() - started - planned;
    if (apply.code !== 0) return { ...failed("apply", apply.stderr || apply.stdout), ms: planned, changes, applyMs };
    return { ok: true, ms: planned, changes, applyMs };
  } finally {
    if (existsSync(planFile)) rmSync(planFile, { force: true });
  }
}
