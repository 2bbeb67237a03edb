/**
 * npm run e2e [-- <config.json>...]
 *
 * The project's own commands, for real, against an AWS emulator: one moto server (scripts/lib/moto.ts)
 * holds one account; every given environment (default: every shipped config) is deployed into it
 * side by side, then status, plan, drift, an out-of-band change, the state lock, Ctrl-C, destroy and
 * a redeploy are checked, each environment's lifecycle running alongside the others. One line per
 * check (`ok`, `FAIL`, or `skip` with the reason: skips are never counted as passes), the measured
 * times, and `N passed, M failed`; exit 0 only when every check passed.
 *
 * Commands run as `npm run --silent <command> -- ...` with INFRA_AWS_ENDPOINT set (emulator mode,
 * scripts/lib/emulator.ts), each in its own process group, so Ctrl-C reaches it as from a terminal.
 * Their full output goes to .emulator/e2e-last/ (gitignored), kept for reading after a failure, with
 * moto's request log when a check failed.
 */
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { configFiles, ConfigError, loadConfigs } from "../config/load";
import type { EnvironmentConfig } from "../config/schema";
import { layersOf, type Layer } from "../stacks/layers";
import {
  Ledger,
  loadArtefacts,
  parseReport,
  parseStatus,
  seconds,
  stackTimings,
  STEP_LINE,
  unexplained,
  type Artefact,
  type TimedLine,
} from "./lib/e2e-checks";
import { emulatorEnv } from "./lib/emulator";
import { startMoto, type Emulator } from "./lib/moto";

const ROOT = join(__dirname, "..");
const LOG_DIR = join(ROOT, ".emulator", "e2e-last");
/** drift runs twice on an unchanged environment, at least this far apart. */
const DRIFT_GAP_MS = 120_000;
/** No command of the lifecycle may run longer than this (RDS waits are the slowest: about 3 minutes). */
const COMMAND_TIMEOUT_MS = 15 * 60_000;

/** Layers the emulator cannot serve, and why; each is said in the output, never counted as a pass. */
function unservable(config: EnvironmentConfig): Map<Layer, string> {
  const reasons = new Map<Layer, string>();
  reasons.set(
    config.postgresAccess.layer,
    "needs the postgresql provider (not in the mirror) and an SSM session to a real database (the emulator has neither)",
  );
  return reasons;
}

/** Out-of-band changes, one per environment in turn; checkOutOfBand returns whether the change was made. */
const CHANGE_KINDS = ["backup-retention", "alarm-threshold", "security-group-rule"] as const;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: TimedLine[];
  readonly output: string;
  readonly ms: number;
  readonly log: string;
}

interface Context {
  readonly emulator: Emulator;
  readonly env: NodeJS.ProcessEnv;
  readonly ledger: Ledger;
  readonly artefacts: readonly Artefact[];
  readonly write: (line: string) => void;
  /** Serializes the moment a deploy synthesizes into cdktf.out/ (its manifest is shared). */
  synthGate: Promise<void>;
  logCounter: number;
  /** Process groups of the commands running now, ended if the e2e run itself is stopped. */
  readonly running: Set<number>;
}

// ---------------------------------------------------------------- running commands

interface CommandOptions {
  readonly label: string;
  readonly extraEnv?: NodeJS.ProcessEnv;
  /** Called for each output line; return true to send Ctrl-C (SIGINT to the process group) now. */
  readonly interruptWhen?: (line: string) => boolean;
  /** Resolves once the command printed a line matching this (or ended). */
  readonly started?: (line: string) => boolean;
  readonly onStarted?: () => void;
}

