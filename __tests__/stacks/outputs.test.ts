/**
 * Stack outputs are a deployed contract: deployed environments, the operator scripts and the e2e read
 * them by name. Each stack declares them once (stacks/outputs.ts and each application's outputs.ts);
 * these tests hold the declarations, the synthesized stacks and the scripts to each other.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { EnvironmentConfig } from "../../config/schema";
import { APPLICATION_LAYERS, CORE_LAYERS, type Layer } from "../../stacks/layers";
import {
  ACCESS_OUTPUTS,
  DATA_OUTPUTS,
  NETWORK_OUTPUTS,
  OBSERVABILITY_OUTPUTS,
  STATE_OUTPUTS,
  type OutputNames,
} from "../../stacks/outputs";
import { DATABASE_OUTPUTS, SAFEBUCKET_DATA_OUTPUTS, SAFEBUCKET_NETWORK_OUTPUTS, SERVICES_OUTPUTS } from "../../stacks/safebucket/outputs";
import { EMAIL_OUTPUTS, TENANTS_OUTPUTS, WEB_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import { preparedEnvironment, shippedConfig, synth, testStack, type Json } from "../helpers";

/** Every layer's declared outputs: the core's, then what an application adds to it or its own. */
const DECLARED = {
  state: [STATE_OUTPUTS],
  network: [NETWORK_OUTPUTS, SAFEBUCKET_NETWORK_OUTPUTS],
  data: [DATA_OUTPUTS, SAFEBUCKET_DATA_OUTPUTS],
  access: [ACCESS_OUTPUTS],
  observability: [OBSERVABILITY_OUTPUTS],
  email: [EMAIL_OUTPUTS],
  tenants: [TENANTS_OUTPUTS],
  web: [WEB_OUTPUTS],
  database: [DATABASE_OUTPUTS],
  services: [SERVICES_OUTPUTS],
} as const satisfies Record<Layer, readonly OutputNames[]>;

const declaredNames = (layer: Layer): Set<string> => new Set<string>(DECLARED[layer].flatMap((names) => Object.values(names)));
const ALL_DECLARED = new Set<string>(Object.values(DECLARED).flatMap((maps) => maps.flatMap((names) => Object.values(names))));

const ROOT = join(__dirname, "..", "..");
const SHIPPED = readdirSync(join(ROOT, "config"))
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""));

/**
 * The shipped configs, plus the one optional output no shipped config has: the CI roles of
 * `ci.githubRepository` (every other optional output is on in at least one shipped config).
 */
const CONFIGS: readonly EnvironmentConfig[] = [
  ...SHIPPED.map((name) => shippedConfig(name)),
  shippedConfig("prod", { ci: { githubRepository: "acme/infra" } }),
];

/** Each synthesized stack's layer and outputs, as `cdktf synth` writes them (with cdktf's cross-stack outputs). */
const STACKS: { id: string; layer: Layer; outputs: Record<string, Json> }[] = CONFIGS.flatMap((config) =>
  Object.values(preparedEnvironment(config)).map((stack) => ({
    id: stack.node.id,
    layer: stack.layer,
    outputs: synth(stack).output ?? {},
  })),
);

/** cdktf's own outputs that carry a reference to a later stack: named and written by cdktf, read only by Terraform. */
const isCrossStackReference = (name: string, output: Json): boolean =>
  name.startsWith("cross-stack-output-") && /^\$\{[^}]+\}$/.test(String(output.value)) && output.description === undefined;

