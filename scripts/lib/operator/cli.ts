/**
 * The operator commands' shared command line (`<env> [layer...] [--flag...]`) and config lookup:
 * deploy, destroy, status and cost read their arguments and environment here.
 */
import { configFiles, loadConfigs } from "../../../config/load";
import type { EnvironmentConfig } from "../../../config/schema";
import { LAYERS, type Layer } from "../../../stacks/layers";
import { defaultParallelism, parseParallel } from "../schedule";

export interface OperatorArgs {
  readonly environment: string;
  readonly only: readonly Layer[];
  readonly dryRun: boolean;
  readonly yes: boolean;
  /** `--parallel N`: at most N stacks at once. @default defaultParallelism() */
  readonly parallel: number;
  readonly flags: ReadonlySet<string>;
}

/** An operator mistake on the command line: printed with the usage, exit 1. */
export class UsageError extends Error {}

/**
 * `<env> [layer...] [--flag...]`; unknown flags and layers are errors naming what is allowed. When
 * `allowedFlags` has `--parallel`, it takes a value: `--parallel N` or `--parallel=N`.
 */
export function parseOperatorArgs(
  argv: readonly string[],
  allowedFlags: readonly string[] = ["--dry-run", "--yes", "--parallel"],
): OperatorArgs {
  const rest: string[] = [];
  let parallel = defaultParallelism();
  const takesParallel = allowedFlags.includes("--parallel");
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (takesParallel && (arg === "--parallel" || arg.startsWith("--parallel="))) {
      const value = arg === "--parallel" ? argv[++i] : arg.slice("--parallel=".length);
      try {
        parallel = parseParallel(value);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    } else rest.push(arg);
  }
  const allowed = allowedFlags.map((f) => (f === "--parallel" ? "--parallel N" : f));
  const flags = new Set(rest.filter((a) => a.startsWith("-")));
  for (const flag of flags) {
    if (!allowedFlags.includes(flag)) throw new UsageError(`unknown option ${flag} (allowed: ${allowed.join(", ")})`);
  }
  const [environment, ...layers] = rest.filter((a) => !a.startsWith("-"));
  if (!environment) throw new UsageError("name the environment: the base name of a config file, such as prod for config/prod.json");
  for (const layer of layers) {
    if (!(LAYERS as readonly string[]).includes(layer))
      throw new UsageError(`unknown stack layer "${layer}" (allowed: ${LAYERS.join(", ")})`);
  }
  return { environment, only: layers as Layer[], dryRun: flags.has("--dry-run"), yes: flags.has("--yes"), parallel, flags };
}

/** The validated config of one environment (config/<name>.json, or INFRA_CONFIG). */
export function loadEnvironment(name: string, env: NodeJS.ProcessEnv = process.env): EnvironmentConfig {
  const configs = loadConfigs(configFiles(env));
  const config = configs.find((c) => c.environment === name);
  if (!config) throw new UsageError(`no environment "${name}" (have: ${configs.map((c) => c.environment).join(", ")})`);
  return config;
}