/** `npm run --silent <script> -- args`, output captured line by line with arrival times. */
function npmRun(ctx: Context, script: string, args: readonly string[], options: CommandOptions): Promise<Run> {
  const started = Date.now();
  const log = join(LOG_DIR, `${String(++ctx.logCounter).padStart(2, "0")}-${options.label.replace(/[^\w.-]+/g, "_")}.log`);
  return new Promise((resolvePromise) => {
    const child = spawn("npm", ["run", "--silent", script, "--", ...args], {
      cwd: ROOT,
      env: { ...ctx.env, ...options.extraEnv },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (child.pid) ctx.running.add(child.pid);
    const lines: TimedLine[] = [];
    let pending = "";
    let interrupted = false;
    let announced = false;
    const announce = (): void => {
      if (!announced) {
        announced = true;
        options.onStarted?.();
      }
    };
    const take = (chunk: Buffer): void => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const text of parts) {
        lines.push({ at: Date.now(), text });
        if (options.started?.(text)) announce();
        if (!interrupted && options.interruptWhen?.(text)) {
          interrupted = true;
          try {
            process.kill(-child.pid!, "SIGINT");
          } catch {
            // already ended
          }
        }
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = setTimeout(() => {
      lines.push({ at: Date.now(), text: `(e2e: killed after ${COMMAND_TIMEOUT_MS / 60000} minutes)` });
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already ended
      }
    }, COMMAND_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (child.pid) ctx.running.delete(child.pid);
      if (pending) lines.push({ at: Date.now(), text: pending });
      announce();
      const output = lines.map((l) => l.text).join("\n");
      writeFileSync(log, `$ npm run ${script} -- ${args.join(" ")}\n${output}\n(exit ${code ?? signal})\n`);
      resolvePromise({ code, signal, lines, output, ms: Date.now() - started, log });
    });
  });
}

/** A deploy or destroy: waits its turn to synthesize into cdktf.out/, lets the next one go once it runs its first step. */
async function operate(
  ctx: Context,
  action: "deploy" | "destroy",
  args: readonly string[],
  options: Omit<CommandOptions, "started" | "onStarted">,
): Promise<Run> {
  const previous = ctx.synthGate;
  let release: () => void = () => undefined;
  ctx.synthGate = new Promise((r) => (release = r));
  await previous;
  return npmRun(ctx, action, args, {
    ...options,
    // Its first step line (or a refusal) comes after synthesis; the process ending also releases the gate.
    started: (line) => STEP_LINE.test(line) || /: refused|: cannot start/.test(line),
    onStarted: release,
  });
}

/** Runs the venv's python on scripts/python/e2e_aws.py. */
function awsHelper(ctx: Context, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(ctx.emulator.python.python, [join(ROOT, "scripts", "python", "e2e_aws.py"), ...args], {
      env: ctx.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
  });
}

async function inventory(ctx: Context, config: EnvironmentConfig): Promise<string[]> {
  const run = await awsHelper(ctx, ["inventory", "--env", config.environment, "--region", config.region]);
  if (run.code !== 0) throw new Error(`inventory of ${config.environment} failed: ${run.stderr.trim()}`);
  return JSON.parse(run.stdout) as string[];
}

/** The last lines of a run, for a FAIL reason. */
function tail(run: Run, n = 12): string {
  const lines = run.lines.map((l) => l.text).filter((l) => l.trim() !== "");
  return [...lines.slice(-n), `(exit ${run.code ?? run.signal}; full output: ${run.log})`].join("\n");
}

// ---------------------------------------------------------------- one environment's lifecycle

interface EnvironmentResult {
  readonly environment: string;
  deployMs?: number;
  lifecycleMs?: number;
  stacks: { stack: string; seconds: number }[];
  deployed: boolean;
}

interface Roles {
  /** Runs drift twice, then after an out-of-band change of this kind. */
  readonly drift: boolean;
  readonly changeKind: (typeof CHANGE_KINDS)[number];
  /** Runs the state lock check (while restoring the out-of-band change). */
  readonly lock: boolean;
  /** Deploys again right after its destroy, then the Ctrl-C check. */
  readonly redeploy: boolean;
}

function servableLayers(config: EnvironmentConfig): Layer[] {
  const skip = unservable(config);
  return layersOf(config).filter((l) => !skip.has(l));
}

async function deployEnvironment(ctx: Context, config: EnvironmentConfig, result: EnvironmentResult, label = "deploy"): Promise<boolean> {
  const env = config.environment;
  const layers = servableLayers(config);
  const run = await operate(ctx, "deploy", [env, ...layers, "--yes"], { label: `${label}-${env}` });
  const timings = stackTimings(run.lines);
  if (label === "deploy") {
    result.deployMs = run.ms;
    result.stacks = timings;
  }
  const banner = run.output.includes("EMULATOR: every AWS call goes to");
  const problem =
    run.code !== 0
      ? tail(run)
      : !banner
        ? "the run did not say it targets an emulator"
        : layers.some((l) => !timings.some((t) => t.stack === `${env}-${l}`))
          ? `not every layer ran: ${timings.map((t) => t.stack).join(", ")}`
          : undefined;
  ctx.ledger.expect(
    `${label} ${env}: npm run deploy -- ${env} ${layers.join(" ")} --yes (${seconds(run.ms)}; ${timings.map((t) => `${t.stack.slice(env.length + 1)} ${t.seconds.toFixed(0)} s`).join(", ")})`,
    problem,
  );
  return problem === undefined;
}

