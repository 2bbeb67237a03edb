/**
 * A previous release, for `npm run upgrade-check`: its commit checked out into a temporary, detached
 * git worktree (removed afterwards whatever happens), and any release's stacks synthesized with that
 * release's own code and config files: its `cdktf.json` app command, run in its checkout with
 * `CDKTF_OUTDIR` and `INFRA_CONFIG` naming one environment's file.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { readManifest, type SynthesizedStack } from "./synth";

/** One environment's synthesis runs the whole app: seconds normally, far longer means it hangs. */
const SYNTH_TIMEOUT_MS = 10 * 60_000;

export interface ReleaseCheckout {
  /** The checkout's folder. */
  readonly dir: string;
  /** The full commit id `ref` named. */
  readonly commit: string;
  /** Removes the worktree (idempotent; also runs when this process exits). */
  remove(): void;
}

/** The commit `ref` names in `repo`; throws a readable error when it names none. */
export function resolveCommit(repo: string, ref: string): string {
  try {
    return execFileSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { cwd: repo, encoding: "utf8" }).trim();
  } catch {
    throw new Error(`--from: ${ref} names no commit of this repository (a tag, branch or commit id)`);
  }
}

/**
 * Checks `ref` out, detached, into a fresh temporary folder, with this checkout's node_modules linked
 * in (the release runs on today's packages: a release whose package-lock differs is synthesized with
 * the versions installed here). The worktree is removed by remove(), or at exit if nobody did.
 */
export function checkoutRelease(repo: string, ref: string): ReleaseCheckout {
  const commit = resolveCommit(repo, ref);
  const parent = mkdtempSync(join(tmpdir(), "infra-upgrade-"));
  // Git names a worktree's record after the folder's base name: a unique one keeps two checks running
  // at once from sharing (and removing) one record.
  const dir = join(parent, `${commit.slice(0, 12)}-${basename(parent).slice("infra-upgrade-".length)}`);
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    process.off("exit", remove);
    try {
      execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: repo, stdio: "ignore" });
    } catch {
      // not registered (the add failed) or already gone: the folder and the record are removed below
    }
    rmSync(parent, { recursive: true, force: true });
    try {
      execFileSync("git", ["worktree", "prune"], { cwd: repo, stdio: "ignore" });
    } catch {
      // nothing to prune
    }
  };
  process.on("exit", remove);
  try {
    execFileSync("git", ["worktree", "add", "--detach", "--quiet", dir, commit], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    const modules = join(repo, "node_modules");
    if (existsSync(modules)) symlinkSync(realpathSync(modules), join(dir, "node_modules"));
  } catch (err) {
    remove();
    throw err;
  }
  return { dir, commit, remove };
}

/** The `app` command of a checkout's cdktf.json. */
export function appCommand(checkout: string): string {
  const file = join(checkout, "cdktf.json");
  const app = (JSON.parse(readFileSync(file, "utf8")) as { app?: unknown }).app;
  if (typeof app !== "string" || app.trim() === "") throw new Error(`${file}: no "app" command`);
  return app;
}

/** The config file of `environment` in a checkout, or undefined when that release has none. */
export function releaseConfig(checkout: string, environment: string): string | undefined {
  const file = join(checkout, "config", `${environment}.json`);
  return existsSync(file) ? file : undefined;
}

/**
 * Synthesizes one environment of the release checked out in `checkout` into `outdir` with the
 * release's own app and its own config file, in a child process; returns its stacks in deploy order.
 * Emulator variables are not passed on: what is synthesized is what AWS would get.
 */
export async function synthesizeRelease(checkout: string, configFile: string, outdir: string): Promise<SynthesizedStack[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, INFRA_CONFIG: configFile, CHECKPOINT_DISABLE: "1" };
  for (const key of ["INFRA_CONFIG_DIR", "INFRA_AWS_ENDPOINT", "INFRA_AWS_CA_BUNDLE", "INFRA_EMULATOR_STATE_DIR"]) delete env[key];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn("sh", ["-c", appCommand(checkout)], { cwd: checkout, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      output += `\n(killed after ${SYNTH_TIMEOUT_MS / 60000} minutes)`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already ended
      }
    }, SYNTH_TIMEOUT_MS);
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve({ code: c, output });
    });
  });
  if (code !== 0 || !existsSync(join(outdir, "manifest.json"))) {
    throw new Error(`synthesis of ${configFile} failed (exit ${code}):\n${output.trim().split("\n").slice(-15).join("\n")}`);
  }
  return readManifest(outdir);
}

/** A fresh temporary folder for one synthesis. */
export function synthFolder(label: string): string {
  return mkdtempSync(join(tmpdir(), `infra-upgrade-${label.replace(/[^\w.-]+/g, "_")}-`));
}
