/**
 * The SSM port-forwarding tunnel to the private RDS instance, through the bastion: the command that
 * opens it, the checks that must pass first, a handle that opens it and waits until it works, and a
 * session around it that starts a bastion kept stopped and stops it again. Used by `npm run tunnel`,
 * `npm run plan --include-tenants` and `npm run deploy` (around the tenants stack).
 *
 * Nothing here prints a secret: the session's own output (session id, port opened) is passed on, and
 * the database password never passes through this module.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, statSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { EnvironmentConfig } from "../../config/schema";
import { ACCESS_OUTPUTS, DATA_OUTPUTS } from "../../stacks/outputs";
import { bastionPowerCommands } from "./operator/plan";
import { readOutputs, type StackOutputs } from "./outputs";
import { synthesize } from "./synth";
import { prepareTerraform, type RunResult } from "./terraform";

export interface TunnelOptions {
  readonly bastionInstanceId: string;
  /** The RDS address, as the bastion resolves it. */
  readonly host: string;
  readonly remotePort: number;
  /** The port on 127.0.0.1 the tunnel listens on (`tenants.tunnelPort`). */
  readonly localPort: number;
  readonly region: string;
}

/** The SSM document that forwards a local port to a host the target instance can reach. */
export const PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost";

const INSTALL_AWS_CLI = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html";
const INSTALL_PLUGIN = "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html";

/** `aws ssm start-session ...` forwarding 127.0.0.1:localPort to host:remotePort through the bastion. */
export function tunnelCommand(opts: TunnelOptions): { command: string; args: string[] } {
  const parameters = { host: [opts.host], portNumber: [String(opts.remotePort)], localPortNumber: [String(opts.localPort)] };
  return {
    command: "aws",
    args: [
      "ssm",
      "start-session",
      "--region",
      opts.region,
      "--target",
      opts.bastionInstanceId,
      "--document-name",
      PORT_FORWARDING_DOCUMENT,
      "--parameters",
      JSON.stringify(parameters),
    ],
  };
}

// ---------------------------------------------------------------- prerequisites

/** The full path of executable `name` on PATH, or undefined. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const extensions = process.platform === "win32" ? (env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      try {
        if (!statSync(candidate).isFile()) continue;
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

/** Everything the tunnel still needs, one line per missing thing. */
export class TunnelPrerequisitesMissing extends Error {
  constructor(readonly missing: readonly string[]) {
    super(`cannot open the SSM tunnel:\n${missing.map((m) => `  - ${m}`).join("\n")}`);
    this.name = "TunnelPrerequisitesMissing";
  }
}

export interface TunnelPrerequisites {
  /** The environment, for messages (`prod`). */
  readonly environment: string;
  /** Outputs of `<env>-access`, or the error that kept them from being read. */
  readonly access: StackOutputs | Error;
  /** Outputs of `<env>-data`, or the error that kept them from being read. */
  readonly data: StackOutputs | Error;
  /** PATH lookup. @default findOnPath */
  readonly findExecutable?: (name: string) => string | undefined;
}

/**
 * The aws CLI and the session-manager-plugin, which every SSM session needs (the tunnel's, ECS Exec's):
 * one line per missing tool, saying where to get it. `purpose` names the sessions in the message.
 */
export function missingSessionTools(purpose: string, find: (name: string) => string | undefined = (name) => findOnPath(name)): string[] {
  const missing: string[] = [];
  if (!find("aws")) missing.push(`aws CLI: not found on PATH; install AWS CLI v2 (${INSTALL_AWS_CLI})`);
  if (!find("session-manager-plugin")) {
    missing.push(`session-manager-plugin: not found on PATH; the aws CLI needs it for ${purpose} (${INSTALL_PLUGIN})`);
  }
  return missing;
}

/**
 * Checks the aws CLI, the session-manager-plugin and the deployed outputs the tunnel needs; returns
 * the tunnel's target or throws TunnelPrerequisitesMissing listing every missing piece at once.
 */