async function checkStatus(ctx: Context, config: EnvironmentConfig): Promise<void> {
  const env = config.environment;
  const run = await npmRun(ctx, "status", [env], { label: `status-${env}` });
  const stacks = parseStatus(run.output);
  const problems: string[] = [];
  if (run.code !== 0) problems.push(tail(run));
  if (!run.output.includes("EMULATOR:")) problems.push("the run did not say it targets an emulator");
  for (const layer of servableLayers(config)) {
    const s = stacks.get(`${env}-${layer}`);
    if (!s?.deployed) problems.push(`${env}-${layer} is not shown deployed`);
    else if (layer !== "state" && layer !== "services" && !s.facts.some((f) => /: (vpc-|i-|arn:|[\w-]+\.[\w.-]+:\d+)/.test(f))) {
      problems.push(`${env}-${layer} shows no deployed output (${s.facts.join("; ") || "no facts"})`);
    }
  }
  for (const layer of unservable(config).keys()) {
    if (stacks.get(`${env}-${layer}`)?.deployed) problems.push(`${env}-${layer} shown deployed, but it never ran here`);
  }
  ctx.ledger.expect(`status ${env}: every deployed stack shown with its outputs`, problems.length ? problems.join("\n") : undefined);
}

async function checkPlan(ctx: Context, config: EnvironmentConfig): Promise<void> {
  const env = config.environment;
  const run = await npmRun(ctx, "plan", [env], { label: `plan-${env}` });
  const report = parseReport(run.output);
  const problems: string[] = [];
  if (run.code !== 0 && run.code !== 2) problems.push(tail(run));
  for (const e of report.errors) problems.push(`${e.stack}: ${e.reason}`);
  const left = unexplained(report.changes, ctx.artefacts);
  for (const c of left) problems.push(`${c.stack}: ${c.line}  (not an emulator artefact listed in scripts/emulator-artefacts.json)`);
  const listed = report.changes.length - left.length;
  ctx.ledger.expect(
    `plan ${env} right after deploy: no changes${listed ? ` except ${listed} listed emulator artefact(s)` : ""}` +
      (report.skipped.length ? ` (skipped by plan: ${report.skipped.map((s) => s.stack).join(", ")})` : ""),
    problems.length ? problems.join("\n") : undefined,
  );
}

async function drift(
  ctx: Context,
  config: EnvironmentConfig,
  label: string,
): Promise<{ run: Run; report: ReturnType<typeof parseReport> }> {
  const run = await npmRun(ctx, "drift", [config.environment], { label: `${label}-${config.environment}` });
  return { run, report: parseReport(run.output) };
}

async function checkNoDrift(ctx: Context, config: EnvironmentConfig, which: string): Promise<number> {
  const { run, report } = await drift(ctx, config, `drift-${which}`);
  const problems: string[] = [];
  if (run.code !== 0) problems.push(run.code === 2 ? "exit 2 (drift) on an unchanged environment:" : tail(run));
  const left = unexplained(report.changes, ctx.artefacts);
  if (run.code === 2) problems.push(...left.map((c) => `${c.stack}: ${c.line}`));
  ctx.ledger.expect(
    `drift ${config.environment} (${which}) on the unchanged environment: exit 0`,
    problems.length ? problems.join("\n") : undefined,
  );
  return Date.now();
}

