/**
 * `npm run bench -- --operator`: the operator commands on the emulator, one after another against side
 * by side. For one environment (default dev): deploy from empty (a fresh moto each time) with
 * `--parallel 1` and with the default, then plan and drift of the deployed environment both ways and
 * each stack's plan alone; medians of `--runs` runs (default 3; deploys `--deploy-runs`, default 1:
 * one takes minutes, the data stack's RDS waits alone about 200 s).
 *
 *   plan <env>: <wall> s, slowest stack <s> s, ratio <r>        target ratio <= 1.3
 *   drift <env>: <wall> s, one after another <s> s, ratio <r>
 *   deploy <env>: <wall> s, critical path <s> s, ratio <r>      target ratio <= 1.2
 *
 * The critical path is the longest chain of the one-after-another deploy's stack times through the
 * dependency graph, plus that run's time outside stacks (start-up, synthesis); the slowest stack is
 * the slowest `npm run plan -- <env> <stack>` (start-up and synthesis included, as in the whole plan).
 * Each command's output, with times, is kept in .emulator/bench-last/.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { configFiles, loadConfigs } from "../../config/load";
import type { EnvironmentConfig } from "../../config/schema";
import { layersOf, type Layer } from "../../stacks/layers";
import { stackTimings, type TimedLine } from "./e2e-checks";
import { emulatorEnv } from "./emulator";
import { startMoto, type Emulator } from "./moto";
import { deployPlan } from "./operator/plan";
import { criticalPath, defaultParallelism, type Job } from "./schedule";
import { synthesize } from "./synth";

const ROOT = join(__dirname, "..", "..");
/** Every command's output, with the seconds since it started on each line, kept for reading afterwards (gitignored). */
const LOG_DIR = join(ROOT, ".emulator", "bench-last");
let logCounter = 0;
/** No command of the bench may run longer than this (an emulator deploy of one environment takes about 8 minutes). */
const COMMAND_TIMEOUT_MS = 20 * 60_000;

export interface CommandRun {
  readonly code: number | null;
  readonly seconds: number;
  /** CPU seconds (user + system) of the command and every process it waited for (terraform, providers). */
  readonly cpu?: number;
  /** CPU seconds the emulator (moto) spent meanwhile. */
  readonly emulatorCpu?: number;
  readonly lines: readonly TimedLine[];
}

/** GNU time measures the CPU of a command and everything it waits for; absent, CPU is not reported. */
const TIME = "/usr/bin/time";

/** CPU seconds so far of the processes whose command line contains every one of `parts` (Linux /proc). */
function cpuOf(parts: readonly string[]): number {
  if (!existsSync("/proc")) return 0;
  let ticks = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!parts.every((p) => cmdline.includes(p))) continue;
      // fields after the command name: utime is the 14th, stime the 15th (counted from 1)
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // ended meanwhile
    }
  }
  return ticks / 100; // USER_HZ is 100 on Linux
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * The least wall time a deploy can take given one-after-another stack times: the run's time outside
 * its stacks plus the longest chain of stack times through `jobs`.
 */
export function deployCriticalPath(
  jobs: readonly Job[],
  sequential: { seconds: number; stacks: readonly { stack: string; seconds: number }[] },
): number {
  const times = new Map(sequential.stacks.map((s) => [s.stack, s.seconds]));
  const inStacks = jobs.reduce((sum, j) => sum + (times.get(j.id) ?? 0), 0);
  return sequential.seconds - inStacks + criticalPath(jobs, (id) => times.get(id) ?? 0);
}

export const ratioLine = (what: string, env: string, wall: number, label: string, base: number): string =>
  `${what} ${env}: ${wall.toFixed(1)} s, ${label} ${base.toFixed(1)} s, ratio ${(wall / base).toFixed(2)}`;