export function checkTunnelPrerequisites(input: TunnelPrerequisites): Pick<TunnelOptions, "bastionInstanceId" | "host" | "remotePort"> {
  const missing = missingSessionTools("SSM sessions", input.findExecutable);

  const output = (layer: "access" | "data", outputs: StackOutputs | Error, name: string, why: string): unknown => {
    if (outputs instanceof Error) return undefined;
    const value = outputs[name];
    if (value === undefined || value === null || value === "")
      missing.push(`${input.environment}-${layer} output ${name}: missing (${why})`);
    return value;
  };
  for (const [layer, outputs] of [
    ["access", input.access],
    ["data", input.data],
  ] as const) {
    const stack = `${input.environment}-${layer}`;
    // OutputsUnavailable already starts with the stack's name.
    if (outputs instanceof Error) missing.push(`${stack} outputs: ${outputs.message.replace(`${stack}: `, "")}`);
  }
  const bastionInstanceId = output(
    "access",
    input.access,
    ACCESS_OUTPUTS.bastionInstanceId,
    "is bastion.enabled false, or the access stack not deployed?",
  );
  const host = output("data", input.data, DATA_OUTPUTS.dbInstanceAddress, "is the data stack deployed?");
  const port = output("data", input.data, DATA_OUTPUTS.dbInstancePort, "is the data stack deployed?");

  if (typeof bastionInstanceId === "string" && bastionInstanceId !== "" && !/^i-[0-9a-f]{8,17}$/.test(bastionInstanceId)) {
    missing.push(
      `${input.environment}-access output ${ACCESS_OUTPUTS.bastionInstanceId}: must be an EC2 instance id such as i-0123456789abcdef0 (got ${bastionInstanceId})`,
    );
  }
  const remotePort = Number(port);
  if (port !== undefined && port !== null && port !== "" && !(Number.isInteger(remotePort) && remotePort >= 1 && remotePort <= 65535)) {
    missing.push(`${input.environment}-data output ${DATA_OUTPUTS.dbInstancePort}: must be a port 1-65535 (got ${String(port)})`);
  }
  if (missing.length > 0) throw new TunnelPrerequisitesMissing(missing);
  return { bastionInstanceId: String(bastionInstanceId), host: String(host), remotePort };
}

/**
 * The tunnel's target from the deployed `<env>-access` and `<env>-data` outputs (synthesized into a
 * temp dir, read through their real backends); throws TunnelPrerequisitesMissing naming what is missing.
 */
