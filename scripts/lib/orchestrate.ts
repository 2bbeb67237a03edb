/**
 * The step plan behind `npm run deploy` and `npm run destroy`: which commands run, in which order,
 * against which synthesized stack folder. Building the plan is pure (config + synthesized stacks in,
 * steps out), so `--dry-run` prints exactly what a real run executes and tests check it with no AWS.
 *
 * Terraform is driven directly in cdktf.out/stacks/<stack> (init, plan to a file, apply that file)
 * rather than through `cdktf deploy`: the tenants stack must run between opening and closing an SSM
 * tunnel, every step must be printable as a command for --dry-run, and plan files give a reviewable
 * "this is what will change" before each apply. cdktf deploy would synthesize again, hide the
 * commands, and run every stack without room for the tunnel in between.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { configFiles, loadConfigs } from "../../config/load";
import type { EnvironmentConfig } from "../../config/schema";
import { LAYERS, layersOf, type Layer } from "../../stacks/environment-stack";
import type { StackOutputs } from "./outputs";
import type { SynthesizedStack } from "./synth";
import type { RunResult } from "./terraform";
import type { TunnelOptions } from "./tunnel";

export type Action = "deploy" | "destroy";

/** Written in a step where a deployed stack's output is needed: `<prod-access.bastion_instance_id>`. */
export type OutputRef = `<${string}.${string}>`;

export type { TunnelOptions } from "./tunnel";

export type Step =
  | {
      readonly kind: "stack";
      readonly stack: string;
      readonly layer: Layer;
      readonly dir: string;
      readonly init: readonly string[];
      /** Exit code 0: nothing to do; 2: changes, apply them (after asking, unless --yes). */
      readonly plan: readonly string[];
      readonly apply: readonly string[];
      readonly planFile: string;
      readonly note?: string;
    }
  | {
      /** AWS CLI commands that start a stopped bastion and wait until SSM can reach it. */
      readonly kind: "start-bastion";
      readonly commands: readonly (readonly string[])[];
    }
  | {
      /** Stops the bastion again; runs after a failure too, but only when it was started. */
      readonly kind: "stop-bastion";
      readonly command: readonly string[];
      readonly always: true;
    }
  | {
      readonly kind: "open-tunnel";
      readonly bastionInstanceId: OutputRef;
      readonly host: OutputRef;
      readonly remotePort: OutputRef;
      readonly localPort: number;
      readonly region: string;
    }
  | { readonly kind: "close-tunnel"; readonly always: true };

export interface Plan {
  readonly action: Action;
  readonly environment: string;
  readonly steps: readonly Step[];
  /** Set when the plan must not run at all: the reason and the way out. */
  readonly refusal?: string;
  /** Printed after a successful deploy; may hold output references, resolved when possible. */
  readonly nextSteps: readonly string[];
}

export interface PlanOptions {
  /** Deploy or destroy only these layers (in their fixed order). @default every layer */
  readonly only?: readonly Layer[];
  /** The guardrails' verdict for destroy (scripts/lib/protection.ts `destroyRefusal`). */
  readonly destroyRefusal?: (config: EnvironmentConfig) => string | undefined;
  /** Terraform variables an operator sets for the tenants stack (Stripe, SMTP), from its synthesized JSON. */
  readonly operatorVariables?: readonly string[];
}

const INIT = ["init", "-input=false", "-no-color"];

const ref = (stack: string, output: string): OutputRef => `<${stack}.${output}>`;

/** The stacks of `config`'s environment, in deploy order, limited to `only`. */
function environmentStacks(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], only?: readonly Layer[]): SynthesizedStack[] {
  const chosen = layersOf(config).filter((layer) => !only || only.length === 0 || only.includes(layer));
  return chosen.map((layer) => {
    const name = `${config.environment}-${layer}`;
    const stack = stacks.find((s) => s.name === name);
    if (!stack) throw new Error(`stack ${name} was not synthesized (synthesized: ${stacks.map((s) => s.name).join(", ") || "none"})`);
    return stack;
  });
}

