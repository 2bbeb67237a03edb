/**
 * Running Terraform from our tools: the provider mirror, the CLI config we write for it, and one
 * function that runs a terraform command. Every terraform call of the project goes through here.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
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
}

/**
 * Writes a CLI config to a fresh temp dir. With a mirror: providers come only from it
 * (filesystem_mirror, no direct installation), so nothing reaches the network. Without one:
 * normal installation into one shared plugin cache, so each stack does not download again.
 * Either way the user's own TF_CLI_CONFIG_FILE is not read.
 */
export function prepareTerraform(env: NodeJS.ProcessEnv = process.env): TerraformSetup {
  const mirror = findPluginMirror(env);
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
  const cache = join(homedir(), ".cache", "infra", "terraform-plugins");
  mkdirSync(cache, { recursive: true });
  writeFileSync(cliConfig, `plugin_cache_dir = ${JSON.stringify(cache)}\n`);
  return { cliConfig };
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

/** Runs `terraform <args>` in `cwd` with our CLI config; never interactive, never phones home. */
export function terraform(
  args: readonly string[],
  cwd: string,
  setup: TerraformSetup,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  const env = {
    ...process.env,
    TF_CLI_CONFIG_FILE: setup.cliConfig,
    TF_IN_AUTOMATION: "1",
    TF_INPUT: "0",
    CHECKPOINT_DISABLE: "1",
    // INFRA_AWS_ENDPOINT set: the emulator's endpoint, CA and placeholder credentials (scripts/lib/emulator.ts).
    ...emulatorTerraformEnv(cwd),
    ...extraEnv,
  };
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.env.TERRAFORM_BINARY ?? "terraform", args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", (err) => reject(new Error(`could not run terraform (${err.message}); install Terraform >= 1.11`)));
    child.on("close", (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
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