export async function readTunnelTarget(
  config: EnvironmentConfig,
  log: (line: string) => void,
): Promise<Pick<TunnelOptions, "bastionInstanceId" | "host" | "remotePort">> {
  const outdir = mkdtempSync(join(tmpdir(), "infra-tunnel-"));
  try {
    const stacks = synthesize(outdir, [config]);
    const setup = prepareTerraform();
    const read = async (layer: "access" | "data"): Promise<StackOutputs | Error> => {
      const stack = stacks.find((s) => s.name === `${config.environment}-${layer}`);
      if (!stack) return new Error("stack not synthesized");
      return readOutputs(stack, setup).catch((err: Error) => err);
    };
    log(`reading the outputs of ${config.environment}-access and ${config.environment}-data ...`);
    const [access, data] = await Promise.all([read("access"), read("data")]);
    return checkTunnelPrerequisites({ environment: config.environment, access, data });
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- the running tunnel

/** A started session process. */
export interface TunnelProcess {
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Signals the process and anything it started (the session-manager-plugin). */
  kill(signal: NodeJS.Signals): void;
  /**
   * Kills whatever of the session's process group outlived its leader (a session-manager-plugin
   * that ignored SIGTERM would keep the port). Called once the leader has exited.
   */
  reap?(): void;
}

export interface Tunnel {
  /** Ends the session; resolves once the process has exited. */
  close(): Promise<void>;
  /** Resolves when the session ends by itself (bastion stopped, session timeout) or after close(). */
  readonly ended: Promise<number | null>;
}

export interface TunnelDeps {
  /** Starts the session. @default spawnDetached */
  readonly spawn?: (command: string, args: readonly string[], onLine: (line: string) => void) => TunnelProcess;
  /** Whether 127.0.0.1:port accepts a TCP connection. @default isPortOpen */
  readonly isPortOpen?: (port: number) => Promise<boolean>;
  readonly delay?: (ms: number) => Promise<void>;
  /** Upper bound on the wait for the tunnel to accept connections. @default 60000 */
  readonly timeoutMs?: number;
  /** @default 500 */
  readonly pollIntervalMs?: number;
  /** Each line the session prints (session id, "Port ... opened"); never a secret. */
  readonly onOutput?: (line: string) => void;
  /** Aborting it (Ctrl-C) during the wait ends the session and rejects with TunnelInterrupted. */
  readonly signal?: AbortSignal;
}

/** The wait for the tunnel was given up on purpose (Ctrl-C); the session has been ended. */
export class TunnelInterrupted extends Error {
  constructor() {
    super("interrupted: the SSM session was ended before the tunnel opened");
    this.name = "TunnelInterrupted";
  }
}

/**
 * Opens the tunnel and resolves once 127.0.0.1:localPort accepts connections, within a bounded wait.
 * Fails when the port is taken before the session starts (the wait would otherwise succeed against
 * whatever holds it), when the session ends first, or when the wait runs out.
 */
export async function startTunnel(opts: TunnelOptions, deps: TunnelDeps = {}): Promise<Tunnel> {
  const probe = deps.isPortOpen ?? isPortOpen;
  const { signal } = deps;
  const delay = deps.delay ?? ((ms: number) => abortableDelay(ms, signal));
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 500;

  if (signal?.aborted) throw new TunnelInterrupted();
  if (await probe(opts.localPort)) {
    throw new Error(
      `127.0.0.1:${opts.localPort} is already in use (another tunnel, or a local PostgreSQL?); close it or set tenants.tunnelPort to a free port`,
    );
  }
  const { command, args } = tunnelCommand(opts);
  const recent: string[] = [];
  const child = (deps.spawn ?? spawnDetached)(command, args, (line) => {
    recent.push(line);
    if (recent.length > 10) recent.shift();
    deps.onOutput?.(line);
  });
  let exitCode: number | null | undefined;
  const ended = child.exited.then((code) => {
    exitCode = code;
    child.reap?.();
    return code;
  });

  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    // The session-manager-plugin normally ends at once; after 5 s it is killed outright. This wait
    // must not be cut short by the abort that asked for it.
    const pause = deps.delay ?? ((ms: number) => abortableDelay(ms));
    for (let waited = 0; exitCode === undefined && waited < 5000; waited += 100) await pause(100);
    if (exitCode === undefined) child.kill("SIGKILL");
    await ended;
  };

  const attempts = Math.max(1, Math.ceil(timeoutMs / pollIntervalMs));
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (exitCode !== undefined) {
      throw new Error(`the SSM session ended before the tunnel opened (exit code ${exitCode})${tail(recent)}`);
    }
    if (signal?.aborted) {
      await stop();
      throw new TunnelInterrupted();
    }
    if (await probe(opts.localPort)) return { close: stop, ended };
    await delay(pollIntervalMs);
  }
  await stop();
  throw new Error(
    `the tunnel did not accept connections on 127.0.0.1:${opts.localPort} within ${Math.round(timeoutMs / 1000)} s; ` +
      `is the bastion running and registered with SSM (aws ssm describe-instance-information)?${tail(recent)}`,
  );
}

/** setTimeout as a promise that settles early (resolves) when `signal` aborts. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function tail(lines: readonly string[]): string {
  return lines.length > 0 ? `:\n${lines.map((l) => `    ${l}`).join("\n")}` : "";
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isPortOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * Spawns the session in its own process group, so closing it also ends the session-manager-plugin
 * the aws CLI starts (which would otherwise keep the port open). The group is not in the terminal's
 * foreground group, so Ctrl-C never reaches it: our own handlers end it, and if this process exits
 * first anyway, an exit hook kills the group.
 */
export function spawnDetached(command: string, args: readonly string[], onLine: (line: string) => void): TunnelProcess {
  const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const group = child.pid;
  const signalGroup = (signal: NodeJS.Signals): boolean => {
    if (group === undefined) return false;
    try {
      process.kill(-group, signal);
      return true;
    } catch {
      return false; // ESRCH: nothing of the group is left
    }
  };
  const onExit = () => signalGroup("SIGKILL");
  process.on("exit", onExit);
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream.on("data", (chunk: Buffer) => {
      const lines = (buffered + chunk.toString()).split(/\r?\n/);
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) onLine(line.trim());
    });
  }
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.once("error", (err) => {
      onLine(`could not start ${command}: ${err.message}`);
      resolve(127);
    });
  });
  return {
    exited,
    kill: (signal) => {
      if (!signalGroup(signal)) child.kill(signal);
    },
    reap: () => {
      signalGroup("SIGKILL");
      process.off("exit", onExit);
    },
  };
}

// ---------------------------------------------------------------- a session: bastion, tunnel, cleanup

