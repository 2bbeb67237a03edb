/**
 * The SSM port-forwarding tunnel to the private RDS instance, through the bastion: the command that
 * opens it, the checks that must pass first, and a handle that opens it and waits until it works.
 * Used by `npm run tunnel` and by `npm run deploy` around the tenants stack.
 *
 * Nothing here prints a secret: the session's own output (session id, port opened) is passed on, and
 * the database password never passes through this module.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";
import type { StackOutputs } from "./outputs";

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
 * Checks the aws CLI, the session-manager-plugin and the deployed outputs the tunnel needs; returns
 * the tunnel's target or throws TunnelPrerequisitesMissing listing every missing piece at once.
 */
export function checkTunnelPrerequisites(input: TunnelPrerequisites): Pick<TunnelOptions, "bastionInstanceId" | "host" | "remotePort"> {
  const find = input.findExecutable ?? ((name: string) => findOnPath(name));
  const missing: string[] = [];
  if (!find("aws")) missing.push(`aws CLI: not found on PATH; install AWS CLI v2 (${INSTALL_AWS_CLI})`);
  if (!find("session-manager-plugin")) {
    missing.push(`session-manager-plugin: not found on PATH; the aws CLI needs it for SSM sessions (${INSTALL_PLUGIN})`);
  }

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
    "bastion_instance_id",
    "is bastion.enabled false, or the access stack not deployed?",
  );
  const host = output("data", input.data, "db_instance_address", "is the data stack deployed?");
  const port = output("data", input.data, "db_instance_port", "is the data stack deployed?");

  if (typeof bastionInstanceId === "string" && bastionInstanceId !== "" && !/^i-[0-9a-f]{8,17}$/.test(bastionInstanceId)) {
    missing.push(
      `${input.environment}-access output bastion_instance_id: must be an EC2 instance id such as i-0123456789abcdef0 (got ${bastionInstanceId})`,
    );
  }
  const remotePort = Number(port);
  if (port !== undefined && port !== null && port !== "" && !(Number.isInteger(remotePort) && remotePort >= 1 && remotePort <= 65535)) {
    missing.push(`${input.environment}-data output db_instance_port: must be a port 1-65535 (got ${String(port)})`);
  }
  if (missing.length > 0) throw new TunnelPrerequisitesMissing(missing);
  return { bastionInstanceId: String(bastionInstanceId), host: String(host), remotePort };
}

// ---------------------------------------------------------------- the running tunnel

/** A started session process. */
export interface TunnelProcess {
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  /** Signals the process and anything it started (the session-manager-plugin). */
  kill(signal: NodeJS.Signals): void;
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
}

/**
 * Opens the tunnel and resolves once 127.0.0.1:localPort accepts connections, within a bounded wait.
 * Fails when the port is taken before the session starts (the wait would otherwise succeed against
 * whatever holds it), when the session ends first, or when the wait runs out.
 */
export async function startTunnel(opts: TunnelOptions, deps: TunnelDeps = {}): Promise<Tunnel> {
  const probe = deps.isPortOpen ?? isPortOpen;
  const delay = deps.delay ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = deps.timeoutMs ?? 60_000;
  const pollIntervalMs = deps.pollIntervalMs ?? 500;

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
    return code;
  });

  const stop = async (): Promise<void> => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    // The session-manager-plugin normally ends at once; after 5 s it is killed outright.
    for (let waited = 0; exitCode === undefined && waited < 5000; waited += 100) await delay(100);
    if (exitCode === undefined) child.kill("SIGKILL");
    await ended;
  };

  const attempts = Math.max(1, Math.ceil(timeoutMs / pollIntervalMs));
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (exitCode !== undefined) {
      throw new Error(`the SSM session ended before the tunnel opened (exit code ${exitCode})${tail(recent)}`);
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
 * the aws CLI starts (which would otherwise keep the port open).
 */
export function spawnDetached(command: string, args: readonly string[], onLine: (line: string) => void): TunnelProcess {
  const child = spawn(command, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
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
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        child.kill(signal);
      }
    },
  };
}