async function checkOutOfBand(ctx: Context, config: EnvironmentConfig, kind: Roles["changeKind"]): Promise<boolean> {
  const env = config.environment;
  const made = await awsHelper(ctx, ["change", "--env", env, "--region", config.region, "--kind", kind]);
  if (made.code !== 0) {
    ctx.ledger.fail(`drift ${env} after an out-of-band ${kind} change`, `could not make the change: ${made.stderr.trim()}`);
    return false;
  }
  const change = JSON.parse(made.stdout) as { type: string; name: string; attribute: string; from: unknown; to: unknown };
  const { run, report } = await drift(ctx, config, "drift-after-change");
  const found = report.changes.filter((c) => c.kind === "drift");
  const problems: string[] = [];
  if (run.code !== 2) problems.push(`exit ${run.code}, expected 2\n${tail(run)}`);
  if (found.length !== 1)
    problems.push(`expected exactly one drifted resource, got ${found.length}:\n${found.map((c) => c.line).join("\n")}`);
  else if (found[0].type !== change.type || found[0].attributes.join(",") !== change.attribute) {
    problems.push(`expected ${change.type} attribute ${change.attribute} only, got: ${found[0].line}`);
  }
  ctx.ledger.expect(
    `drift ${env} after an out-of-band change (${change.type} ${change.name}: ${change.attribute} ${String(change.from)} -> ${String(change.to)}): exit 2 naming that resource and attribute only`,
    problems.length ? problems.join("\n") : undefined,
  );
  return true;
}

/** Two deploys of the layer the change lives in: the first restores it and holds the lock while it applies. */
async function checkLock(ctx: Context, config: EnvironmentConfig, layer: Layer): Promise<void> {
  const env = config.environment;
  const key = `/${config.state.bucket}/${env}/${layer}.tfstate.tflock`;
  const check = `state lock: a second deploy of ${env}-${layer} while the first holds ${key.slice(1)}`;
  let firstApplying: () => void = () => undefined;
  const applying = new Promise<void>((r) => (firstApplying = r));
  const first = npmRun(ctx, "deploy", [env, layer, "--yes"], {
    label: `lock-first-${env}`,
    started: (line) => line.startsWith(`==> ${env}-${layer}: apply`),
    onStarted: () => firstApplying(),
  });
  await applying;
  const secondStarted = Date.now();
  const second = await npmRun(ctx, "deploy", [env, layer, "--yes"], { label: `lock-second-${env}` });
  const firstRun = await first;
  const refused = countLockRefusals(ctx.emulator.log, key);
  const problems: string[] = [];
  if (firstRun.code !== 0) problems.push(`the first deploy failed:\n${tail(firstRun)}`);
  if (refused === 0) {
    problems.push(
      "the emulator never refused the second run's lock (no HTTP 412 on the lock object): the lock was not held or not checked",
    );
  }
  const failedOnLock = second.code !== 0 && /lock/i.test(second.output);
  // Waiting is enough: the second run plans on the state the first left (it may still find work, e.g. a
  // value the first apply read back late); the refusals above prove it waited on the held lock.
  const waitedThenRan = second.code === 0;
  if (!failedOnLock && !waitedThenRan) problems.push(`the second deploy neither waited for the lock nor failed on it:\n${tail(second)}`);
  ctx.ledger.expect(
    `${check}: ${failedOnLock ? "failed on the lock" : "waited"} (${refused} lock attempt(s) refused with 412 over ${seconds(Date.now() - secondStarted)}; the first restored the change)`,
    problems.length ? problems.join("\n") : undefined,
  );
}

/** moto's request log lines refusing a conditional PUT of `key` (the lock file exists). */
function countLockRefusals(log: string, key: string): number {
  if (!existsSync(log)) return 0;
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.includes(`"PUT ${key}`) && /" 412 /.test(l)).length;
}

async function checkDestroy(ctx: Context, config: EnvironmentConfig): Promise<boolean> {
  const env = config.environment;
  const before = await inventory(ctx, config);
  // The layers deployed here, named: the SQL layer was never deployed (and would need the tunnel);
  // the state stack is not named, so destroy keeps it, as it does by default.
  const layers = servableLayers(config).filter((l) => l !== "state");
  const run = await operate(ctx, "destroy", [env, ...layers.reverse(), "--yes"], { label: `destroy-${env}` });
  const after = await inventory(ctx, config);
  if (config.protect) {
    const problems: string[] = [];
    if (run.code === 0) problems.push("destroy of a protected environment exited 0");
    if (!/protect/i.test(run.output)) problems.push("the refusal does not say the environment is protected");
    if (run.lines.some((l) => STEP_LINE.test(l.text))) problems.push("terraform steps ran");
    if (after.length !== before.length) problems.push(`resources changed: ${before.length} before, ${after.length} after`);
    return ctx.ledger.expect(
      `destroy ${env} (protected) refused, ${after.length} resources untouched`,
      problems.length ? `${problems.join("\n")}\n${tail(run)}` : undefined,
    );
  }
  // Kept by design (README, operations: teardown): the state stack, whose bucket holds every stack's
  // state history, and the final snapshot RDS takes unless database.skipFinalSnapshot.
  const kept = after.filter((arn) => arn === `arn:aws:s3:::${config.state.bucket}` || /:snapshot:[\w-]+-final-\d+$/.test(arn));
  const left = after.filter((arn) => !kept.includes(arn));
  const problems: string[] = [];
  if (run.code !== 0) problems.push(tail(run));
  if (left.length > 0) problems.push(`left in the emulator:\n${left.join("\n")}`);
  return ctx.ledger.expect(
    `destroy ${env}: none of its ${before.length - kept.length} resources left in the emulator (${seconds(run.ms)}; kept by design: ${kept.map((arn) => arn.split(":").pop()).join(", ")})`,
    problems.length ? problems.join("\n") : undefined,
  );
}