/** One of the project's commands (`tsx scripts/<name>.ts`), output captured line by line with arrival times. */
function command(name: string, args: readonly string[], cloud: Cloud): Promise<CommandRun> {
  const started = Date.now();
  const log = join(LOG_DIR, `${String(++logCounter).padStart(2, "0")}-${name}-${args.join("_").replace(/[^\w.-]+/g, "_")}.log`);
  const cpuFile = `${log}.cpu`;
  const tsx = [join(ROOT, "node_modules", ".bin", "tsx"), join(ROOT, "scripts", `${name}.ts`), ...args];
  const argv = existsSync(TIME) ? [TIME, "-f", "%U %S", "-o", cpuFile, ...tsx] : tsx;
  const motoBefore = cpuOf(["moto", cloud.emulator.dir]);
  const env = cloud.env;
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: TimedLine[] = [];
    let pending = "";
    const take = (chunk: Buffer): void => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) lines.push({ at: Date.now(), text });
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = setTimeout(() => {
      lines.push({ at: Date.now(), text: `(bench: killed after ${COMMAND_TIMEOUT_MS / 60000} minutes)` });
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already ended
      }
    }, COMMAND_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (pending) lines.push({ at: Date.now(), text: pending });
      const body = lines.map((l) => `${((l.at - started) / 1000).toFixed(1).padStart(7)}  ${l.text}`).join("\n");
      writeFileSync(log, `$ ${name} ${args.join(" ")}\n${body}\n(exit ${code})\n`);
      const measured = existsSync(cpuFile) ? readFileSync(cpuFile, "utf8").trim().split("\n").at(-1)!.split(" ").map(Number) : [];
      const cpu = measured.length === 2 && measured.every(Number.isFinite) ? measured[0] + measured[1] : undefined;
      const emulatorCpu = cpuOf(["moto", cloud.emulator.dir]) - motoBefore;
      resolve({ code, seconds: (Date.now() - started) / 1000, cpu, emulatorCpu, lines });
    });
  });
}

/** Fails the bench with the command's last lines when it did not end as expected. */
function expectCode(what: string, run: CommandRun, allowed: readonly number[]): CommandRun {
  if (run.code === null || !allowed.includes(run.code)) {
    const tail = run.lines.slice(-15).map((l) => `  ${l.text}`);
    throw new Error(`${what} ended with exit ${run.code}:\n${tail.join("\n")}`);
  }
  return run;
}

interface Cloud {
  readonly emulator: Emulator;
  readonly env: NodeJS.ProcessEnv;
}

/** A fresh, empty emulated account with only `config`'s environment in the config folder. */
async function freshCloud(file: string): Promise<Cloud> {
  const emulator = await startMoto();
  const configDir = join(emulator.dir, "config");
  mkdirSync(configDir);
  copyFileSync(file, join(configDir, basename(file)));
  const stateDir = join(emulator.dir, "state");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulatorEnv({ endpoint: emulator.endpoint, caBundle: emulator.caBundle, stateDir }),
    INFRA_AWS_ENDPOINT: emulator.endpoint,
    INFRA_AWS_CA_BUNDLE: emulator.caBundle,
    INFRA_EMULATOR_STATE_DIR: stateDir,
    INFRA_CONFIG_DIR: configDir,
    INFRA_CONFIG: undefined,
    PATH: `${emulator.binDir}:${process.env.PATH ?? ""}`,
  };
  return { emulator, env };
}

/** The stacks the emulator can deploy: not the SQL layer (postgresql provider not in the mirror, no real database). */
function servableLayers(config: EnvironmentConfig): Layer[] {
  return layersOf(config).filter((l) => l !== config.postgresAccess.layer);
}