function stackStep(config: EnvironmentConfig, stack: SynthesizedStack, action: Action): Step {
  const layer = stack.name.slice(config.environment.length + 1) as Layer;
  const planFile = `${action}.tfplan`;
  const destroy = action === "destroy" ? ["-destroy"] : [];
  const note =
    layer === "state" && config.state.stateStackBackend === "local"
      ? `local backend: terraform.${stack.name}.tfstate in the repository root; README, operations, says how to move it into the bucket`
      : undefined;
  return {
    kind: "stack",
    stack: stack.name,
    layer,
    dir: stack.dir,
    init: INIT,
    // Another run holding the lock gets two minutes to finish before this one gives up.
    plan: ["plan", ...destroy, "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", `-out=${planFile}`],
    apply: ["apply", "-input=false", "-no-color", "-lock-timeout=120s", planFile],
    planFile,
    ...(note ? { note } : {}),
  };
}

/** Why the application's SQL layer cannot reach the database, or undefined when it can (the schema refuses this too). */
function tunnelProblem(config: EnvironmentConfig): string | undefined {
  const { connection, section } = config.postgresAccess;
  if (connection !== "tunnel" || config.bastion.enabled) return undefined;
  return (
    `${section}.connection is "tunnel" but bastion.enabled is false: nothing can reach the database. ` +
    `Set bastion.enabled: true, or ${section}.connection: "direct" when running from inside the VPC.`
  );
}

/** The stack that talks to PostgreSQL as its master user: StartupWebApp's tenants, SafeBucket's database. */
function isSqlLayer(config: EnvironmentConfig, stack: { name: string }): boolean {
  return stack.name === `${config.environment}-${config.postgresAccess.layer}`;
}

/**
 * The AWS CLI commands that start a stopped bastion and wait until SSM can reach it, and the one that
 * stops it again (deploy's steps; `npm run tunnel` and `npm run plan` use them too).
 */
export function bastionPowerCommands(region: string, instanceId: string): { start: string[][]; stop: string[] } {
  return {
    start: [
      ["aws", "ec2", "start-instances", "--region", region, "--instance-ids", instanceId],
      // Status checks pass after boot, by which time the SSM agent has registered.
      ["aws", "ec2", "wait", "instance-status-ok", "--region", region, "--instance-ids", instanceId],
    ],
    stop: ["aws", "ec2", "stop-instances", "--region", region, "--instance-ids", instanceId],
  };
}

/** Opening the tunnel (starting a stopped bastion first), and the steps that undo it, always run. */
function tunnelSteps(config: EnvironmentConfig): { open: Step[]; close: Step[] } {
  if (config.postgresAccess.connection !== "tunnel") return { open: [], close: [] };
  const env = config.environment;
  const bastion = ref(`${env}-access`, "bastion_instance_id");
  const open: Step[] = [];
  const close: Step[] = [{ kind: "close-tunnel", always: true }];
  if (!config.bastion.running) {
    // bastion.running: false keeps it stopped between sessions; SSM needs it running, so start it
    // for the tenants step and stop it again afterwards, also when that step fails.
    const power = bastionPowerCommands(config.region, bastion);
    open.push({ kind: "start-bastion", commands: power.start });
    close.push({ kind: "stop-bastion", command: power.stop, always: true });
  }
  open.push({
    kind: "open-tunnel",
    bastionInstanceId: bastion,
    host: ref(`${env}-data`, "db_instance_address"),
    remotePort: ref(`${env}-data`, "db_instance_port"),
    localPort: config.postgresAccess.tunnelPort,
    region: config.region,
  });
  return { open, close };
}

/** state, network, data, access, observability; tunnel; tenants; close the tunnel. */
export function deployPlan(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], options: PlanOptions = {}): Plan {
  const chosen = environmentStacks(config, stacks, options.only);
  const needsTunnel = chosen.some((s) => isSqlLayer(config, s));
  const refusal = needsTunnel ? tunnelProblem(config) : undefined;
  const steps: Step[] = [];
  for (const stack of chosen) {
    const step = stackStep(config, stack, "deploy");
    if (step.kind === "stack" && step.layer === config.postgresAccess.layer) {
      const tunnel = tunnelSteps(config);
      steps.push(...tunnel.open, step, ...tunnel.close);
    } else steps.push(step);
  }
  return {
    action: "deploy",
    environment: config.environment,
    steps,
    refusal,
    nextSteps: nextSteps(config, options.operatorVariables ?? []),
  };
}