/** Runs an AWS CLI command to completion; aborting `signal` ends it. */
export type CommandRunner = (argv: readonly string[], signal?: AbortSignal) => Promise<RunResult>;

export interface TunnelSessionOptions extends TunnelOptions {
  /**
   * `bastion.running: false`: the bastion is kept stopped between sessions. A stopped one is started
   * for the session and stopped again afterwards (also after a failure or Ctrl-C), as deploy does.
   */
  readonly bastionKeptStopped: boolean;
}

export interface TunnelSessionDeps extends TunnelDeps {
  /** @default runCommand (the real aws CLI) */
  readonly run?: CommandRunner;
  /** Progress for the operator (stderr). */
  readonly log?: (line: string) => void;
}

/** `aws ec2 describe-instances` reduced to the instance's state name (`stopped`, `running`, ...). */
export function bastionStateCommand(region: string, instanceId: string): string[] {
  const query = ["--query", "Reservations[0].Instances[0].State.Name", "--output", "text"];
  return ["aws", "ec2", "describe-instances", "--region", region, "--instance-ids", instanceId, ...query];
}

/**
 * Makes sure the bastion runs and SSM can reach it. Returns true when this call started it, so the
 * caller stops it again; a bastion found running (someone else's session, or a deploy) is left as found.
 */
export async function ensureBastionRunning(
  region: string,
  instanceId: string,
  deps: Pick<TunnelSessionDeps, "run" | "log" | "signal">,
): Promise<boolean> {
  const run = deps.run ?? runCommand;
  const log = deps.log ?? (() => undefined);
  const must = async (argv: readonly string[]): Promise<string> => {
    if (deps.signal?.aborted) throw new TunnelInterrupted();
    const result = await run(argv, deps.signal);
    if (deps.signal?.aborted) throw new TunnelInterrupted();
    if (result.code !== 0) throw new Error(`${argv.join(" ")} failed:\n${(result.stderr || result.stdout).trim()}`);
    return result.stdout.trim();
  };
  const power = bastionPowerCommands(region, instanceId);
  const [, wait] = power.start;
  const state = await must(bastionStateCommand(region, instanceId));
  if (state === "running" || state === "pending") {
    log(`the bastion ${instanceId} is already ${state}: using it, and leaving it running afterwards`);
    await must(wait);
    return false;
  }
  if (state === "stopping") {
    log(`the bastion ${instanceId} is stopping; waiting until it has stopped, to start it again`);
    await must(["aws", "ec2", "wait", "instance-stopped", "--region", region, "--instance-ids", instanceId]);
  } else if (state !== "stopped") {
    throw new Error(`the bastion ${instanceId} is ${state || "not found"}: it cannot be started (deploy the access stack again)`);
  }
  log(`starting the bastion ${instanceId} (bastion.running is false) and waiting for its status checks, about 1-2 minutes`);
  let started = false;
  try {
    for (const argv of power.start) {
      await must(argv);
      started = true;
    }
  } catch (err) {
    // Interrupted or failed half-way: a bastion that was asked to start is stopped again here.
    if (started) await stopBastion(region, instanceId, deps);
    throw err;
  }
  return true;
}

/** Stops the bastion again; never throws (it reports what to run instead). */
export async function stopBastion(region: string, instanceId: string, deps: Pick<TunnelSessionDeps, "run" | "log">): Promise<void> {
  const run = deps.run ?? runCommand;
  const log = deps.log ?? (() => undefined);
  const { stop } = bastionPowerCommands(region, instanceId);
  log(`stopping the bastion ${instanceId} again (bastion.running is false)`);
  // Never with the abort signal: this is the cleanup that Ctrl-C asked for.
  const result = await run(stop).catch((err: Error) => ({ code: 1, stdout: "", stderr: err.message }));
  if (result.code !== 0) log(`could not stop the bastion: ${(result.stderr || result.stdout).trim()}\n  run: ${stop.join(" ")}`);
}

/**
 * Opens the tunnel (starting a stopped bastion first), runs `body` while it is open, then closes it
 * and stops a bastion it started: after `body` returns, throws, or `deps.signal` aborts.
 */
export async function withTunnel<T>(
  options: TunnelSessionOptions,
  deps: TunnelSessionDeps,
  body: (tunnel: Tunnel) => Promise<T>,
): Promise<T> {
  const started = options.bastionKeptStopped ? await ensureBastionRunning(options.region, options.bastionInstanceId, deps) : false;
  try {
    const tunnel = await startTunnel(options, deps);
    try {
      return await body(tunnel);
    } finally {
      deps.log?.("closing the tunnel");
      await tunnel.close();
    }
  } finally {
    if (started) await stopBastion(options.region, options.bastionInstanceId, deps);
  }
}

