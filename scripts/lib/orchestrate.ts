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
import { defaultParallelism, parseParallel, runGraph, waves } from "./schedule";
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

export type StackStep = Extract<Step, { kind: "stack" }>;

/**
 * One stack and the steps wrapped around it (the tunnel around the SQL layer): what runs as one unit,
 * side by side with other groups once the groups it waits for are done.
 */
export interface StepGroup {
  /** The stack this group deploys or destroys; also the group's id. */
  readonly id: string;
  /**
   * The stacks of this plan that must be done first: for deploy the stacks it depends on, for destroy
   * the stacks that depend on it, both from the synthesized stacks' dependencies (transitively, so
   * naming `network tenants` still deploys network first).
   */
  readonly after: readonly string[];
  readonly steps: readonly Step[];
}

export interface Plan {
  readonly action: Action;
  readonly environment: string;
  /** Groups in the order they may start: by level in the dependency graph, then deploy order. */
  readonly groups: readonly StepGroup[];
  /** Every step of `groups`, in that order. */
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

/** Every stack `stack` depends on, directly or through others, among `all`. */
function allDependencies(stack: SynthesizedStack, all: readonly SynthesizedStack[]): Set<string> {
  const byName = new Map(all.map((s) => [s.name, s]));
  const found = new Set<string>();
  const visit = (name: string): void => {
    for (const dep of byName.get(name)?.dependencies ?? []) {
      if (!found.has(dep)) {
        found.add(dep);
        visit(dep);
      }
    }
  };
  visit(stack.name);
  return found;
}

/**
 * The plan's groups, ordered by level in the graph (what can run together), then by `chosen`'s order.
 * Deploy waits for a stack's dependencies, destroy for its dependents; stacks not chosen are taken as
 * already there (deploy) or kept (destroy).
 */
function groupsOf(
  chosen: readonly SynthesizedStack[],
  all: readonly SynthesizedStack[],
  action: Action,
  stepsOf: (stack: SynthesizedStack) => Step[],
): StepGroup[] {
  const names = new Set(chosen.map((s) => s.name));
  const deps = new Map(chosen.map((s) => [s.name, allDependencies(s, all)]));
  const groups = chosen.map((stack) => ({
    id: stack.name,
    after:
      action === "deploy"
        ? [...deps.get(stack.name)!].filter((d) => names.has(d))
        : chosen.filter((other) => deps.get(other.name)!.has(stack.name)).map((other) => other.name),
    steps: stepsOf(stack),
  }));
  return waves(groups).flat();
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
  const groups = groupsOf(chosen, stacks, "deploy", (stack) => withTunnel(config, stack, "deploy"));
  return {
    action: "deploy",
    environment: config.environment,
    groups,
    steps: groups.flatMap((g) => g.steps),
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
  const groups = groupsOf(chosen, stacks, "destroy", (stack) => withTunnel(config, stack, "destroy"));
  return { action: "destroy", environment: env, groups, steps: groups.flatMap((g) => g.steps), refusal, nextSteps: notes };
}

/** A stack's step, inside the tunnel's steps when it is the SQL layer. */
function withTunnel(config: EnvironmentConfig, stack: SynthesizedStack, action: Action): Step[] {
  const step = stackStep(config, stack, action);
  if (step.kind !== "stack" || step.layer !== config.postgresAccess.layer) return [step];
  const tunnel = tunnelSteps(config);
  return [...tunnel.open, step, ...tunnel.close];
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
  /** At most this many stacks at once (`--parallel`). @default defaultParallelism() */
  readonly parallel?: number;
}

/** What `group` waits for, less what those wait for themselves: data waits for network, not also for state. */
function directlyAfter(group: StepGroup, groups: readonly StepGroup[]): string[] {
  const afterOf = new Map(groups.map((g) => [g.id, g.after]));
  return group.after.filter((a) => !group.after.some((b) => b !== a && afterOf.get(b)?.includes(a)));
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
  const parallel = options.parallel ?? defaultParallelism();
  const out = [
    `${plan.action} ${plan.environment}: dry run, nothing is executed. Every terraform command runs with TF_IN_AUTOMATION=1 and TF_INPUT=0.`,
    parallel === 1
      ? "One stack at a time (--parallel 1), in this order."
      : `Stacks marked "side by side" run at the same time, at most ${parallel} at once (--parallel); ` +
        "each stack starts as soon as the stacks it waits for are done.",
  ];
  const groupOf = new Map(plan.groups.flatMap((g) => g.steps.map((step) => [step, g] as const)));
  const waveOf = new Map(waves(plan.groups).flatMap((wave) => wave.map((g) => [g, wave] as const)));
  plan.steps.forEach((step, i) => {
    const n = `${String(i + 1).padStart(2)}.`;
    const group = groupOf.get(step);
    const wave = group && waveOf.get(group);
    if (parallel > 1 && wave && wave.length > 1 && group === wave[0] && step === group.steps[0]) {
      out.push(`    side by side: ${wave.map((g) => g.id).join(", ")}`);
    }
    switch (step.kind) {
      case "stack": {
        const tf = (args: readonly string[]): string =>
          `     ${commandLine(["terraform", `-chdir=${relative(cwd, step.dir) || "."}`, ...args])}`;
        const direct = group ? directlyAfter(group, plan.groups) : [];
        const waits = direct.length > 0 ? ` (waits for ${direct.join(", ")})` : "";
        out.push(`${n} ${step.stack}${waits}${step.note ? ` (${step.note})` : ""}`);
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
  /**
   * `stop` is aborted when another stack of the run failed: the terraform run then gets one SIGINT and
   * stops gracefully (state written, lock released). Never aborted for the operator's Ctrl-C, which
   * the terminal already delivered (a second SIGINT makes terraform quit at once).
   */
  terraform(args: readonly string[], dir: string, stop?: AbortSignal): Promise<RunResult>;
  /** An AWS CLI command; `stop` as for terraform. */
  command(argv: readonly string[], stop?: AbortSignal): Promise<RunResult>;
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
   * Aborted on the operator's first Ctrl-C: no further step starts (no init, plan or apply of any
   * stack, no tunnel), while `always` steps (closing the tunnel, stopping the bastion) still run.
   * Terraform runs already going get the same SIGINT from the terminal and stop gracefully.
   */
  readonly signal?: AbortSignal;
  /** At most this many stacks at once; 1 runs them one after another. @default defaultParallelism() */
  readonly parallel?: number;
}

/**
 * Before each step starts, a run logs one line `==> <step>` (STEP_MARK, then the step), so a person or
 * a test reading the output knows which step is about to begin; deploy writes it synchronously (on
 * Linux, stdout to a terminal or pipe is), before the step does anything. The steps are:
 *
 *   ==> <stack>: init [i/n]      ==> <stack>: plan [i/n]      ==> <stack>: apply [i/n]
 *   ==> start-bastion            ==> open-tunnel              ==> close-tunnel            ==> stop-bastion
 *
 * e.g. `==> prod-network: plan [2/6]`. When a stack or step that printed such a line ends, one line
 * `<== <stack>: done [i/n]` (END_MARK; `failed` or `stopped` instead of `done`) or `<== <step>: done`
 * says so: stacks run side by side, so the next `==>` line no longer marks where the previous ended.
 * start-bastion and open-tunnel first read the outputs they need (`terraform output` of the access and
 * data stacks). A Ctrl-C (SIGINT) delivered after any of these lines stops the run before the next
 * non-cleanup step of every stack; the run then ends with a line `<action> <env>: interrupted ...`
 * naming where, and deploy exits 130.
 *
 * To interrupt a run from a script, send SIGINT to its process group as a terminal does (`npm run`
 * does not pass on a SIGINT sent to npm alone), after a `==>` line: before the first one the process
 * is busy synthesizing, and tsx, which relays signals to the script, kills a script that does not take
 * the signal within about 60 ms (harmless then: nothing has started).
 */
export const STEP_MARK = "==> ";

/** Starts the line that says a stack or step ended (see STEP_MARK). */
export const END_MARK = "<== ";

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

/** How far a run got, shared by the stacks running side by side. */
interface RunState {
  /** A stack failed: nothing starts any more, and running terraform is asked to stop. */
  failed: boolean;
  /** Where the interrupt stopped the run: `before <step>` or `during <step>`. */
  interrupted?: string;
}

/**
 * The run's output: lines go straight out, except while an apply question is open, when other
 * stacks' lines wait until it is answered; questions are asked one at a time, each right after its plan.
 */
class RunConsole {
  private held: string[] | undefined;
  private turn: Promise<void> = Promise.resolve();

  constructor(private readonly runner: Runner) {}

  log(line: string): void {
    if (this.held) this.held.push(line);
    else this.runner.log(line);
  }

  /** Prints `preamble` and asks `question`, unless `halted()` says the run stopped while waiting its turn. */
  async ask(preamble: string, question: string, halted: () => boolean): Promise<boolean> {
    const previous = this.turn;
    let release = (): void => undefined;
    this.turn = new Promise((r) => (release = r));
    await previous;
    try {
      if (halted()) return false;
      this.runner.log(preamble);
      this.held = [];
      return await this.runner.confirm(question);
    } finally {
      const held = this.held ?? [];
      this.held = undefined;
      for (const line of held) this.runner.log(line);
      release();
    }
  }
}

/**
 * Runs `plan`; returns true when every step succeeded. Groups run side by side once the groups they
 * wait for are done, at most `options.parallel` at once. After a failure or an interrupt
 * (`options.signal`) no step starts anywhere, running terraform stops (a failure asks it to; an
 * interrupt reached it from the terminal), and only `always` steps run (closing the tunnel,
 * stopping the bastion), so nothing is left open.
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
  const out = new RunConsole(runner);
  const state: RunState = { failed: false };
  // Aborted at the first failure only: it asks the other stacks' terraform runs to stop.
  const failure = new AbortController();
  const stackSteps = plan.steps.filter((s): s is StackStep => s.kind === "stack");
  const position = new Map(stackSteps.map((s, i) => [s.stack, { done: i + 1, total: stackSteps.length }]));
  const context: GroupContext = { plan, runner, options, out, state, outputs, failure: failure.signal, position };

  const results = await runGraph(
    plan.groups,
    async (group) => {
      const ok = await runGroup(group, context);
      if (!ok && !state.failed && !state.interrupted) {
        state.failed = true;
        failure.abort();
      }
      return ok;
    },
    { limit: options.parallel ?? defaultParallelism(), signal: options.signal },
  );
  // The interrupt came between groups: the message names the first that never started.
  if (options.signal?.aborted && !state.interrupted) {
    const next = plan.groups.find((g) => results.get(g.id) === "not-run")?.steps[0];
    if (next) state.interrupted = `before ${stepName(next)}`;
  }
  if (state.interrupted) {
    runner.log(
      `${plan.action} ${plan.environment}: interrupted ${state.interrupted}; no later step ran except cleanup (closing the tunnel, stopping a bastion started for this run).`,
    );
    return false;
  }
  if (state.failed) {
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

interface GroupContext {
  readonly plan: Plan;
  readonly runner: Runner;
  readonly options: RunOptions;
  readonly out: RunConsole;
  readonly state: RunState;
  readonly outputs: (stack: string) => Promise<StackOutputs>;
  readonly failure: AbortSignal;
  readonly position: ReadonlyMap<string, { done: number; total: number }>;
}

/** One group's steps in order (the old sequential run, for one stack and its tunnel); true when all succeeded. */
async function runGroup(group: StepGroup, ctx: GroupContext): Promise<boolean> {
  const { runner, options, out, state, outputs } = ctx;
  let tunnel: { close(): Promise<void> } | undefined;
  let bastionStarted = false;
  let ok = true;
  /** True when `name` must not start: the run was interrupted, another stack failed, or this group did. */
  const halted = (name: string): boolean => {
    if (options.signal?.aborted) state.interrupted ??= `before ${name}`;
    return state.interrupted !== undefined || state.failed || !ok;
  };
  const mark = (name: string): void => out.log(`${STEP_MARK}${name}`);
  const end = (name: string, outcome: "done" | "failed" | "stopped", counter = ""): void =>
    out.log(`${END_MARK}${name}: ${outcome}${counter}`);

  for (const step of group.steps) {
    const always = step.kind === "close-tunnel" || step.kind === "stop-bastion";
    if (!always && halted(stepName(step))) continue;
    let current = stepName(step);
    let marked: string | undefined;
    try {
      switch (step.kind) {
        case "stack": {
          const result = await runStack(step, ctx, (phase) => {
            current = `${step.stack}: ${phase}`;
            return halted(current);
          });
          if (result !== "done") ok = false;
          break;
        }
        case "start-bastion":
          mark((marked = step.kind));
          out.log("starting the bastion (bastion.running is false) and waiting for its status checks");
          // Counted as started before the call returns: an interrupt may kill the CLI after EC2 took the
          // request, and stopping an instance that is already stopped does no harm.
          bastionStarted = true;
          for (const command of step.commands) await runCommand(command, runner, outputs, ctx.failure);
          break;
        case "stop-bastion":
          if (bastionStarted) {
            mark((marked = step.kind));
            out.log("stopping the bastion again (bastion.running is false)");
            await runCommand(step.command, runner, outputs);
            bastionStarted = false;
          }
          break;
        case "open-tunnel": {
          mark((marked = step.kind));
          const tunnelOptions = {
            bastionInstanceId: await resolveRefs(step.bastionInstanceId, outputs),
            host: await resolveRefs(step.host, outputs),
            remotePort: Number(await resolveRefs(step.remotePort, outputs)),
            localPort: step.localPort,
            region: step.region,
          };
          out.log(
            `opening the SSM tunnel: 127.0.0.1:${tunnelOptions.localPort} -> ${tunnelOptions.host}:${tunnelOptions.remotePort} via ${tunnelOptions.bastionInstanceId}`,
          );
          tunnel = await runner.openTunnel(tunnelOptions);
          break;
        }
        case "close-tunnel":
          if (tunnel) {
            mark((marked = step.kind));
            out.log("closing the tunnel");
            await tunnel.close();
            tunnel = undefined;
          }
          break;
      }
      if (marked) end(marked, "done");
    } catch (err) {
      out.log(`failed: ${(err as Error).message}`);
      if (marked) end(marked, "failed");
      ok = false;
    }
    // The interrupt reached this step's child process too (terraform, the aws CLI), which then failed.
    if (!always && options.signal?.aborted) state.interrupted ??= `during ${current}`;
  }
  return ok;
}

async function runCommand(
  command: readonly string[],
  runner: Runner,
  outputs: (stack: string) => Promise<StackOutputs>,
  stop?: AbortSignal,
): Promise<void> {
  const argv = await Promise.all(command.map((a) => resolveRefs(a, outputs)));
  const run = await runner.command(argv, stop);
  if (run.code !== 0) throw new Error(`${commandLine(argv)}\n${(run.stderr || run.stdout).trim()}`);
}

/**
 * init, plan and, when the plan has changes, apply of one stack. `halted(phase)` is asked before each
 * phase starts; true (the run was interrupted, or another stack failed) ends the step there. Ends
 * with an END_MARK line once it printed a STEP_MARK line.
 */
async function runStack(
  step: StackStep,
  ctx: GroupContext,
  halted: (phase: "init" | "plan" | "apply") => boolean,
): Promise<"done" | "failed" | "stopped"> {
  const { runner, out, options, state } = ctx;
  const action = ctx.plan.action;
  const { done, total } = ctx.position.get(step.stack)!;
  const counter = `[${done}/${total}]`;
  let started = false;
  const finish = (outcome: "done" | "failed" | "stopped"): "done" | "failed" | "stopped" => {
    if (started) out.log(`${END_MARK}${step.stack}: ${outcome} ${counter}`);
    return outcome;
  };
  const start = (phase: "init" | "plan" | "apply", detail = ""): boolean => {
    if (halted(phase)) {
      // Another stack failed (not an interrupt, whose own line says where the run stopped).
      if (started && state.failed && !state.interrupted)
        out.log(`${counter} ${step.stack}: stopped before ${phase} (another stack failed)`);
      return false;
    }
    started = true;
    out.log(`${STEP_MARK}${step.stack}: ${phase} ${counter}${detail}`);
    return true;
  };
  const fail = (what: string, run: RunResult): "done" | "failed" | "stopped" => {
    const detail = (run.stderr || run.stdout).trim();
    if (ctx.failure.aborted) {
      out.log(`${counter} ${step.stack}: terraform ${what} stopped (another stack failed)\n${detail}`);
      return finish("stopped");
    }
    out.log(`${counter} ${step.stack}: terraform ${what} failed\n${detail}`);
    return finish("failed");
  };
  if (!start("init")) return finish("stopped");
  const init = await runner.terraform(step.init, step.dir, ctx.failure);
  if (init.code !== 0) return fail("init", init);
  if (!start("plan")) return finish("stopped");
  const planRun = await runner.terraform(step.plan, step.dir, ctx.failure);
  const planFile = join(step.dir, step.planFile);
  try {
    if (planRun.code === 0) {
      out.log(`${counter} ${step.stack}: no changes`);
      return finish("done");
    }
    if (planRun.code !== 2) return fail("plan", planRun);
    const summary = planSummary(planRun.stdout);
    if (!options.yes) {
      const question = `${action === "destroy" ? "Destroy" : "Apply"} ${step.stack}? ${summary}`;
      const yes = await out.ask(planRun.stdout.trim(), question, () => halted("apply"));
      if (!yes) {
        // A Ctrl-C at the question (or while waiting to ask) is an interrupt, not a "no".
        if (halted("apply")) return finish("stopped");
        out.log(`${counter} ${step.stack}: not applied (answer was not yes; --yes applies without asking)`);
        // Nothing starts any more, but an apply already approved beside it is left to finish: a "no" is no error.
        state.failed = true;
        return finish("failed");
      }
    } else {
      out.log(planRun.stdout.trim());
    }
    if (!start("apply", ` (${summary})${step.layer === "data" && action === "deploy" ? ", RDS takes 10-15 minutes" : ""}`)) {
      return finish("stopped");
    }
    const began = Date.now();
    const apply = await runner.terraform(step.apply, step.dir, ctx.failure);
    if (apply.code !== 0) return fail("apply", apply);
    const minutes = ((Date.now() - began) / 60000).toFixed(1);
    out.log(`${counter} ${step.stack}: ${apply.stdout.match(/^((Apply|Destroy) complete!.*)$/m)?.[1] ?? "applied"} (${minutes} min)`);
    return finish("done");
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
  /** `--parallel N`: at most N stacks at once. @default defaultParallelism() */
  readonly parallel: number;
  readonly flags: ReadonlySet<string>;
}

/** An operator mistake on the command line: printed with the usage, exit 1. */
export class UsageError extends Error {}

/**
 * `<env> [layer...] [--flag...]`; unknown flags and layers are errors naming what is allowed. When
 * `allowedFlags` has `--parallel`, it takes a value: `--parallel N` or `--parallel=N`.
 */
export function parseOperatorArgs(
  argv: readonly string[],
  allowedFlags: readonly string[] = ["--dry-run", "--yes", "--parallel"],
): OperatorArgs {
  const rest: string[] = [];
  let parallel = defaultParallelism();
  const takesParallel = allowedFlags.includes("--parallel");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (takesParallel && (arg === "--parallel" || arg.startsWith("--parallel="))) {
      const value = arg === "--parallel" ? argv[++i] : arg.slice("--parallel=".length);
      try {
        parallel = parseParallel(value);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    } else rest.push(arg);
  }
  const allowed = allowedFlags.map((f) => (f === "--parallel" ? "--parallel N" : f));
  const flags = new Set(rest.filter((a) => a.startsWith("-")));
  for (const flag of flags) {
    if (!allowedFlags.includes(flag)) throw new UsageError(`unknown option ${flag} (allowed: ${allowed.join(", ")})`);
  }
  const [environment, ...layers] = rest.filter((a) => !a.startsWith("-"));
  if (!environment) throw new UsageError("name the environment: the base name of a config file, such as prod for config/prod.json");
  for (const layer of layers) {
    if (!(LAYERS as readonly string[]).includes(layer))
      throw new UsageError(`unknown stack layer "${layer}" (allowed: ${LAYERS.join(", ")})`);
  }
  return { environment, only: layers as Layer[], dryRun: flags.has("--dry-run"), yes: flags.has("--yes"), parallel, flags };
}

/** The validated config of one environment (config/<name>.json, or INFRA_CONFIG). */
export function loadEnvironment(name: string, env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const configs = loadConfigs(configFiles(env));
  const config = configs.find((c) => c.environment === name);
  if (!config) throw new UsageError(`no environment "${name}" (have: ${configs.map((c) => c.environment).join(", ")})`);
  return config;
}