export async function operatorBench(argv: readonly string[], write: (line: string) => void = console.log): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      operator: { type: "boolean" },
      env: { type: "string", default: "dev" },
      runs: { type: "string", default: "3" },
      "deploy-runs": { type: "string", default: "1" },
    },
  });
  const runs = Number(values.runs);
  const deployRuns = Number(values["deploy-runs"]);
  const file = configFiles().find((f) => basename(f, ".json") === values.env);
  if (!file) throw new Error(`--env: no config file for ${values.env}`);
  const [config] = loadConfigs([file]);
  const env = config.environment;
  const layers = servableLayers(config);

  // The dependency graph, from the synthesized stacks (as deploy builds it).
  const scratch = mkdtempSync(join(tmpdir(), "bench-graph-"));
  const stacks = synthesize(scratch, [config]);
  const jobs: Job[] = deployPlan(config, stacks, { only: layers }).groups.map((g) => ({ id: g.id, after: g.after }));
  rmSync(scratch, { recursive: true, force: true });

  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });
  write(`operator commands on the emulator, ${env} (${layers.join(", ")}), ${defaultParallelism()} cores; medians of ${runs} runs`);
  write(`(deploy: ${deployRuns} run${deployRuns === 1 ? "" : "s"} each way, each from empty on a fresh emulator)`);

  const deploys = { sequential: [] as CommandRun[], parallel: [] as CommandRun[] };
  const plans = { sequential: [] as CommandRun[], parallel: [] as CommandRun[], stacks: new Map<string, CommandRun[]>() };
  const drifts = { sequential: [] as CommandRun[], parallel: [] as CommandRun[] };
  const wall = (runs: readonly CommandRun[]): number => median(runs.map((r) => r.seconds));
  /** `, CPU 40 s (+ emulator 12 s)`: what the machine had to do, whatever the schedule. */
  const cpu = (runs: readonly CommandRun[]): string =>
    runs.every((r) => r.cpu !== undefined)
      ? `, CPU ${median(runs.map((r) => r.cpu!)).toFixed(0)} s (+ emulator ${median(runs.map((r) => r.emulatorCpu ?? 0)).toFixed(0)} s)`
      : "";
  const deployArgs = [env, ...layers, "--yes"];

  for (let i = 0; i < deployRuns; i++) {
    for (const way of ["parallel", "sequential"] as const) {
      const cloud = await freshCloud(file);
      try {
        const args = way === "sequential" ? [...deployArgs, "--parallel", "1"] : deployArgs;
        const run = expectCode(`deploy ${env} (${way})`, await command("deploy", args, cloud), [0]);
        deploys[way].push(run);
        write(
          `  deploy ${way}: ${run.seconds.toFixed(1)} s${cpu([run])} (${stackTimings(run.lines)
            .map((t) => `${t.stack.slice(env.length + 1)} ${t.seconds.toFixed(0)}`)
            .join(", ")})`,
        );
        // Plans and drift against what the last parallel deploy built.
        if (way === "parallel" && i === deployRuns - 1) await reviews(cloud, runs);
      } finally {
        await cloud.emulator.stop();
      }
    }
  }

  async function reviews(cloud: Cloud, n: number): Promise<void> {
    for (let r = 0; r < n; r++) {
      for (const [mode, into] of [
        ["plan", plans],
        ["drift", drifts],
      ] as const) {
        const seq = expectCode(`${mode} ${env} --parallel 1`, await command(mode, [env, "--parallel", "1"], cloud), [0, 2]);
        const par = expectCode(`${mode} ${env}`, await command(mode, [env], cloud), [0, 2]);
        into.sequential.push(seq);
        into.parallel.push(par);
        write(
          `  ${mode} run ${r + 1}: one after another ${seq.seconds.toFixed(1)} s${cpu([seq])}; side by side ${par.seconds.toFixed(1)} s${cpu([par])}`,
        );
      }
      for (const layer of layers) {
        const stack = `${env}-${layer}`;
        const alone = expectCode(`plan ${stack}`, await command("plan", [env, stack], cloud), [0, 2]);
        plans.stacks.set(stack, [...(plans.stacks.get(stack) ?? []), alone]);
      }
      write(
        `  plan of each stack alone, run ${r + 1}: ${[...plans.stacks]
          .map(([s, t]) => `${s.slice(env.length + 1)} ${t.at(-1)!.seconds.toFixed(1)} s${cpu([t.at(-1)!])}`)
          .join("; ")}`,
      );
    }
  }

  write("");
  const slowest = Math.max(...[...plans.stacks.values()].map(wall));
  write(ratioLine("plan", env, wall(plans.parallel), "slowest stack", slowest) + "   (target <= 1.3)");
  write(
    `  plan ${env} one after another: ${wall(plans.sequential).toFixed(1)} s${cpu(plans.sequential)}; side by side${cpu(plans.parallel)}`,
  );
  write(ratioLine("drift", env, wall(drifts.parallel), "one after another", wall(drifts.sequential)));
  const sequentialDeploy = median(deploys.sequential.map((r) => r.seconds));
  const critical = median(deploys.sequential.map((r) => deployCriticalPath(jobs, { seconds: r.seconds, stacks: stackTimings(r.lines) })));
  write(ratioLine("deploy", env, median(deploys.parallel.map((r) => r.seconds)), "critical path", critical) + "   (target <= 1.2)");
  write(`  deploy ${env} one after another: ${sequentialDeploy.toFixed(1)} s`);
  return 0;
}
