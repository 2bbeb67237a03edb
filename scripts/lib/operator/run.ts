/**
 * Runs a plan (plan.ts): stacks side by side as far as their dependencies and `--parallel` allow,
 * one apply question at a time, the `==>`/`<==` step lines, and the cleanup steps (closing the
 * tunnel, stopping a started bastion) that run after a failure or an interrupt too. Everything
 * outside this module (terraform, the AWS CLI, the tunnel, the terminal) comes in through a Runner.
 */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { StackOutputs } from "../outputs";
import { defaultParallelism, runGraph } from "../schedule";
import type { RunResult } from "../terraform";
import type { TunnelOptions } from "../tunnel";
import { commandLine, planSummary } from "./format";
import type { Plan, StackStep, Step, StepGroup } from "./plan";

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