/**
 * The reverse: tenants through the tunnel first, network last. The state stack is destroyed only
 * when named (`npm run destroy -- <env> state`): its bucket holds every stack's state history and
 * must be emptied by hand first (it is never force-destroyed), and while the stack keeps its own
 * state in that bucket Terraform could not record deleting it.
 */
export function destroyPlan(config: EnvironmentConfig, stacks: readonly SynthesizedStack[], options: PlanOptions = {}): Plan {
  const env = config.environment;
  const named = (options.only ?? []).length > 0;
  let chosen = environmentStacks(config, stacks, options.only).reverse();
  const notes: string[] = [];
  if (!named) {
    chosen = chosen.filter((s) => !s.name.endsWith("-state"));
    notes.push(
      `${env}-state (the state bucket ${config.state.bucket}) is kept. To remove it too: empty the bucket, old versions included, ` +
        `then npm run destroy -- ${env} state (README, operations: teardown).`,
    );
  } else if (config.state.stateStackBackend === "s3" && chosen.some((s) => s.name.endsWith("-state"))) {
    chosen = chosen.filter((s) => !s.name.endsWith("-state"));
    notes.push(
      `${env}-state is left in place: its state lives in the bucket it would delete. Move it back first ` +
        `(state.stateStackBackend: "local", then terraform init -migrate-state; README, operations), then destroy it.`,
    );
  }
  const refusal = options.destroyRefusal?.(config) ?? (chosen.some((s) => isSqlLayer(config, s)) ? tunnelProblem(config) : undefined);
  const steps: Step[] = [];
  for (const stack of chosen) {
    const step = stackStep(config, stack, "destroy");
    if (step.kind === "stack" && step.layer === config.postgresAccess.layer) {
      const tunnel = tunnelSteps(config);
      steps.push(...tunnel.open, step, ...tunnel.close);
    } else steps.push(step);
  }
  return { action: "destroy", environment: env, steps, refusal, nextSteps: notes };
}

/** What an operator does after the first deploy: confirm e-mails, set the values only they know, connect. */
function nextSteps(config: EnvironmentConfig, operatorVariables: readonly string[]): string[] {
  const env = config.environment;
  const lines: string[] = [];
  if (config.monitoring.alarmEmails.length > 0) {
    lines.push(
      `Confirm the alarm e-mails: ${config.monitoring.alarmEmails.join(", ")} each received "AWS Notification - Subscription Confirmation"; ` +
        `until the link in it is clicked no alarm arrives. Check with:`,
      `  aws sns list-subscriptions-by-topic --region ${config.region} --topic-arn ${ref(`${env}-observability`, "sns_topic_arn")} ` +
        `--query "Subscriptions[].[Endpoint,SubscriptionArn]" --output text   (PendingConfirmation = not yet)`,
    );
  } else {
    lines.push(`No alarm e-mail is configured (monitoring.alarmEmails is empty): alarms reach nobody.`);
  }
  if (operatorVariables.length > 0) {
    // The SQL layer writes the whole secret document, write-only, only when its version changes.
    const { layer, credentialsVersionKey } = config.postgresAccess;
    lines.push(
      `Set the values only you know (${config.application === "safebucket" ? "SMTP" : "Stripe, SMTP"}): export ALL of these in your shell (never in a file of this repository), ` +
        `raise ${credentialsVersionKey} in the config, then deploy the ${layer} stack. Any variable not exported is written as its ` +
        `PLACEHOLDER; the generated credentials are regenerated in the same step.`,
      ...operatorVariables.map((v) => `  export TF_VAR_${v}=...`),
      `  npm run deploy -- ${env} ${layer}`,
    );
  }
  lines.push(`Application secret: ${config.postgresAccess.appSecretName} (${ref(`${env}-data`, "app_secret_arn")}).`);
  if (config.bastion.enabled) {
    lines.push(
      `Connect with psql: npm run tunnel -- ${env}, then psql "host=127.0.0.1 port=${config.postgresAccess.tunnelPort} sslmode=require ..."`,
    );
  }
  lines.push(`See what is deployed and what it costs: npm run status -- ${env}; npm run cost -- ${env}`);
  return lines;
}