/**
 * SIGINT, SIGTERM and SIGHUP as an AbortSignal: the first one aborts (cleanup then runs: the tunnel is
 * closed, a started bastion stopped); later ones are only acknowledged, because dying half-way would
 * leave the session's process group and the bastion running. `dispose` removes the handlers.
 */
export function interruptSignal(log: (line: string) => void = () => undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) log(`${name} again: still cleaning up (bounded), please wait`);
    else controller.abort(name);
  };
  // SIGHUP: the terminal was closed; the session and a started bastion must not outlive it either.
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const name of signals) process.on(name, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const name of signals) process.off(name, handler);
    },
  };
}

/** Runs a command, capturing its output; aborting `signal` terminates it. */
export function runCommand(argv: readonly string[], signal?: AbortSignal): Promise<RunResult> {
  return new Promise((resolve) => {
    const [command, ...args] = argv;
    // AWS_PAGER="": the AWS CLI would otherwise wait in a pager for a terminal that is not there.
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], signal, env: { ...process.env, AWS_PAGER: "" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", (err) => {
      // An abort kills the child, and "close" follows; a command that never started has no "close".
      if (err.name === "AbortError") return;
      resolve({ code: 127, stdout, stderr: `${stderr}could not run ${command}: ${err.message}` });
    });
    child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export interface HoldTunnelOptions extends TunnelSessionOptions {
  /** The environment, for the printed instructions. */
  readonly environment: string;
}

/**
 * `npm run tunnel`'s session: Ctrl-C handling first, then (for a bastion kept stopped) start it, open
 * the tunnel, print how to use it, and hold it until Ctrl-C or until the session ends by itself;
 * always close it and stop a bastion started here. Ctrl-C at any point, the wait for the port
 * included, leaves nothing running. Returns the exit code: 0 after Ctrl-C on an open tunnel, 1 when
 * the session ended by itself, 130 when interrupted before the tunnel opened.
 */
export async function holdTunnel(
  options: HoldTunnelOptions,
  deps: TunnelSessionDeps & { readonly print?: (text: string) => void } = {},
): Promise<number> {
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const print = deps.print ?? ((text: string) => process.stdout.write(text));
  return exitCodeOnInterrupt(log, (signal) =>
    withTunnel(options, { ...deps, log, signal }, async (tunnel) => {
      print(
        [
          `tunnel open: 127.0.0.1:${options.localPort} -> ${options.host}:${options.remotePort} via ${options.bastionInstanceId}`,
          `  psql "host=127.0.0.1 port=${options.localPort} dbname=postgres sslmode=require user=<user>"`,
          `  (master credentials: the secret named by output ${DATA_OUTPUTS.dbInstanceMasterUserSecretArn} of ${options.environment}-data)`,
          options.bastionKeptStopped ? "Ctrl-C closes it (and stops the bastion again if it was started for it)." : "Ctrl-C closes it.",
          "",
        ].join("\n"),
      );
      const aborted = new Promise<string>((resolve) => {
        if (signal.aborted) resolve(String(signal.reason));
        signal.addEventListener("abort", () => resolve(String(signal.reason)), { once: true });
      });
      const why = await Promise.race([aborted, tunnel.ended.then((code) => `the session ended (exit code ${code})`)]);
      log(`${why}; closing the tunnel`);
      return why.startsWith("the session ended") ? 1 : 0;
    }),
  );
}

/**
 * Runs a tunnel session with Ctrl-C (SIGINT, SIGTERM, SIGHUP) as its abort signal, unless `given` is
 * one already: a session interrupted before its tunnel opened says so and exits 130.
 */
export async function exitCodeOnInterrupt(
  log: (line: string) => void,
  session: (signal: AbortSignal) => Promise<number>,
  given?: AbortSignal,
): Promise<number> {
  const interrupt = given ? undefined : interruptSignal(log);
  try {
    return await session(given ?? interrupt!.signal);
  } catch (err) {
    if (err instanceof TunnelInterrupted) {
      log(`${err.message}; nothing is left running`);
      return 130;
    }
    throw err;
  } finally {
    interrupt?.dispose();
  }
}