describe("stack outputs", () => {
  test("every shipped config is covered", () => {
    expect(SHIPPED).toEqual(expect.arrayContaining(["dev", "prod", "safebucket-dev", "safebucket-prod"]));
  });

  test("every output a stack declares has a description; the rest are cdktf's cross-stack references", () => {
    const problems = STACKS.flatMap(({ id, layer, outputs }) =>
      Object.entries(outputs).flatMap(([name, output]) => {
        if (declaredNames(layer).has(name)) return String(output.description ?? "").trim() === "" ? [`${id}.${name}: no description`] : [];
        return isCrossStackReference(name, output) ? [] : [`${id}.${name}: not declared in the ${layer} layer's output names`];
      }),
    );
    expect(problems).toEqual([]);
  });

  test("every declared name is an output of its layer's stack in some config", () => {
    const emitted = (layer: Layer) => new Set(STACKS.filter((s) => s.layer === layer).flatMap((s) => Object.keys(s.outputs)));
    const never = (Object.keys(DECLARED) as Layer[]).flatMap((layer) =>
      [...declaredNames(layer)].filter((name) => !emitted(layer).has(name)).map((name) => `${layer}: ${name}`),
    );
    expect(never).toEqual([]);
  });

  test("one name has one meaning: no output name is declared by two layers of one environment", () => {
    // Two applications' layers never meet in one environment, so each may call its load balancer alb_dns_name.
    const sharedIn = (layers: readonly Layer[]) =>
      layers.flatMap((a, i) =>
        layers.slice(i + 1).flatMap((b) => [...declaredNames(a)].filter((n) => declaredNames(b).has(n)).map((n) => `${n}: ${a} and ${b}`)),
      );
    const shared = Object.values(APPLICATION_LAYERS).flatMap((own) => sharedIn([...CORE_LAYERS, ...own]));
    expect(shared).toEqual([]);
  });

  test("a stack refuses an output without a description", () => {
    const stack = testStack();
    expect(() => stack.declareOutputs({ probe: "probe" }, { probe: { value: "x", description: " " } })).toThrow(
      "test-data: output probe needs a description",
    );
  });

  test("a stack refuses an output its names do not declare", () => {
    const stack = testStack();
    const definitions = { probe: { value: "x", description: "declared" }, stray: { value: "y", description: "not declared" } };
    expect(() => stack.declareOutputs({ probe: "probe" }, definitions)).toThrow("test-data: outputs stray are not declared");
  });

  test("an output left undefined is not synthesized; sensitive is kept", () => {
    const stack = testStack();
    stack.declareOutputs(
      { b: "second", a: "first", c: "third" },
      { a: { value: 1, description: "one" }, b: { value: 2, description: "two", sensitive: true }, c: undefined },
    );
    const outputs = synth(stack).output;
    expect(Object.keys(outputs).sort()).toEqual(["first", "second"]);
    expect(outputs.second).toEqual({ value: 2, description: "two", sensitive: true });
  });
});

// ---------------------------------------------------------------- the scripts read declared names

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/**
 * Output names a script spells out instead of importing: a string literal that is a declared name,
 * or a property read on an outputs object (`o.x`, `outputs.x`, `outputs["x"]`) whatever its name,
 * so a read of an output no stack declares shows up too.
 */
function spelledOutputNames(text: string): { line: number; name: string }[] {
  const found: { line: number; name: string }[] = [];
  text.split("\n").forEach((line, i) => {
    for (const [, name] of line.matchAll(/["'`]([a-z][a-z0-9]*(?:_[a-z0-9]+)+)["'`]/g))
      if (ALL_DECLARED.has(name)) found.push({ line: i + 1, name });
    for (const [, , name] of line.matchAll(/\b(o|outputs|\w+Outputs)(?:\??\.|\[["'])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\b/g))
      found.push({ line: i + 1, name });
  });
  return found;
}

describe("the operator scripts", () => {
  const spelled = sourceFiles(join(ROOT, "scripts")).flatMap((file) =>
    spelledOutputNames(readFileSync(file, "utf8")).map((hit) => ({ ...hit, file: relative(ROOT, file) })),
  );

  test("read outputs only through the declared names, never a name of their own", () => {
    expect(
      spelled.map(
        ({ file, line, name }) => `${file}:${line}: ${name}${ALL_DECLARED.has(name) ? " (import it)" : " (no stack declares it)"}`,
      ),
    ).toEqual([]);
  });

  test("the scan finds a spelled-out read, declared or not", () => {
    expect(spelledOutputNames('const a = outputs["db_instance_port"];\nadd(o.state_bucket);\nx("vpc_id")')).toEqual([
      { line: 1, name: "db_instance_port" },
      { line: 1, name: "db_instance_port" },
      { line: 2, name: "state_bucket" },
      { line: 3, name: "vpc_id" },
    ]);
  });
});
