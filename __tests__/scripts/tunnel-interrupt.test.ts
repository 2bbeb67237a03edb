/**
 * Ctrl-C while `npm run tunnel` waits for the local port, for real: a fake `aws` on PATH starts a
 * fake session-manager-plugin that holds the port (bound, never accepting, so the wait goes on) and
 * ignores SIGTERM, as a stuck plugin would. A real SIGINT to the tunnel process must leave no
 * process of the fake alive and the port free.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const PYTHON = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).stdout.trim();

const FAKE_AWS = `#!${PYTHON}
import json, os, subprocess, sys
args = sys.argv[1:]
port = json.loads(args[args.index("--parameters") + 1])["localPortNumber"][0]
pids = os.environ["FAKE_AWS_PIDS"]
plugin = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "fake-plugin"), port, pids])
with open(pids, "a") as f:
    f.write("aws %d\\n" % os.getpid())
print("Starting session with SessionId: fake-0123", flush=True)
plugin.wait()
`;

const FAKE_PLUGIN = `#!${PYTHON}
import os, signal, socket, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))  # holds the port; never listens, so nothing can connect
with open(sys.argv[2], "a") as f:
    f.write("plugin %d\\n" % os.getpid())
while True:
    signal.pause()
`;

let dir: string;
let driver: ChildProcess | undefined;
let pids: number[] = [];

/** Alive and not a zombie (a killed child of a dead parent may wait for a reaper that never comes). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return stat === "" ? true : stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** Whether 127.0.0.1:port can be bound right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tunnel-interrupt-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "aws"), FAKE_AWS, { mode: 0o755 });
  writeFileSync(join(dir, "bin", "fake-plugin"), FAKE_PLUGIN, { mode: 0o755 });
  pids = [];
});

afterEach(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
  if (driver?.exitCode === null) driver.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

test("Ctrl-C during the wait for the port ends the aws CLI and its plugin, and frees the port", async () => {
  const port = await freePort();
  const pidFile = join(dir, "pids");
  const stderr: string[] = [];
  driver = spawn(process.execPath, ["--import", "tsx", join(__dirname, "..", "support", "tunnel-driver.ts"), String(port)], {
    cwd: join(__dirname, "..", ".."),
    env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}`, FAKE_AWS_PIDS: pidFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  driver.stderr!.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => driver!.once("exit", (code) => resolve(code)));

  // Both fakes run and the plugin holds the port; the tunnel is still waiting for it to accept.
  const lines = await until("the fake aws and plugin to start", () => {
    const text = existsSync(pidFile) ? readFileSync(pidFile, "utf8").trim().split("\n") : [];
    return text.length === 2 ? text : undefined;
  });
  pids = lines.map((l) => Number(l.split(" ")[1]));
  expect(lines.map((l) => l.split(" ")[0]).sort()).toEqual(["aws", "plugin"]);
  expect(await bindable(port)).toBe(false);
  await until("the session's output to reach the tunnel", () => stderr.join("").includes("session: Starting session"));

  driver.kill("SIGINT");

  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  await until("the tunnel to exit", () => code !== undefined);
  expect(code).toBe(130);
  await until("every process of the fake to end", () => pids.every((pid) => !alive(pid)));
  expect(await bindable(port)).toBe(true);
  expect(stderr.join("")).toContain("interrupted: the SSM session was ended before the tunnel opened; nothing is left running");
}, 60_000);
