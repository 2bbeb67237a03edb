/**
 * One deploy or destroy from the command line to the exit code, shared by scripts/deploy.ts and
 * scripts/destroy.ts: parse the arguments, synthesize, build the plan (plan.ts), print it for
 * --dry-run or a refusal (format.ts), ask destroy's confirmation, check the local tools, then run it
 * (run.ts) with the real terraform, AWS CLI and SSM tunnel. Exit 0 done, 1 refused or failed, 130
 * interrupted (Ctrl-C).
 */
import type { EventEmitter } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ConfigError } from "../../../config/load";
import type { EnvironmentConfig } from "../../../config/schema";
import { readOutputs } from "../outputs";
import { synthesize, type SynthesizedStack } from "../synth";
import { prepareTerraform, terraform } from "../terraform";
import { findOnPath, runCommand, startTunnel, tunnelCommand, type TunnelOptions } from "../tunnel";
import { loadEnvironment, parseOperatorArgs, UsageError } from "./cli";
import { formatPlan, type FormatOptions } from "./format";
import { operatorPlan, operatorVariables, type Action } from "./plan";
import { runPlan, type Runner } from "./run";

/** Where the stacks are synthesized: the folder `cdktf synth` uses, so terraform can be run there by hand. */
export const OUTDIR = join(__dirname, "..", "..", "..", "cdktf.out");

export interface OperateDeps {
  readonly write: (text: string) => void;
  readonly outdir?: string;
  readonly cwd?: string;
  readonly destroyRefusal?: (config: EnvironmentConfig) => string | undefined;
  readonly openTunnel?: (options: TunnelOptions) => Promise<{ close(): Promise<void> }>;
  readonly tunnelCommand?: FormatOptions["tunnelCommand"];
  /** Asks the operator; the default reads a line from a terminal and says no without one. */
  readonly ask?: (question: string) => Promise<string>;
  /** PATH lookup for the tools a run needs. @default findOnPath */
  readonly findExecutable?: (name: string) => string | undefined;
  /** Replaces parts of the real runner (terraform, the AWS CLI, outputs), for tests. @default the real ones */
  readonly runner?: Partial<Pick<Runner, "terraform" | "command" | "outputs">>;
  /** Where SIGINT arrives. @default process */
  readonly signals?: Pick<EventEmitter, "on" | "off">;
}

const USAGE: Record<Action, string> = {
  deploy: "usage: npm run deploy -- <env> [layer...] [--dry-run] [--yes] [--parallel N]",
  destroy: "usage: npm run destroy -- <env> [layer...] [--dry-run] [--yes] [--parallel N]",
};

export async function operate(action: Action, argv: readonly string[], deps: OperateDeps): Promise<number> {
  const write = deps.write;
  // The first Ctrl-C aborts: no further step starts, cleanup (closing the tunnel, stopping a bastion
  // started for the run) still runs, and the exit code is 130. A terraform run going at that moment
  // gets the same SIGINT from the terminal and stops gracefully. Listening from the start means a
  // Ctrl-C during synthesis is seen too, before the first step. A second Ctrl-C quits at once.
  const controller = new AbortController();
  const open = new Set<{ close(): Promise<void> }>();
  const onInterrupt = (): void => {
    if (controller.signal.aborted) {
      write("quitting now: a bastion started for this run may still be running (the next deploy of the access stack stops it)");
      void Promise.allSettled([...open].map((t) => t.close())).then(() => process.exit(130));
      return;
    }
    controller.abort();
    write(
      "interrupted: no further step starts; a running terraform stops gracefully, then the tunnel is closed and a started bastion stopped (Ctrl-C again to quit at once)",
    );
  };
  const signals = deps.signals ?? process;
  signals.on("SIGINT", onInterrupt);
  try {
    const ok = await run(action, argv, deps, { signal: controller.signal, open });
    if (controller.signal.aborted && ok !== true) return 130;
    return ok === true ? 0 : ok === false ? 1 : ok;
  } finally {
    signals.off("SIGINT", onInterrupt);
  }
}

