/**
 * The project's Python test tools (moto server for `npm run e2e`, checkov, zizmor and actionlint for
 * `npm run scan`) live in one gitignored virtual environment, `.venv/` at the repository root,
 * installed exactly as scripts/python/requirements.txt pins them: every package and dependency at
 * one version, hash-checked, with no dependency resolution at install time.
 *
 * The venv is (re)built only when requirements.txt changed since the last install (a stamp file
 * holds its hash), so every run after the first starts at once.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");
export const REQUIREMENTS = join(ROOT, "scripts", "python", "requirements.txt");
export const VENV = join(ROOT, ".venv");
const STAMP = join(VENV, ".requirements.sha256");
/** The lock is compiled for this minor version; another may lack wheels for some pins. */
const PYTHON_MINOR = "3.11";
/** pip downloads about 150 MB the first time; far longer than this means the registry is unreachable. */
const INSTALL_TIMEOUT_MS = 15 * 60_000;

export interface PythonTools {
  /** Absolute path of a console script installed in the venv (`moto_server`, `checkov`, `zizmor`, `actionlint`). */
  bin(name: string): string;
  readonly python: string;
}

export interface EnsureOptions {
  /** Progress lines (what is being installed and why). */
  readonly log?: (line: string) => void;
  /** The interpreter that creates the venv. @default $PYTHON, else python3 */
  readonly python?: string;
}

/** The venv, installed or brought up to date first when requirements.txt changed. */
export async function ensurePythonTools(options: EnsureOptions = {}): Promise<PythonTools> {
  const log = options.log ?? (() => undefined);
  const tools: PythonTools = { bin: (name) => join(VENV, "bin", name), python: join(VENV, "bin", "python") };
  const wanted = requirementsHash();
  if (existsSync(tools.python) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === wanted) return tools;

  const python = options.python ?? process.env.PYTHON ?? "python3";
  const version = await run(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], 30_000);
  if (version.code !== 0)
    throw new Error(`${python} did not run (${version.output.trim() || "not found"}); install Python ${PYTHON_MINOR}`);
  if (version.output.trim() !== PYTHON_MINOR) {
    log(`note: ${python} is Python ${version.output.trim()}; scripts/python/requirements.txt is locked for ${PYTHON_MINOR}`);
  }
  log(`installing the Python test tools into ${VENV} (pinned, hash-checked: scripts/python/requirements.txt)`);
  rmSync(VENV, { recursive: true, force: true });
  const venv = await run(python, ["-m", "venv", VENV], 120_000);
  if (venv.code !== 0) throw new Error(`python -m venv failed (Debian: apt-get install python3-venv):\n${venv.output.trim()}`);
  const started = Date.now();
  // --no-compile: pip would byte-compile every module of every package (17 of the install's 46 CPU s here);
  // Python compiles on first import instead, only what moto and checkov load (about 4 CPU s, once).
  const pip = await run(
    tools.python,
    [
      "-m",
      "pip",
      "install",
      "--require-hashes",
      "--no-deps",
      "--no-compile",
      "--disable-pip-version-check",
      "--no-input",
      "-q",
      "-r",
      REQUIREMENTS,
    ],
    INSTALL_TIMEOUT_MS,
  );
  if (pip.code !== 0) {
    rmSync(VENV, { recursive: true, force: true });
    throw new Error(`pip install of scripts/python/requirements.txt failed:\n${lastLines(pip.output, 20)}`);
  }
  writeFileSync(STAMP, `${wanted}\n`);
  log(`Python test tools installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tools;
}

function requirementsHash(): string {
  return createHash("sha256").update(readFileSync(REQUIREMENTS)).digest("hex");
}

function lastLines(text: string, n: number): string {
  return text
    .trim()
    .split("\n")
    .filter((l) => !/^WARNING: Location .* is ignored/.test(l))
    .slice(-n)
    .join("\n");
}

/** Runs a command to completion, output captured, killed after `timeoutMs`. */
function run(command: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PIP_NO_INPUT: "1" } });
    let output = "";
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs / 1000} s)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      resolve({ code: 127, output: err.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}
