/**
 * How a plan reads to a person: `--dry-run`'s numbered commands (which stacks run side by side and
 * what each waits for), shell quoting, and the one-line summary of a terraform plan.
 */
import { relative } from "node:path";
import { defaultParallelism, waves } from "../schedule";
import type { TunnelOptions } from "../tunnel";
import type { Plan, StepGroup } from "./plan";

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

export const commandLine = (argv: readonly string[]): string => argv.map(shellQuote).join(" ");

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

/** `Plan: 3 to add, 0 to change, 1 to destroy.` from terraform's plan output. */
export function planSummary(stdout: string): string {
  return stdout.match(/^(Plan: .*)$/m)?.[1] ?? "changes pending";
}
