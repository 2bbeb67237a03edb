/**
 * The AWS emulator for `npm run e2e`: moto's server (pinned in scripts/python/requirements.txt,
 * hash-checked, in the project's .venv) over TLS on a free 127.0.0.1 port with a throwaway CA,
 * through scripts/python/moto_launcher.py, which also restores the AWS behaviours moto lacks.
 *
 * The server is stopped whatever happens: stop() ends its process group; if this process dies
 * first, the launcher sees its stdin close and exits; on a normal exit a hook kills it too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePythonTools, type PythonTools } from "./python-tools";

const PYTHON_DIR = join(__dirname, "..", "python");
/** Importing moto's backends and binding takes a few seconds; far longer means it is broken. */
const READY_TIMEOUT_MS = 60_000;

export interface Emulator {
  /** https://127.0.0.1:<port> */
  readonly endpoint: string;
  /** The throwaway CA that signed the server's certificate. */
  readonly caBundle: string;
  /** A private folder for this emulator run (certificates, request log, shims); removed by stop(). */
  readonly dir: string;
  /** moto's request log, one line per call (kept in `dir`). */
  readonly log: string;
  /** A folder to put first on PATH: `aws` (scripts/python/aws_shim.py) and a `session-manager-plugin` that refuses. */
  readonly binDir: string;
  readonly python: PythonTools;
  stop(): Promise<void>;
}

export interface StartOptions {
  readonly log?: (line: string) => void;
}

export async function startMoto(options: StartOptions = {}): Promise<Emulator> {
  const python = await ensurePythonTools({ log: options.log });
  const dir = mkdtempSync(join(tmpdir(), "infra-e2e-"));
  const log = join(dir, "moto.log");
  const child = spawn(python.python, [join(PYTHON_DIR, "moto_launcher.py"), "--dir", dir], {
    detached: true,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  const logStream = createWriteStream(log);
  child.stderr?.pipe(logStream);

  let stopped = false;
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = (): void => {
    kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", onExit);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off("exit", onExit);
    child.stdin?.end();
    kill("SIGTERM");
    await exited(child, 5_000).then((done) => {
      if (!done) kill("SIGKILL");
    });
    logStream.end();
    killLeftovers(dir);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [port, caBundle] = await readyLine(child, log);
    const binDir = writeShims(dir, python);
    return { endpoint: `https://127.0.0.1:${port}`, caBundle, dir, log, binDir, python, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * Ends processes still running from inside `dir`: Terraform's provider plugins run from the provider
 * folder under the emulator's state dir and can outlive an interrupted terraform (they are not in
 * its process group). Only this run's own folder is matched.
 */
function killLeftovers(dir: string): void {
  if (!existsSync("/proc")) return;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      // argv[0], not /proc/<pid>/exe: the provider folder links to the mirror, so exe resolves outside `dir`.
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
      if (argv0.startsWith(`${dir}/`)) process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone, or not ours to read
    }
  }
}

/** Waits for `READY <port> <ca>` on the launcher's stdout. */
function readyLine(child: ChildProcess, log: string): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`moto did not start within ${READY_TIMEOUT_MS / 1000} s (log: ${log})`)),
      READY_TIMEOUT_MS,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = out.match(/^READY (\d+) (\S+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve([Number(match[1]), match[2]]);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`moto exited before it was ready (exit ${code}); its log: ${log}`));
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** `aws` answered by the shim; `session-manager-plugin` exits with why it cannot work here. */
function writeShims(dir: string, python: PythonTools): string {
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const script = (name: string, body: string): void => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  script("aws", `exec ${JSON.stringify(python.python)} ${JSON.stringify(join(PYTHON_DIR, "aws_shim.py"))} "$@"`);
  script(
    "session-manager-plugin",
    `echo "session-manager-plugin: the emulator has no SSM sessions, so no tunnel to the database can open here" >&2\nexit 1`,
  );
  return bin;
}
