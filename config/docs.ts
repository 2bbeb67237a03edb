/**
 * README's settings table, written from the schema so the two cannot drift apart.
 * `npm run docs:config` rewrites the README section; a test fails when it is stale.
 */
import type { z } from "zod";
import { APPLICATION_SCHEMAS, CORE_KEYS } from "./schema";

export interface SettingDoc {
  readonly path: string;
  readonly type: string;
  /** `required`, a JSON default, `-` when derived (told in the description), or `unset` when optional. */
  readonly default: string;
  readonly description: string;
}

type AnySchema = z.core.$ZodType & { description?: string };
interface Def {
  type: string;
  innerType?: AnySchema;
  defaultValue?: unknown;
  shape?: Record<string, AnySchema>;
  element?: AnySchema;
  entries?: Record<string, string>;
  options?: AnySchema[];
  values?: unknown[];
  in?: AnySchema;
}
const defOf = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Application names as README writes them. */
const TITLES: Record<string, string> = { startupwebapp: "StartupWebApp", safebucket: "SafeBucket" };

/**
 * Every leaf setting, in declaration order: `application`, the platform core's settings, then each
 * application's own sections, their descriptions starting with the application they belong to.
 */
export function settingDocs(): SettingDoc[] {
  const shapes = Object.entries(APPLICATION_SCHEMAS).map(([name, schema]) => [name, shapeOf(schema as unknown as AnySchema)] as const);
  const [, first] = shapes[0];
  const core = Object.fromEntries(
    Object.entries(first).filter(([key]) => (CORE_KEYS as readonly string[]).includes(key) && key !== "application"),
  );
  const application: SettingDoc = {
    path: "application",
    type: shapes.map(([name]) => `"${name}"`).join(" \\| "),
    default: JSON.stringify(shapes[0][0]),
    description: "the application this environment runs; each has its own sections below",
  };
  const own = shapes.flatMap(([name, shape]) =>
    walk(Object.fromEntries(Object.entries(shape).filter(([key]) => !(CORE_KEYS as readonly string[]).includes(key))), "").map((doc) => ({
      ...doc,
      description: `${TITLES[name] ?? name}: ${doc.description}`,
    })),
  );
  return [application, ...walk(core, ""), ...own];
}

/** The object shape under an application's schema (its refinements wrap it). */
function shapeOf(schema: AnySchema): Record<string, AnySchema> {
  let def = defOf(schema);
  while (!def.shape && def.in) def = defOf(def.in);
  return def.shape!;
}

function walk(shape: Record<string, AnySchema>, prefix: string): SettingDoc[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    const path = `${prefix}${key}`;
    const { core, defaultValue, optional, description } = unwrap(schema);
    const def = defOf(core);
    if (def.type === "object" && def.shape) return walk(def.shape, `${path}.`);
    const derived = /\(default: /.test(description ?? "");
    const shownDefault = defaultValue !== undefined ? JSON.stringify(defaultValue) : !optional ? "required" : derived ? "-" : "unset";
    return [{ path, type: typeName(core), default: shownDefault, description: description ?? "" }];
  });
}

function unwrap(schema: AnySchema): { core: AnySchema; defaultValue?: unknown; optional: boolean; description?: string } {
  let core = schema;
  let defaultValue: unknown;
  let optional = false;
  let description = schema.description;
  for (;;) {
    const def = defOf(core);
    if (def.type === "default") defaultValue = def.defaultValue;
    else if (def.type === "optional") optional = true;
    else if (def.type !== "prefault") break;
    core = def.innerType!;
    description ??= core.description;
  }
  return { core, defaultValue, optional, description };
}

function typeName(schema: AnySchema): string {
  const def = defOf(schema);
  switch (def.type) {
    case "array":
      return `${typeName(def.element!)}[]`;
    case "enum":
      return Object.values(def.entries ?? {})
        .map((v) => `"${v}"`)
        .join(" \\| ");
    case "union":
      return [...new Set(def.options!.map(typeName))].join(" \\| ");
    case "literal":
      return typeof def.values?.[0];
    case "record":
      return "object (string values)";
    default:
      return def.type;
  }
}

/** The Markdown table README shows. */
export function settingsTable(): string {
  const rows = settingDocs().map(
    (s) => `| \`${s.path}\` | ${s.type} | ${s.default === "-" ? "derived" : `\`${s.default}\``} | ${s.description} |`,
  );
  return ["| setting | type | default | meaning and limits |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