// ---------------------------------------------------------------- printing (--dry-run)

export interface FormatOptions {
  /** Paths are printed relative to this folder. @default process.cwd() */
  readonly cwd?: string;
  /** The tunnel's own command line (scripts/lib/tunnel.ts `tunnelCommand`). */
  readonly tunnelCommand?: (options: TunnelOptions) => { command: string; args: readonly string[] };
}

/** Quotes an argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./<>-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const commandLine = (argv: readonly string[]): string => argv.map(shellQuote).join(" ");

/** The exact commands of `plan`, numbered, as --dry-run prints them. */
export function formatPlan(plan: Plan, options: FormatOptions = {}): string {
  const cwd = options.cwd ?? process.cwd();
  if (plan.refusal) return `${plan.action} ${plan.environment}: refused\n${plan.refusal}`;
  const out = [
    `${plan.action} ${plan.environment}: dry run, nothing is executed. Every terraform command runs with TF_IN_AUTOMATION=1 and TF_INPUT=0.`,
  ];
  plan.steps.forEach((step, i) => {
    const n = `${String(i + 1).padStart(2)}.`;
    switch (step.kind) {
      case "stack": {
        const tf = (args: readonly string[]): string =>
          `     ${commandLine(["terraform", `-chdir=${relative(cwd, step.dir) || "."}`, ...args])}`;
        out.push(`${n} ${step.stack}${step.note ? ` (${step.note})` : ""}`);
        out.push(tf(step.init), tf(step.plan), `${tf(step.apply)}   # only when the plan has changes; asks first unless --yes`);
        break;
      }
      case "start-bastion":
        out.push(
          `${n} start the bastion (bastion.running is false) and wait for its status checks`,
          ...step.commands.map((c) => `     ${commandLine(c)}`),
        );
        break;
      case "stop-bastion":
        out.push(`${n} stop the bastion again (always once started, also after a failure)`, `     ${commandLine(step.command)}`);
        break;
      case "open-tunnel": {
        out.push(`${n} open the SSM tunnel to the database on 127.0.0.1:${step.localPort}`);
        if (options.tunnelCommand) {
          const c = options.tunnelCommand({
            bastionInstanceId: step.bastionInstanceId,
            host: step.host,
            // Shown as its placeholder; the real run passes the deployed port.
            remotePort: step.remotePort as unknown as number,
            localPort: step.localPort,
            region: step.region,
          });
          out.push(`     ${commandLine([c.command, ...c.args])}`);
        }
        break;
      }
      case "close-tunnel":
        out.push(`${n} close the tunnel (always, also after a failure)`);
        break;
    }
  });
  if (plan.nextSteps.length > 0)
    out.push("", plan.action === "deploy" ? "then prints the next steps:" : "note:", ...plan.nextSteps.map((l) => `  ${l}`));
  out.push("", "<stack.output> stands for that deployed stack's output, read when the step runs.");
  return out.join("\n");
}

// ---------------------------------------------------------------- running

/** Everything a run touches outside this module, injected so tests need no AWS and no terraform. */
export interface Runner {
  terraform(args: readonly string[], dir: string): Promise<RunResult>;
  command(argv: readonly string[]): Promise<RunResult>;
  outputs(stack: string): Promise<StackOutputs>;
  openTunnel(options: TunnelOptions): Promise<{ close(): Promise<void> }>;
  /** Asks a yes/no question; false when nobody can answer. */
  confirm(question: string): Promise<boolean>;
  log(line: string): void;
}

