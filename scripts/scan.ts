/**
 * npm run scan [-- <stacks dir>]: the field's own scanners on what we ship. checkov on every synthesized
 * stack, zizmor (security) and actionlint (correctness) on .github/workflows, all pinned in the project's
 * venv (scripts/python/requirements.txt). With no folder it synthesizes the configs main.ts would
 * (config/*.json, or INFRA_CONFIG) into a temporary folder first, so it never scans a stale cdktf.out;
 * given a folder (cdktf.out/stacks, or cdktf.out) it scans what is there.
 *
 * Prints a table per stack (passed, failed, skipped), every unskipped failure, and ends with
 * `N passed, M failed`. Exit 0 only when nothing failed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { ConfigError } from "../config/load";
import { ensurePythonTools, type PythonTools } from "./lib/python-tools";
import {
  classify,
  forCheckov,
  formatReport,
  indexStack,
  parseActionlintOutput,
  parseCheckovOutput,
  parseZizmorOutput,
  totals,
  type StackIndex,
  type WorkflowScan,
} from "./lib/scan";
import { synthesize } from "./lib/synth";

const ROOT = join(__dirname, "..");
const WORKFLOWS = join(ROOT, ".github", "workflows");
/** checkov reads 26 stacks in about 10 s on 2 cores; far longer means it hangs. */
const TOOL_TIMEOUT_MS = 5 * 60_000;

async function main(): Promise<number> {
  const given = process.argv[2];
  const work = mkdtempSync(join(tmpdir(), "infra-scan-"));
  try {
    const stacksDir = given ? stacksFolder(resolve(given)) : synthesizeShipped(work);
    const tools = await ensurePythonTools({ log: (line) => process.stderr.write(`${line}\n`) });
    const stacks = readStacks(stacksDir);
    if (stacks.size === 0) throw new Error(`no stack (a folder with cdk.tf.json) in ${stacksDir}`);
    const copy = join(work, "checkov");
    for (const [name, json] of stacks) {
      mkdirSync(join(copy, name), { recursive: true });
      writeFileSync(join(copy, name, "cdk.tf.json"), JSON.stringify(forCheckov(json), null, 2));
    }
    const indexes = new Map<string, StackIndex>([...stacks].map(([name, json]) => [name, indexStack(json)]));
    const checkov = await run(tools.bin("checkov"), [
      "-d",
      copy,
      "--framework",
      "terraform_json",
      "--output",
      "json",
      "--compact",
      "--skip-download",
    ]);
    const results = classify(parsed(checkov, parseCheckovOutput), indexes);
    const workflows = await scanWorkflows(tools);
    process.stdout.write(`${formatReport(results, workflows)}\n`);
    return totals(results, workflows).failed === 0 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError || err instanceof ScanError ? err.message : (err as Error).stack}\n`);
    // The closing line .ci/run counts: a scan that could not run is one failure, not a silent pass.
    process.stdout.write("0 passed, 1 failed\n");
    return 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

class ScanError extends Error {}

function synthesizeShipped(work: string): string {
  const outdir = join(work, "synth");
  synthesize(outdir);
  return join(outdir, "stacks");
}

/** `cdktf.out` or `cdktf.out/stacks`: the folder whose sub-folders hold a cdk.tf.json each. */
function stacksFolder(dir: string): string {
  if (!existsSync(dir)) throw new ScanError(`${dir} does not exist (synthesize first: npm run synth)`);
  return existsSync(join(dir, "stacks")) && !existsSync(join(dir, "cdk.tf.json")) ? join(dir, "stacks") : dir;
}

function readStacks(dir: string): Map<string, Record<string, unknown>> {
  const stacks = new Map<string, Record<string, unknown>>();
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = join(dir, entry.name, "cdk.tf.json");
    if (entry.isDirectory() && existsSync(file)) stacks.set(entry.name, JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>);
  }
  return stacks;
}

async function scanWorkflows(tools: PythonTools): Promise<WorkflowScan[]> {
  const files = readdirSync(WORKFLOWS)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => relative(ROOT, join(WORKFLOWS, f)));
  // --offline: zizmor's online audits ask GitHub about each action's refs, which these machines cannot reach;
  // the pins are checked by __tests__/scripts/workflows.test.ts instead.
  const zizmor = await run(tools.bin("zizmor"), ["--offline", "--format", "json", ...files]);
  // actionlint lints run: scripts with shellcheck when it is on PATH (.ci/run installs it).
  const actionlint = await run(tools.bin("actionlint"), ["-format", "{{json .}}", ...files]);
  const shellcheck = await run("shellcheck", ["--version"]).then(
    (r) => r.code === 0,
    () => false,
  );
  return [
    { tool: "zizmor", files, findings: parsed(zizmor, parseZizmorOutput) },
    {
      tool: shellcheck ? "actionlint (with shellcheck)" : "actionlint (shellcheck not on PATH: run: scripts unchecked)",
      files,
      findings: parsed(actionlint, parseActionlintOutput),
    },
  ];
}

/** A tool's JSON report, or an error that shows what the tool said instead. */
function parsed<T>(result: { code: number; stdout: string; stderr: string }, parse: (stdout: string) => T): T {
  try {
    return parse(result.stdout);
  } catch (err) {
    const said = result.stderr.trim().split("\n").slice(-15).join("\n");
    throw new ScanError(`${(err as Error).message} (exit ${result.code})${said ? `\n${said}` : ""}`);
  }
}

/** Runs a tool from the repository root; stdout kept apart (it is the JSON report), killed after the timeout. */
function run(command: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LOG_LEVEL: "ERROR" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), TOOL_TIMEOUT_MS);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new ScanError(`${command} did not start: ${err.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (signal) reject(new ScanError(`${command} was killed (${signal}) after ${TOOL_TIMEOUT_MS / 1000} s:\n${stderr.trim()}`));
      else resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}

main().then((code) => process.exit(code));
