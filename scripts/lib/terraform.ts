/**
 * Running Terraform from our tools: the provider mirror, the CLI config we write for it, and one
 * function that runs a terraform command. Every terraform call of the project goes through here.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { emulatorTerraformEnv } from "./emulator";

const REGISTRY = "registry.terraform.io";

/** Where machines commonly keep a filesystem mirror, checked in this order after TF_PLUGIN_MIRROR. */
const MIRROR_CANDIDATES = [
  "/opt/tf-plugins",
  join(homedir(), ".terraform.d", "plugins"),
  join(homedir(), ".local", "share", "terraform", "plugins"),
  "/usr/local/share/terraform/plugins",
  "/usr/share/terraform/plugins",
];

/**
 * The local provider mirror: the folder holding `registry.terraform.io/`. `TF_PLUGIN_MIRROR` wins
 * (and must be such a folder); otherwise the first well-known place that has one; else undefined
 * (a laptop with internet installs providers normally).
 */
export function findPluginMirror(
  env: NodeJS.ProcessEnv = process.env,
  candidates: readonly string[] = MIRROR_CANDIDATES,
): string | undefined {
  if (env.TF_PLUGIN_MIRROR) {
    const dir = resolve(env.TF_PLUGIN_MIRROR);
    if (!existsSync(join(dir, REGISTRY))) {
      throw new Error(
        `TF_PLUGIN_MIRROR=${env.TF_PLUGIN_MIRROR}: no ${REGISTRY}/ folder inside; point it at the folder that holds ${REGISTRY}/`,
      );
    }
    return dir;
  }
  return candidates.find((dir) => existsSync(join(dir, REGISTRY)));
}

/** Providers the mirror holds, as `registry.terraform.io/<namespace>/<type>`. */
export function mirroredProviders(mirror: string): Set<string> {
  const found = new Set<string>();
  const root = join(mirror, REGISTRY);
  for (const namespace of readdirSync(root)) {
    for (const type of readdirSync(join(root, namespace))) found.add(`${REGISTRY}/${namespace}/${type}`);
  }
  return found;
}

/** `aws` -> `registry.terraform.io/hashicorp/aws`; `cyrilgdn/postgresql` -> `registry.terraform.io/cyrilgdn/postgresql`. */
export function providerAddress(source: string): string {
  const parts = source.toLowerCase().split("/");
  if (parts.length === 1) return `${REGISTRY}/hashicorp/${parts[0]}`;
  if (parts.length === 2) return `${REGISTRY}/${parts[0]}/${parts[1]}`;
  return parts.join("/");
}

export interface TerraformSetup {
  /** The CLI config file every terraform call of this run uses. */
  readonly cliConfig: string;
  /** The mirror providers come from, or undefined when Terraform downloads them. */
  readonly mirror?: string;
  /** Providers available without a network: the mirror's, or undefined for "whatever the registry has". */
  readonly available?: ReadonlySet<string>;
  /**
   * The shared plugin cache, when there is no mirror. Terraform documents the cache as unsafe for
   * concurrent use, so `terraform()` runs the inits that use it one at a time (initLock).
   */
  readonly pluginCache?: string;
}

/**
 * Writes a CLI config to a fresh temp dir. With a mirror: providers come only from it
 * (filesystem_mirror, no direct installation, no plugin cache), so nothing reaches the network and
 * inits of stacks side by side only read it (an unpacked mirror is linked into each `.terraform/`, not
 * copied). Without one: normal installation into one shared plugin cache, so each stack does not
 * download again; inits that use it take turns. Either way the user's own TF_CLI_CONFIG_FILE (and a
 * TF_PLUGIN_CACHE_DIR) is not read. `places` replaces the well-known mirror folders and the cache
 * folder (for tests).
 */