/** Ctrl-C while deploy starts the bastion (a step outside terraform): nothing later runs, the bastion is stopped again. */
async function checkInterrupt(ctx: Context, config: EnvironmentConfig): Promise<void> {
  const env = config.environment;
  const check = `Ctrl-C during ${env}'s deploy while it starts the bastion (outside terraform)`;
  if (!config.bastion.enabled || config.bastion.running || config.postgresAccess.connection !== "tunnel") {
    ctx.ledger.skip(check, "this environment's deploy starts no bastion (bastion.running is true or there is none)");
    return;
  }
  const sqlLayer = config.postgresAccess.layer;
  // The SQL layer alone: its deploy starts the bastion first (the same steps a full deploy runs after
  // the core stacks, which are unchanged here and would only add their no-change plans).
  const run = await operate(ctx, "deploy", [env, sqlLayer, "--yes"], {
    label: `interrupt-${env}`,
    // The shim's status wait stands in for the minutes AWS takes, which is when an operator presses Ctrl-C.
    extraEnv: { INFRA_EMULATOR_BOOT_SECONDS: "20" },
    // The documented way (scripts/lib/operator/run.ts STEP_MARK): SIGINT to the process group after a `==>` line.
    interruptWhen: (line) => line === "==> start-bastion",
  });
  const state = await awsHelper(ctx, ["bastion-state", "--env", env, "--region", config.region]);
  const problems: string[] = [];
  if (!run.output.includes("==> start-bastion")) problems.push("the deploy never reached the step that starts the bastion");
  if (run.code === 0) problems.push("the interrupted deploy exited 0");
  if (new RegExp(`==> ${env}-${sqlLayer}: |==> open-tunnel`).test(run.output)) {
    problems.push(`steps after the interrupt ran (${sqlLayer} or the tunnel)`);
  }
  if (!run.output.includes("==> stop-bastion")) problems.push("the bastion was not stopped again");
  if (!/^(stopped|stopping)$/m.test(state.stdout)) problems.push(`bastion state afterwards: ${state.stdout.trim() || state.stderr.trim()}`);
  ctx.ledger.expect(
    `${check}: stopped before any later step, bastion ${state.stdout.trim() || "unknown"}`,
    problems.length ? `${problems.join("\n")}\n${tail(run)}` : undefined,
  );
}

/** The first deploy; the rest of the lifecycle waits until every environment has had its own. */
async function firstDeploy(ctx: Context, config: EnvironmentConfig, result: EnvironmentResult): Promise<void> {
  for (const [layer, reason] of unservable(config)) ctx.ledger.skip(`${config.environment}-${layer}`, `not deployed here: ${reason}`);
  result.deployed = await deployEnvironment(ctx, config, result);
}

/**
 * Everything after the environment's own first deploy, in order. It starts at once, while other
 * environments may still be deploying; `everyDeployed` (every first deploy done and the coexistence
 * check made) is awaited before the destroy. The environment that is destroyed and deployed again
 * without drift checks (dev, beside others) does that first: its chain is the longest, and its status,
 * plan and Ctrl-C checks then run on the redeployed environment, when the others no longer compete for
 * the CPU. Alone, an environment does everything in the order the README lists.
 */
