/**
 * Shared test helpers: configs to build from, and lookups into synthesized stack JSON.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DefaultTokenResolver, StringConcat, TerraformOutput, TerraformResource, Testing, Tokenization, type TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { parseEnvironment } from "../config/load";
import type { EnvironmentConfig, SafeBucketConfig, StartupWebAppConfig } from "../config/schema";
import { buildEnvironment, type EnvironmentStacks } from "../stacks";
import { EnvironmentStack, type Layer } from "../stacks/environment-stack";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** The smallest valid config document; tests add only what they are about. */
export const MINIMAL_DOCUMENT = { project: "acme", region: "us-east-1", state: { bucket: "acme-test-tfstate" } };

/** A validated StartupWebApp config from MINIMAL_DOCUMENT deep-merged with `overrides`; throws on invalid input. */
export function testConfig(overrides: DeepPartial<Json> = {}, environment = "test"): StartupWebAppConfig {
  return only("startupwebapp", mustParse(environment, deepMerge(MINIMAL_DOCUMENT, overrides)));
}

/** A validated SafeBucket config: MINIMAL_DOCUMENT with `application: "safebucket"` and a pinned image, plus `overrides`. */
export function safeBucketTestConfig(overrides: DeepPartial<Json> = {}, environment = "test"): SafeBucketConfig {
  const document = deepMerge(
    { ...MINIMAL_DOCUMENT, application: "safebucket", services: { safebucket: { image: "ghcr.io/safebucket/safebucket:v1.0.0" } } },
    overrides,
  );
  return only("safebucket", mustParse(environment, document));
}

/** A shipped config file (config/<name>.json), optionally with overrides merged in. */
export function shippedConfig(name: string, overrides: DeepPartial<Json> = {}): EnvironmentConfig {
  const document = JSON.parse(readFileSync(join(__dirname, "..", "config", `${name}.json`), "utf8"));
  return mustParse(name, deepMerge(document, overrides));
}

/** A shipped StartupWebApp config (dev, prod). */
export function shippedStartupWebApp(name: string, overrides: DeepPartial<Json> = {}): StartupWebAppConfig {
  return only("startupwebapp", shippedConfig(name, overrides));
}

/** A shipped SafeBucket config (safebucket-dev, safebucket-prod). */
export function shippedSafeBucket(name: string, overrides: DeepPartial<Json> = {}): SafeBucketConfig {
  return only("safebucket", shippedConfig(name, overrides));
}

function only<A extends EnvironmentConfig["application"]>(
  application: A,
  config: EnvironmentConfig,
): Extract<EnvironmentConfig, { application: A }> {
  if (config.application !== application) throw new Error(`expected a ${application} config, got ${config.application}`);
  return config as Extract<EnvironmentConfig, { application: A }>;
}

/** Problems `document` has as environment `environment` (empty when valid). */
export function configProblems(document: unknown, environment = "test"): string[] {
  return parseEnvironment(environment, document).problems;
}

/** All six stacks of `config`, in a fresh test app. */
export function testEnvironment(config: EnvironmentConfig = testConfig()): EnvironmentStacks {
  return buildEnvironment(Testing.app(), config);
}

/**
 * All stacks of `config` as `cdktf synth` writes them: each prepared, so references to another
 * stack have become its outputs and this stack's remote state (Testing.synth alone skips that).
 * Add nothing to them afterwards.
 */
export function preparedEnvironment(config: EnvironmentConfig = testConfig()): EnvironmentStacks {
  const stacks = testEnvironment(config);
  for (const stack of Object.values(stacks)) stack?.prepareStack();
  return stacks;
}

/** A bare environment stack to put one construct in. */
export function testStack(config: EnvironmentConfig = testConfig(), layer: Layer = "data"): EnvironmentStack {
  return new EnvironmentStack(Testing.app(), { config, layer });
}

/** The synthesized JSON of one stack. */
export function synth(stack: TerraformStack): Json {
  return JSON.parse(Testing.synth(stack));
}

/** Every resource of `type` in a synthesized stack (block kind `resource`, `data` or `ephemeral`). */
export function resourcesOf(json: Json, type: string, kind: "resource" | "data" | "ephemeral" = "resource"): Json[] {
  return Object.values(json[kind]?.[type] ?? {});
}