export function prepareTerraform(
  env: NodeJS.ProcessEnv = process.env,
  places: { readonly mirrors?: readonly string[]; readonly cache?: string } = {},
): TerraformSetup {
  const mirror = findPluginMirror(env, places.mirrors);
  const dir = mkdtempSync(join(tmpdir(), "infra-tf-"));
  removeAtExit(dir);
  const cliConfig = join(dir, "terraform.rc");
  if (mirror) {
    writeFileSync(
      cliConfig,
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}\n    include = ["*/*/*"]\n  }\n}\n`,
    );
    return { cliConfig, mirror, available: mirroredProviders(mirror) };
  }
  const cache = places.cache ?? join(homedir(), ".cache", "infra", "terraform-plugins");
  mkdirSync(cache, { recursive: true });
  writeFileSync(cliConfig, `plugin_cache_dir = ${JSON.stringify(cache)}\n`);
  return { cliConfig, pluginCache: cache };
}

/** How long an init waits for another one using the same plugin cache (a provider download is minutes at worst). */
const INIT_LOCK_TIMEOUT_MS = 10 * 60_000;
const INIT_LOCK_POLL_MS = 200;

/** Inits of this process waiting for a cache, one chain per cache folder. */
const initTurns = new Map<string, Promise<void>>();

/**
 * Runs `task` while holding the plugin cache's init lock: one at a time within this process (a promise
 * chain) and across processes (a lock file holding the owner's pid, created exclusively; one left by a
 * process that no longer runs is taken over). Waits at most INIT_LOCK_TIMEOUT_MS.
 */
export async function withInitLock<T>(cache: string, task: () => Promise<T>): Promise<T> {
  const previous = initTurns.get(cache) ?? Promise.resolve();
  let release = (): void => undefined;
  const turn = new Promise<void>((r) => (release = r));
  initTurns.set(cache, turn);
  await previous;
  const file = join(cache, ".infra-init.lock");
  try {
    const deadline = Date.now() + INIT_LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        const fd = openSync(file, "wx");
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        if (!ownerAlive(file)) {
          rmSync(file, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new Error(
            `terraform init waited ${INIT_LOCK_TIMEOUT_MS / 60000} minutes for the plugin cache lock ${file}; remove it if no terraform runs`,
          );
        }
        await new Promise((r) => setTimeout(r, INIT_LOCK_POLL_MS));
      }
    }
    try {
      return await task();
    } finally {
      rmSync(file, { force: true });
    }
  } finally {
    if (initTurns.get(cache) === turn) initTurns.delete(cache);
    release();
  }
}

/** Whether the process named in a lock file still runs (an unreadable or empty file counts as alive, briefly being written). */
function ownerAlive(file: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(file, "utf8"));
  } catch {
    return true;
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** CLI config folders of this process, removed when it exits (one hook for all of them). */
const temporaryDirs = new Set<string>();
function removeAtExit(dir: string): void {
  if (temporaryDirs.size === 0) {
    process.once("exit", () => {
      for (const d of temporaryDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  temporaryDirs.add(dir);
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `terraform <args>` in `cwd` with our CLI config; never interactive, never phones home. An init
 * that uses the shared plugin cache waits for its turn (withInitLock). An init whose inputs are those of
 * the last successful init in the same data dir is not run again (initFingerprint). Aborting `stop`
 * sends the run one SIGINT, which terraform takes as a request to stop gracefully (state written, lock
 * released).
 */
export async function terraform(
  args: readonly string[],
  cwd: string,
  setup: TerraformSetup,
  extraEnv: NodeJS.ProcessEnv = {},
  stop?: AbortSignal,
): Promise<RunResult> {
  const env = terraformEnv(cwd, setup, extraEnv);
  if (args[0] !== "init") return spawnTerraform(args, cwd, env, stop);
  const dataDir = resolve(cwd, env.TF_DATA_DIR ?? ".terraform");
  const stamp = join(dataDir, INIT_STAMP);
  const fingerprint = initFingerprint(args, cwd, setup);
  if (existsSync(join(dataDir, "providers")) && existsSync(stamp) && readFileSync(stamp, "utf8") === fingerprint) {
    return { code: 0, stdout: "Terraform is already initialized here with these backend, providers and lock file.\n", stderr: "" };
  }
  const init = (): Promise<RunResult> => spawnTerraform(args, cwd, env, stop);
  rmSync(stamp, { force: true });
  const result = await (setup.pluginCache ? withInitLock(setup.pluginCache, init) : init());
  if (result.code === 0 && existsSync(dataDir)) {
    // Taken again after the init, which may have written the lock file; written whole, then renamed, so
    // an init of the same stack beside this one never reads half a stamp.
    const partial = `${stamp}.${process.pid}`;
    writeFileSync(partial, initFingerprint(args, cwd, setup));
    renameSync(partial, stamp);
  }
  return result;
}

/** Kept in the data dir (.terraform/ or TF_DATA_DIR): goes with what init wrote there. */
const INIT_STAMP = "infra-init.sha256";

/**
 * What an init's outcome depends on: its arguments, the CLI config (the mirror), the terraform binary,
 * the lock file, and the `terraform` and `module` blocks of every configuration file in the folder
 * (backend, required providers; the emulator override's backend too). Resources do not matter to init,
 * so a stack whose resources changed is not initialized again; changing any of these inits again. Each
 * init costs about 0.75 CPU s (mostly hashing the 700 MB AWS provider against the lock file).
 */
export function initFingerprint(args: readonly string[], cwd: string, setup: TerraformSetup): string {
  const hash = createHash("sha256");
  const add = (label: string, value: string): void => void hash.update(`${label}\0${value}\0`);
  add("args", args.join(" "));
  add("binary", process.env.TERRAFORM_BINARY ?? "terraform");
  add("cli config", existsSync(setup.cliConfig) ? readFileSync(setup.cliConfig, "utf8") : "");
  const lock = join(cwd, ".terraform.lock.hcl");
  add("lock", existsSync(lock) ? readFileSync(lock, "utf8") : "(none)");
  for (const file of readdirSync(cwd).sort()) {
    if (file.endsWith(".tf.json")) {
      let document: Record<string, unknown>;
      try {
        document = JSON.parse(readFileSync(join(cwd, file), "utf8")) as Record<string, unknown>;
      } catch {
        add(file, readFileSync(join(cwd, file), "utf8"));
        continue;
      }
      add(file, JSON.stringify([document.terraform ?? null, document.module ?? null]));
    } else if (file.endsWith(".tf")) {
      add(file, readFileSync(join(cwd, file), "utf8"));
    }
  }
  return hash.digest("hex");
}

function terraformEnv(cwd: string, setup: TerraformSetup, extraEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The CLI config decides about a cache; an inherited one would be shared by concurrent inits.
    TF_PLUGIN_CACHE_DIR: undefined,
    TF_CLI_CONFIG_FILE: setup.cliConfig,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    // Go's garbage collector, for terraform and the providers it starts (they inherit its environment), runs
    // half as often as by default: a plan of one stack on the emulator costs 4.3 CPU s instead of 5.0, for about
    // 5% more memory. A GOGC of the caller's own wins.
    GOGC: process.env.GOGC ?? "200",
    // INFRA_AWS_ENDPOINT set: the emulator's endpoint, CA and placeholder credentials (scripts/lib/emulator.ts).
    ...emulatorTerraformEnv(cwd),
    ...extraEnv,
  };
}

function spawnTerraform(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, stop: AbortSignal | undefined): Promise<RunResult> {
  if (stop?.aborted) return Promise.resolve({ code: 1, stdout: "", stderr: "not started: the run is stopping" });
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.env.TERRAFORM_BINARY ?? "terraform", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const onStop = (): void => void child.kill("SIGINT");
    stop?.addEventListener("abort", onStop, { once: true });
    child.on("error", (err) => {
      stop?.removeEventListener("abort", onStop);
      reject(new Error(`could not run terraform (${err.message}); install Terraform >= 1.11`));
    });
    child.on("close", (code) => {
      stop?.removeEventListener("abort", onStop);
      resolvePromise({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Runs `task` over `items` with at most `limit` at once, keeping the input order in the result. */
export async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