async function lifecycle(
  ctx: Context,
  config: EnvironmentConfig,
  roles: Roles,
  result: EnvironmentResult,
  everyDeployed: Promise<void>,
): Promise<void> {
  const env = config.environment;
  const started = Date.now();
  if (!result.deployed) return;
  const finish = (): void => void (result.lifecycleMs = (result.deployMs ?? 0) + Date.now() - started);
  if (roles.redeploy && !roles.drift) {
    await everyDeployed;
    await checkDestroy(ctx, config);
    if (await deployEnvironment(ctx, config, result, "redeploy")) {
      await checkStatus(ctx, config);
      await checkPlan(ctx, config);
      await checkInterrupt(ctx, config);
    } else {
      ctx.ledger.skip(`status, plan and Ctrl-C of ${env}`, "they run on the redeployed environment, and the redeploy failed");
    }
    return finish();
  }
  const firstDrift = roles.drift ? await checkNoDrift(ctx, config, "first") : 0;
  await checkStatus(ctx, config);
  await checkPlan(ctx, config);
  if (roles.drift) {
    const wait = firstDrift + DRIFT_GAP_MS - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await checkNoDrift(ctx, config, `second, ${seconds(Date.now() - firstDrift)} later`);
    const changed = await checkOutOfBand(ctx, config, roles.changeKind);
    if (roles.lock) {
      if (changed) await checkLock(ctx, config, CHANGE_LAYER[roles.changeKind]);
      else ctx.ledger.fail(`state lock check on ${env}`, "needs the out-of-band change above, which could not be made");
    }
  }
  // After the drift checks: the bastion it starts and stops must not fall between them.
  if (roles.redeploy) await checkInterrupt(ctx, config);
  await everyDeployed;
  await checkDestroy(ctx, config);
  if (roles.redeploy) await deployEnvironment(ctx, config, result, "redeploy");
  finish();
}

/** The layer whose stack each kind of out-of-band change touches. */
const CHANGE_LAYER: Record<(typeof CHANGE_KINDS)[number], Layer> = {
  "backup-retention": "data",
  "alarm-threshold": "observability",
  "security-group-rule": "network",
};

/** After every first deploy: all environments stand side by side in the one account. */
async function checkCoexistence(ctx: Context, configs: readonly EnvironmentConfig[], results: readonly EnvironmentResult[]): Promise<void> {
  const counts = await Promise.all(configs.map((c) => inventory(ctx, c).catch(() => [] as string[])));
  const problems = configs
    .map((c, i) =>
      !results[i].deployed ? `${c.environment} did not deploy` : counts[i].length === 0 ? `${c.environment} has no resources` : undefined,
    )
    .filter((p): p is string => p !== undefined);
  ctx.ledger.expect(
    `${configs.length} environment(s) coexist in one account, no name collision (tagged resources: ${configs.map((c, i) => `${c.environment} ${counts[i].length}`).join(", ")})`,
    problems.length ? problems.join("\n") : undefined,
  );
}

/**
 * Which environment does what, so no one lifecycle carries every slow check: the one that destroys,
 * deploys again and is interrupted (an unprotected one whose deploy starts a stopped bastion) leaves
 * drift to the others; the lock check rides on another's out-of-band change, preferably a protected
 * environment's (no destroy to wait for). One environment alone does everything.
 */
export function assignRoles(configs: readonly EnvironmentConfig[]): Roles[] {
  const unprotected = configs.filter((c) => !c.protect);
  const withBastionStart = unprotected.find((c) => c.bastion.enabled && !c.bastion.running) ?? unprotected[0];
  // A protected environment's lifecycle is the shortest (its destroy is refused at once), so it carries the lock check.
  const lockEnv =
    configs.find((c) => c.protect && c !== withBastionStart) ??
    unprotected.find((c) => c !== withBastionStart) ??
    configs.find((c) => c !== withBastionStart) ??
    configs[0];
  // The lock check needs the slow change (an RDS modification holds the lock long enough); the others
  // get the other kinds first, so every kind is tried.
  const otherKinds = [...CHANGE_KINDS.filter((k) => k !== "backup-retention"), "backup-retention" as const];
  let next = 0;
  return configs.map((c) => {
    const drift = c !== withBastionStart || configs.length === 1;
    return {
      drift,
      changeKind: c === lockEnv || !drift ? "backup-retention" : otherKinds[next++ % otherKinds.length],
      lock: c === lockEnv,
      redeploy: c === withBastionStart,
    };
  });
}

// ---------------------------------------------------------------- main

