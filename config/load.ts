/**
 * Reads environment configs, validates them all, and reports every problem at once.
 * Nothing here touches cdktf: a config error stops the app before any stack exists.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import type { z } from "zod";
import {
  APPLICATIONS,
  collisionProblems,
  environmentSchema,
  formatPath,
  resolveConfig,
  resolvedProblems,
  type EnvironmentConfig,
} from "./schema";

export { formatPath };

/** All problems found in one or more config files, one line each: `file: path: message`. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

export const CONFIG_DIR = resolve(__dirname);
const ENV_NAME = /^[a-z][a-z0-9-]{0,20}$/;

/**
 * The files to synthesize: `INFRA_CONFIG` alone when set, else every *.json of `INFRA_CONFIG_DIR`
 * (default: config/), sorted.
 */
export function configFiles(env: NodeJS.ProcessEnv = process.env, dir: string = env.INFRA_CONFIG_DIR ?? CONFIG_DIR): string[] {
  if (env.INFRA_CONFIG) return [resolve(env.INFRA_CONFIG)];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => join(dir, f));
}

/** Validates one parsed document as environment `environment`; returns the config or the problems. */
export function parseEnvironment(environment: string, document: unknown): { config?: EnvironmentConfig; problems: string[] } {
  const problems: string[] = [];
  if (!ENV_NAME.test(environment)) {
    problems.push(`environment name "${environment}" (the file's base name) must be 1-21 of a-z, 0-9, '-', starting with a letter`);
  }
  const result = environmentSchema.safeParse(document, { reportInput: true });
  if (!result.success) problems.push(...result.error.issues.flatMap(describeIssue));
  if (problems.length > 0) return { problems };
  const config = resolveConfig(environment, result.data!);
  problems.push(...resolvedProblems(config).map((p) => `${formatPath(p.path)}: ${p.message}`));
  return problems.length > 0 ? { problems } : { config, problems };
}

/**
 * Loads and validates every file, and checks that the environments could share one account (no
 * shared state bucket, secret or instance name); throws one ConfigError listing every problem.
 */
export function loadConfigs(files: readonly string[]): EnvironmentConfig[] {
  const loaded: { label: string; config: EnvironmentConfig }[] = [];
  const problems: string[] = [];
  const names = new Map<string, string>();
  for (const file of files) {
    const environment = basename(file, ".json");
    const label = basename(file);
    if (names.has(environment)) problems.push(`${label}: environment "${environment}" is also defined by ${names.get(environment)}`);
    names.set(environment, file);
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, "utf8"));
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : `not valid JSON (${(err as Error).message})`;
      problems.push(`${label}: ${reason}`);
      continue;
    }
    const parsed = parseEnvironment(environment, document);
    problems.push(...parsed.problems.map((p) => `${label}: ${p}`));
    if (parsed.config) loaded.push({ label, config: parsed.config });
  }
  problems.push(...collisionProblems(loaded).map((p) => `${p.label}: ${formatPath(p.path)}: ${p.message}`));
  if (files.length === 0) problems.push("no environment config found (config/*.json or INFRA_CONFIG)");
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded.map((l) => l.config);
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  const at = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key (check the spelling; README lists every setting)`);
    case "invalid_type":
      return [`${at}: ${issue.input === undefined ? "is required" : `must be ${article(issue.expected)} (got ${typeName(issue.input)})`}`];
    case "invalid_value":
      return [`${at}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} (got ${JSON.stringify(issue.input)})`];
    case "too_small":
    case "too_big":
      return [`${at}: ${humanBound(issue)} (got ${JSON.stringify(issue.input)})`];
    case "invalid_union":
      if ("discriminator" in issue && typeof issue.discriminator === "string") {
        // No schema has this `application`: name the allowed ones, not the whole document.
        const value = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        return [`${at}: must be one of ${APPLICATIONS.map((a) => `"${a}"`).join(", ")} (got ${JSON.stringify(value)})`];
      }
      return [`${at}: ${issue.errors.flat()[0]?.message ?? "is not an allowed value"} (got ${JSON.stringify(issue.input)})`];
    default:
      return [
        `${at}: ${issue.message}${issue.input !== undefined && issue.code !== "custom" ? ` (got ${JSON.stringify(issue.input)})` : customGot(issue)}`,
      ];
  }
}

function customGot(issue: z.core.$ZodIssue): string {
  // Refinements on a single value carry the input; cross-field rules write their own "got".
  if (issue.code === "custom" && issue.input !== undefined && !/\(got /.test(issue.message) && typeof issue.input !== "object") {
    return ` (got ${JSON.stringify(issue.input)})`;
  }
  return "";
}

function humanBound(issue: z.core.$ZodIssue & { code: "too_small" | "too_big" }): string {
  if (!/^Too (small|big)/.test(issue.message)) return issue.message;
  const limit = String(issue.code === "too_small" ? issue.minimum : issue.maximum);
  // `.positive()` is an exclusive bound: "at least 0" would read as if 0 were allowed.
  const exclusive = issue.inclusive === false;
  const word = issue.code === "too_small" ? (exclusive ? "more than" : "at least") : exclusive ? "less than" : "at most";
  return issue.origin === "string" || issue.origin === "array"
    ? `must have ${word} ${limit} ${issue.origin === "string" ? "characters" : "items"}`
    : `must be ${word} ${limit}`;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function article(expected: string): string {
  return /^[aeio]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}