export interface RunOptions {
  /** Apply every plan without asking. */
  readonly yes?: boolean;
  /**
   * Aborted on the operator's first Ctrl-C: no further step starts (no init, plan or apply of a
   * later stack, no tunnel), while `always` steps (closing the tunnel, stopping the bastion) still run.
   * A terraform run already going gets the same SIGINT from the terminal and stops gracefully.
   */
  readonly signal?: AbortSignal;
}

/**
 * Before each step starts, a run logs one line `==> <step>` (STEP_MARK, then the step), so a person or
 * a test reading the output knows which step is about to begin; deploy writes it synchronously (on
 * Linux, stdout to a terminal or pipe is), before the step does anything. The steps are:
 *
 *   ==> <stack>: init [i/n]      ==> <stack>: plan [i/n]      ==> <stack>: apply [i/n]
 *   ==> start-bastion            ==> open-tunnel              ==> close-tunnel            ==> stop-bastion
 *
 * e.g. `==> prod-network: plan [2/6]`. start-bastion and open-tunnel first read the outputs they need
 * (`terraform output` of the access and data stacks). A Ctrl-C (SIGINT) delivered after any of these
 * lines stops the run before the next non-cleanup step; the run then ends with a line
 * `<action> <env>: interrupted ...` naming where, and deploy exits 130.
 *
 * To interrupt a run from a script, send SIGINT to its process group as a terminal does (`npm run`
 * does not pass on a SIGINT sent to npm alone), after a `==>` line: before the first one the process
 * is busy synthesizing, and tsx, which relays signals to the script, kills a script that does not take
 * the signal within about 60 ms (harmless then: nothing has started).
 */
export const STEP_MARK = "==> ";

/** The name of a step as its `==>` line and the interrupt message give it. */
function stepName(step: Step): string {
  return step.kind === "stack" ? `${step.stack}: init` : step.kind;
}

/** Replaces each `<stack.output>` in `text` with that output; throws when it is missing. */
export async function resolveRefs(text: string, outputs: (stack: string) => Promise<StackOutputs>): Promise<string> {
  let result = text;
  for (const match of text.matchAll(/<([a-z0-9-]+)\.([a-z0-9_]+)>/g)) {
    const [whole, stack, name] = match;
    const value = (await outputs(stack))[name];
    if (value === undefined || value === null || value === "") {
      throw new Error(`${stack} has no output ${name}: deploy ${stack} first (npm run status shows what is deployed)`);
    }
    result = result.replace(whole, String(value));
  }
  return result;
}

/** `Plan: 3 to add, 0 to change, 1 to destroy.` from terraform's plan output. */
export function planSummary(stdout: string): string {
  return stdout.match(/^(Plan: .*)$/m)?.[1] ?? "changes pending";
}

/**
 * Runs `plan`; returns true when every step succeeded. After a failure or an interrupt
 * (`options.signal`) only `always` steps run (closing the tunnel, stopping the bastion), so nothing is
 * left open.
 */