/** One deploy or destroy; true or false once the plan ran, an exit code when it never started. */
async function run(
  action: Action,
  argv: readonly string[],
  deps: OperateDeps,
  interrupt: { signal: AbortSignal; open: Set<{ close(): Promise<void> }> },
): Promise<boolean | number> {
  const write = deps.write;
  let config: EnvironmentConfig;
  let stacks: SynthesizedStack[];
  let args;
  try {
    args = parseOperatorArgs(argv);
    config = loadEnvironment(args.environment);
    write(`${action} ${config.environment}: synthesizing...`);
    stacks = synthesize(deps.outdir ?? OUTDIR, [config]);
  } catch (err) {
    if (err instanceof UsageError) write(`${err.message}\n${USAGE[action]}`);
    else if (err instanceof ConfigError) write(err.message);
    else throw err;
    return 1;
  }
  const options = {
    only: args.only,
    destroyRefusal: deps.destroyRefusal,
    operatorVariables: operatorVariables(stacks.find((s) => s.name === `${config.environment}-${config.postgresAccess.layer}`)),
  };
  const plan = operatorPlan(action, config, stacks, options);
  if (args.dryRun || plan.refusal) {
    write(formatPlan(plan, { cwd: deps.cwd, tunnelCommand: deps.tunnelCommand, parallel: args.parallel }));
    return plan.refusal ? 1 : 0;
  }
  const ask = deps.ask ?? askOnTerminal;
  if (action === "destroy" && !args.yes) {
    const answer = await ask(
      `This destroys ${plan.steps.filter((s) => s.kind === "stack").length} stacks of ${config.environment}. Type its name to go on: `,
    );
    if (answer.trim() !== config.environment) {
      write("not destroyed (the answer was not the environment's name)");
      return 1;
    }
  }
  const missing = missingTools(plan, deps.findExecutable);
  if (missing.length > 0) {
    write(`${action} ${config.environment}: cannot start\n${missing.map((m) => `  - ${m}`).join("\n")}`);
    return 1;
  }
  const setup = prepareTerraform();
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const runner: Runner = {
    terraform: (tfArgs, dir, stop) => terraform(tfArgs, dir, setup, {}, stop),
    command: runCommand,
    outputs: (name) => {
      const stack = byName.get(name);
      if (!stack) return Promise.reject(new Error(`no stack ${name}`));
      return readOutputs(stack, setup);
    },
    ...deps.runner,
    openTunnel: async (options) => {
      const tunnel = await (deps.openTunnel ?? ((o) => startTunnel(o, { onOutput: (line) => write(`  tunnel: ${line}`) })))(options);
      interrupt.open.add(tunnel);
      return {
        close: async () => {
          interrupt.open.delete(tunnel);
          await tunnel.close();
        },
      };
    },
    confirm: async (question) => /^y(es)?$/i.test((await ask(`${question} [y/N] `)).trim()),
    log: write,
  };
  return runPlan(plan, runner, { yes: args.yes, signal: interrupt.signal, parallel: args.parallel });
}

/** Reads one answer from the terminal; with no terminal (CI) or on Ctrl-C the answer is empty, i.e. no. */
function askOnTerminal(question: string): Promise<string> {
  if (!process.stdin.isTTY) return Promise.resolve("");
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    let answer = "";
    rl.question(question, (a) => {
      answer = a;
      rl.close();
    });
    rl.on("SIGINT", () => rl.close());
    rl.on("close", () => resolve(answer));
  });
}

/** The local tools a plan needs before it starts, so a missing one fails now, not after 20 minutes of deploy. */
export function missingTools(
  plan: { steps: readonly { kind: string }[] },
  find: (name: string) => string | undefined = (n) => findOnPath(n),
): string[] {
  // TERRAFORM_BINARY (terraform.ts) names the binary explicitly; otherwise it must be on PATH.
  const needs = new Set<string>(process.env.TERRAFORM_BINARY ? [] : ["terraform"]);
  if (plan.steps.some((s) => s.kind === "open-tunnel" || s.kind === "start-bastion")) needs.add("aws");
  if (plan.steps.some((s) => s.kind === "open-tunnel")) needs.add("session-manager-plugin");
  const how: Record<string, string> = {
    terraform: "install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install)",
    aws: "install AWS CLI v2 (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)",
    "session-manager-plugin":
      "the aws CLI needs it for the SSM tunnel (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)",
  };
  return [...needs].filter((tool) => !find(tool)).map((tool) => `${tool}: not found on PATH; ${how[tool]}`);
}

/** How --dry-run prints the tunnel: the same command startTunnel runs. */
export const TUNNEL = { tunnelCommand };