/** The one resource of `type`; fails the test when there are none or several. */
export function onlyResource(json: Json, type: string, kind: "resource" | "data" | "ephemeral" = "resource"): Json {
  const found = resourcesOf(json, type, kind);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind} ${type}, found ${found.length}`);
  return found[0];
}

/** The synthesized block of `resource` (a typed handle a construct exposes), found by its address, not by a guessed name. */
export function resourceJson(json: Json, resource: TerraformResource): Json {
  const found = json.resource?.[resource.terraformResourceType]?.[resource.friendlyUniqueId];
  if (!found) throw new Error(`${resource.terraformResourceType}.${resource.friendlyUniqueId} is not in this stack`);
  return found;
}

/** How another resource refers to `resource`'s `attribute` in synthesized JSON: `${aws_x.name_ABC.id}`. */
export function referenceTo(resource: TerraformResource, attribute = "id"): string {
  return `\${${resource.terraformResourceType}.${resource.friendlyUniqueId}.${attribute}}`;
}

/**
 * Synthesizes `stack` and returns, beside its JSON, how Terraform writes each of `handles` (typed fields
 * such as `network.publicSubnetIds` or `queue.queueArn`): `"${aws_sqs_queue.jobs_queue_ABC.arn}"`. Tests
 * find resources through what a construct exposes, not by guessing address prefixes. The probes are
 * removed from the returned JSON.
 */
export function synthWithHandles<T extends Record<string, unknown>>(
  stack: TerraformStack,
  handles: T,
): { json: Json; refs: { [K in keyof T]: T[K] extends readonly unknown[] ? string[] : string } } {
  for (const [key, value] of Object.entries(handles)) new TerraformOutput(stack, `handle-${key}`, { value });
  const json = synth(stack);
  const refs: Json = {};
  for (const key of Object.keys(handles)) {
    refs[key] = json.output[`handle-${key}`].value;
    delete json.output[`handle-${key}`];
  }
  if (Object.keys(json.output).length === 0) delete json.output;
  return { json, refs: refs as never };
}

/** `aws_x.name.arn` from `${aws_x.name.arn}`: a reference as it appears inside an expression (a jsonencode'd policy). */
export function bare(reference: string): string {
  const inner = /^\$\{(.*)\}$/.exec(reference)?.[1];
  if (inner === undefined) throw new Error(`not a lone reference: ${reference}`);
  return inner;
}

/** The resource block a lone reference (`${aws_subnet.x.id}`) points at. */
export function resourceAt(json: Json, reference: string): Json {
  const [type, name] = bare(reference).split(".");
  const found = json.resource?.[type]?.[name];
  if (!found) throw new Error(`no resource behind ${reference}`);
  return found;
}

/** Every string anywhere in a value, for "this never appears" assertions. */
export function allStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(allStrings);
  return [];
}

/**
 * A policy written by `policyDocument` (`${jsonencode({...})}` in the synthesized JSON) as a plain
 * object, with every Terraform reference kept as its text (`aws_sns_topic.x.arn`, `x.list[0].arn`), so tests can
 * assert on statements instead of matching HCL text.
 */
export function decodePolicy(expression: string): Json {
  const inner = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(expression)?.[1];
  if (inner === undefined) throw new Error(`not a jsonencode expression: ${expression.slice(0, 80)}`);
  const asJson = inner
    .replace(/("(?:[^"\\]|\\.)*")\s*=\s*/g, "$1: ")
    .replace(/("(?:[^"\\]|\\.)*")|([A-Za-z_][\w-]*\.[\w-]+(?:\.[\w-]+|\[\d+\])*)/g, (match, quoted) =>
      quoted ? match : JSON.stringify(match),
    );
  return JSON.parse(asJson);
}

/** A construct's synthesized stack, for tests that build one construct in `testStack()`. */
export function stackOf(construct: Construct): TerraformStack {
  return EnvironmentStack.of(construct);
}

function mustParse(environment: string, document: unknown): EnvironmentConfig {
  const { config, problems } = parseEnvironment(environment, document);
  if (!config) throw new Error(`test config is invalid:\n${problems.join("\n")}`);
  return config;
}

function deepMerge(base: Json, overrides: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const current = out[key];
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object" && !Array.isArray(current)
        ? deepMerge(current, value)
        : value;
  }
  return out;
}

/**
 * The synthesized blocks of type `type` that `construct` created (itself or any construct inside it),
 * found by their resources' own logical ids: a typed handle, not a guess at a generated name prefix.
 */
export function resourcesUnder(json: Json, construct: Construct, type: string, kind: "resource" | "data" = "resource"): Json[] {
  return construct.node
    .findAll()
    .filter((c): c is TerraformResource => TerraformResource.isTerraformResource(c) && c.terraformResourceType === type)
    .map((r) => {
      const block = json[kind]?.[type]?.[r.friendlyUniqueId];
      if (block === undefined) throw new Error(`${r.node.path}: no ${kind} ${type}.${r.friendlyUniqueId} in the synthesized stack`);
      return block;
    });
}

/** The one block of type `type` that `construct` created; fails the test when there are none or several. */
export function resourceUnder(json: Json, construct: Construct, type: string): Json {
  const found = resourcesUnder(json, construct, type);
  if (found.length !== 1) throw new Error(`${construct.node.path}: expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** A typed field's Terraform reference as the synthesized JSON writes it: `${aws_subnet.<id>.id}`. */
export function referenceOf(scope: Construct, token: unknown): string {
  return Tokenization.resolve(token, { scope, resolver: new DefaultTokenResolver(new StringConcat()) }) as string;
}