export async function runPlan(plan: Plan, runner: Runner, options: RunOptions = {}): Promise<boolean> {
  if (plan.refusal) {
    runner.log(`${plan.action} ${plan.environment}: refused\n${plan.refusal}`);
    return false;
  }
  const cache = new Map<string, Promise<StackOutputs>>();
  const outputs = (stack: string): Promise<StackOutputs> => {
    if (!cache.has(stack)) cache.set(stack, runner.outputs(stack));
    return cache.get(stack)!;
  };
  let tunnel: { close(): Promise<void> } | undefined;
  let bastionStarted = false;
  let failed = false;
  /** Where the interrupt stopped the run: `before <step>` or `during <step>`. */
  let interrupted: string | undefined;
  const stopBefore = (name: string): boolean => {
    if (options.signal?.aborted) interrupted ??= `before ${name}`;
    return interrupted !== undefined;
  };
  const mark = (name: string): void => runner.log(`${STEP_MARK}${name}`);
  const total = plan.steps.filter((s) => s.kind === "stack").length;
  let done = 0;

  for (const step of plan.steps) {
    const always = step.kind === "close-tunnel" || step.kind === "stop-bastion";
    if (!always && (failed || stopBefore(stepName(step)))) continue;
    let current = stepName(step);
    try {
      switch (step.kind) {
        case "stack": {
          done++;
          const ok = await runStack(step, { done, total }, plan.action, runner, options, (phase) => {
            current = `${step.stack}: ${phase}`;
            return stopBefore(current);
          });
          if (!ok) failed = true;
          break;
        }
        case "start-bastion":
          mark(step.kind);
          runner.log("starting the bastion (bastion.running is false) and waiting for its status checks");
          // Counted as started before the call returns: an interrupt may kill the CLI after EC2 took the
          // request, and stopping an instance that is already stopped does no harm.
          bastionStarted = true;
          for (const command of step.commands) await runCommand(command, runner, outputs);
          break;
        case "stop-bastion":
          if (bastionStarted) {
            mark(step.kind);
            runner.log("stopping the bastion again (bastion.running is false)");
            await runCommand(step.command, runner, outputs);
            bastionStarted = false;
          }
          break;
        case "open-tunnel": {
          mark(step.kind);
          const options = {
            bastionInstanceId: await resolveRefs(step.bastionInstanceId, outputs),
            host: await resolveRefs(step.host, outputs),
            remotePort: Number(await resolveRefs(step.remotePort, outputs)),
            localPort: step.localPort,
            region: step.region,
          };
          runner.log(
            `opening the SSM tunnel: 127.0.0.1:${options.localPort} -> ${options.host}:${options.remotePort} via ${options.bastionInstanceId}`,
          );
          tunnel = await runner.openTunnel(options);
          break;
        }
        case "close-tunnel":
          if (tunnel) {
            mark(step.kind);
            runner.log("closing the tunnel");
            await tunnel.close();
            tunnel = undefined;
          }
          break;
      }
    } catch (err) {
      runner.log(`failed: ${(err as Error).message}`);
      failed = true;
    }
    // The interrupt reached this step's child process too (terraform, the aws CLI), which then failed.
    if (!always && options.signal?.aborted) interrupted ??= `during ${current}`;
  }
  if (interrupted) {
    runner.log(
      `${plan.action} ${plan.environment}: interrupted ${interrupted}; no later step ran except cleanup (closing the tunnel, stopping a bastion started for this run).`,
    );
    return false;
  }
  if (failed) {
    runner.log(`${plan.action} ${plan.environment}: stopped after a failure (see above); nothing after it ran except cleanup.`);
    return false;
  }
  runner.log(`${plan.action} ${plan.environment}: done.`);
  if (plan.nextSteps.length > 0) {
    runner.log("\nNext steps:");
    for (const line of plan.nextSteps) runner.log(`  ${await resolveRefs(line, outputs).catch(() => line)}`);
  }
  return true;
}

async function runCommand(command: readonly string[], runner: Runner, outputs: (stack: string) => Promise<StackOutputs>): Promise<void> {
  const argv = await Promise.all(command.map((a) => resolveRefs(a, outputs)));
  const run = await runner.command(argv);
  if (run.code !== 0) throw new Error(`${commandLine(argv)}\n${(run.stderr || run.stdout).trim()}`);
}

/**
 * init, plan and, when the plan has changes, apply of one stack. `stopBefore(phase)` is asked before
 * each phase starts; true (the run was interrupted) ends the step there, as a failure.
 */