/** Ctrl-C to every running command's process group, then SIGKILL to what is left after 10 s. */
async function stopAll(running: ReadonlySet<number>): Promise<void> {
  const signal = (pid: number, s: NodeJS.Signals | 0): boolean => {
    try {
      process.kill(-pid, s);
      return true;
    } catch {
      return false;
    }
  };
  for (const pid of running) signal(pid, "SIGINT");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && [...running].some((pid) => signal(pid, 0))) {
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const pid of running) signal(pid, "SIGKILL");
}

async function main(argv: readonly string[]): Promise<number> {
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  const started = Date.now();
  const files = argv.length > 0 ? argv.map((f) => resolve(f)) : configFiles({});
  let configs: EnvironmentConfig[];
  try {
    configs = loadConfigs(files);
  } catch (err) {
    write(err instanceof ConfigError ? err.message : String(err));
    write("0 passed, 1 failed");
    return 1;
  }
  rmSync(LOG_DIR, { recursive: true, force: true });
  mkdirSync(LOG_DIR, { recursive: true });

  write(`e2e: ${configs.map((c) => c.environment).join(", ")} in one emulated AWS account (moto over TLS on loopback)`);
  let emulator: Emulator | undefined;
  const ledger = new Ledger(write);
  const running = new Set<number>();
  const stopOnSignal = (signal: NodeJS.Signals): void => {
    write(`e2e: ${signal}: stopping the running commands and the emulator`);
    void stopAll(running).then(() => (emulator?.stop() ?? Promise.resolve()).then(() => process.exit(130)));
  };
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  try {
    emulator = await startMoto({ log: (line) => write(`e2e: ${line}`) });
    write(`e2e: moto ${emulator.endpoint} ready; command output in ${LOG_DIR}`);
    const configDir = join(emulator.dir, "config");
    mkdirSync(configDir);
    for (const file of files) copyFileSync(file, join(configDir, basename(file)));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...emulatorEnv({ endpoint: emulator.endpoint, caBundle: emulator.caBundle, stateDir: join(emulator.dir, "state") }),
      INFRA_AWS_ENDPOINT: emulator.endpoint,
      INFRA_AWS_CA_BUNDLE: emulator.caBundle,
      INFRA_EMULATOR_STATE_DIR: join(emulator.dir, "state"),
      INFRA_CONFIG_DIR: configDir,
      INFRA_CONFIG: undefined,
      PATH: `${emulator.binDir}:${process.env.PATH ?? ""}`,
    };
    const ctx: Context = { emulator, env, ledger, artefacts: loadArtefacts(), write, synthGate: Promise.resolve(), logCounter: 0, running };
    const roles = assignRoles(configs);
    const results: EnvironmentResult[] = configs.map((c) => ({ environment: c.environment, stacks: [], deployed: false }));

    // Environments run side by side; cdktf.out/ is shared, so deploys take turns to synthesize (operate).
    // Each lifecycle starts when its own deploy is done; coexistence is checked once all are, before any destroy.
    const deploys = configs.map((config, i) => firstDeploy(ctx, config, results[i]));
    const everyDeployed = Promise.all(deploys).then(() => checkCoexistence(ctx, configs, results));
    await Promise.all(configs.map((config, i) => deploys[i].then(() => lifecycle(ctx, config, roles[i], results[i], everyDeployed))));
    await everyDeployed;

    write("");
    write("timings (this machine, environments in parallel):");
    for (const r of results) {
      write(
        `  ${r.environment}: first deploy ${r.deployMs ? seconds(r.deployMs) : "-"} (${r.stacks.map((s) => `${s.stack.slice(r.environment.length + 1)} ${s.seconds.toFixed(0)} s`).join(", ")}); whole lifecycle ${r.lifecycleMs ? seconds(r.lifecycleMs) : "-"}`,
      );
    }
    write(`  total ${seconds(Date.now() - started)}`);
  } catch (err) {
    ledger.fail("e2e run", (err as Error).stack ?? String(err));
  } finally {
    // After a failure the emulator's request log (every call, with moto's own errors) goes with the
    // commands' output, so it outlives the emulator's temporary folder.
    if (ledger.failed > 0 && emulator && existsSync(emulator.log)) copyFileSync(emulator.log, join(LOG_DIR, basename(emulator.log)));
    await emulator?.stop();
    process.off("SIGINT", stopOnSignal);
    process.off("SIGTERM", stopOnSignal);
  }
  write(ledger.summary());
  return ledger.failed === 0 && ledger.passed > 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