async function runStack(
  step: Extract<Step, { kind: "stack" }>,
  position: { done: number; total: number },
  action: Action,
  runner: Runner,
  options: RunOptions,
  stopBefore: (phase: "init" | "plan" | "apply") => boolean,
): Promise<boolean> {
  const counter = `[${position.done}/${position.total}]`;
  const start = (phase: "init" | "plan" | "apply", detail = ""): boolean => {
    if (stopBefore(phase)) return false;
    runner.log(`${STEP_MARK}${step.stack}: ${phase} ${counter}${detail}`);
    return true;
  };
  const fail = (what: string, run: RunResult): false => {
    runner.log(`${counter} ${step.stack}: terraform ${what} failed\n${(run.stderr || run.stdout).trim()}`);
    return false;
  };
  if (!start("init")) return false;
  const init = await runner.terraform(step.init, step.dir);
  if (init.code !== 0) return fail("init", init);
  if (!start("plan")) return false;
  const planRun = await runner.terraform(step.plan, step.dir);
  const planFile = join(step.dir, step.planFile);
  try {
    if (planRun.code === 0) {
      runner.log(`${counter} ${step.stack}: no changes`);
      return true;
    }
    if (planRun.code !== 2) return fail("plan", planRun);
    runner.log(planRun.stdout.trim());
    const summary = planSummary(planRun.stdout);
    if (!options.yes && !(await runner.confirm(`${action === "destroy" ? "Destroy" : "Apply"} ${step.stack}? ${summary}`))) {
      // A Ctrl-C at the question is an interrupt, not a "no".
      if (stopBefore("apply")) return false;
      runner.log(`${counter} ${step.stack}: not applied (answer was not yes; --yes applies without asking)`);
      return false;
    }
    if (!start("apply", ` (${summary})${step.layer === "data" && action === "deploy" ? ", RDS takes 10-15 minutes" : ""}`)) return false;
    const started = Date.now();
    const apply = await runner.terraform(step.apply, step.dir);
    if (apply.code !== 0) return fail("apply", apply);
    const minutes = ((Date.now() - started) / 60000).toFixed(1);
    runner.log(`${counter} ${step.stack}: ${apply.stdout.match(/^((Apply|Destroy) complete!.*)$/m)?.[1] ?? "applied"} (${minutes} min)`);
    return true;
  } finally {
    // A plan file can hold sensitive values in clear text: never leave it behind.
    if (existsSync(planFile)) rmSync(planFile, { force: true });
  }
}

/** Terraform variables of a synthesized stack that only an operator can supply (sensitive or ephemeral). */
export function operatorVariables(stack: SynthesizedStack | undefined): string[] {
  if (!stack) return [];
  const file = join(stack.dir, "cdk.tf.json");
  if (!existsSync(file)) return [];
  const document = JSON.parse(readFileSync(file, "utf8")) as { variable?: Record<string, { sensitive?: boolean; ephemeral?: boolean }> };
  return Object.entries(document.variable ?? {})
    .filter(([, v]) => v.sensitive === true || v.ephemeral === true)
    .map(([name]) => name)
    .sort();
}

// ---------------------------------------------------------------- command line

export interface OperatorArgs {
  readonly environment: string;
  readonly only: readonly Layer[];
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly flags: ReadonlySet<string>;
}

/** An operator mistake on the command line: printed with the usage, exit 1. */
export class UsageError extends Error {}

/** `<env> [layer...] [--flag...]`; unknown flags and layers are errors naming what is allowed. */
export function parseOperatorArgs(argv: readonly string[], allowedFlags: readonly string[] = ["--dry-run", "--yes"]): OperatorArgs {
  const flags = new Set(argv.filter((a) => a.startsWith("-")));
  for (const flag of flags) {
    if (!allowedFlags.includes(flag)) throw new UsageError(`unknown option ${flag} (allowed: ${allowedFlags.join(", ")})`);
  }
  const [environment, ...layers] = argv.filter((a) => !a.startsWith("-"));
  if (!environment) throw new UsageError("name the environment: the base name of a config file, such as prod for config/prod.json");
  for (const layer of layers) {
    if (!(LAYERS as readonly string[]).includes(layer))
      throw new UsageError(`unknown stack layer "${layer}" (allowed: ${LAYERS.join(", ")})`);
  }
  return { environment, only: layers as Layer[], dryRun: flags.has("--dry-run"), yes: flags.has("--yes"), flags };
}

/** The validated config of one environment (config/<name>.json, or INFRA_CONFIG). */
export function loadEnvironment(name: string, env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const configs = loadConfigs(configFiles(env));
  const config = configs.find((c) => c.environment === name);
  if (!config) throw new UsageError(`no environment "${name}" (have: ${configs.map((c) => c.environment).join(", ")})`);
  return config;
}
