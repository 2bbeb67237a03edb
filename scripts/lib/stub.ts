/**
 * Offline validation can only hand Terraform the providers it has. This removes the resources,
 * data sources and ephemeral resources of every other provider from a synthesized stack, turns each
 * reference to them into a variable, and says exactly what it removed: nothing is skipped silently.
 */
import { providerAddress } from "./terraform";

type Json = Record<string, unknown>;

const BLOCK_KINDS = [
  { key: "resource", prefix: "" },
  { key: "data", prefix: "data." },
  { key: "ephemeral", prefix: "ephemeral." },
] as const;

/** Built into Terraform itself: never stubbed. */
const BUILTIN_TYPES = new Set(["terraform_remote_state", "terraform_data"]);

export interface StubResult {
  /** The stack with only available providers' blocks left. */
  readonly document: Json;
  /** Addresses removed, e.g. `postgresql_role.app`, `ephemeral.random_password.x`. */
  readonly stubbed: string[];
  /** Variables standing in for references to them, by name. */
  readonly variables: Record<string, { type: string; description: string }>;
  /** Provider addresses that were not available. */
  readonly missingProviders: string[];
}

/** Removes what `isAvailable(providerAddress)` rejects; returns a new document. */
export function stubUnavailableProviders(stack: Json, isAvailable: (provider: string) => boolean): StubResult {
  const document = structuredClone(stack);
  const terraformBlock = (document.terraform ?? {}) as Json;
  const required = (terraformBlock.required_providers ?? {}) as Record<string, { source?: string }>;
  const addressOf = (localName: string): string => providerAddress(required[localName]?.source ?? localName);
  const missing = new Set(Object.keys(required).filter((name) => !isAvailable(addressOf(name))));
  if (missing.size === 0) return { document, stubbed: [], variables: {}, missingProviders: [] };
  const missingProviders = [...missing].map(addressOf);

  const stubbed: string[] = [];
  for (const { key, prefix } of BLOCK_KINDS) {
    const blocks = document[key] as Record<string, Record<string, Json>> | undefined;
    if (!blocks) continue;
    for (const [type, byName] of Object.entries(blocks)) {
      if (BUILTIN_TYPES.has(type)) continue;
      const local = providerOf(type, Object.values(byName));
      if (!missing.has(local)) continue;
      for (const name of Object.keys(byName)) stubbed.push(`${prefix}${type}.${name}`);
      delete blocks[type];
    }
    if (Object.keys(blocks).length === 0) delete document[key];
  }
  const providers = document.provider as Json | undefined;
  for (const local of missing) {
    delete required[local];
    if (providers) delete providers[local];
  }

  // A moved block of a removed resource has nothing left to move (its `to` is gone with it).
  if (Array.isArray(document.moved)) {
    document.moved = (document.moved as Json[]).filter((m) => !stubbed.includes(m.to as string));
    if ((document.moved as Json[]).length === 0) delete document.moved;
  }

  const variables: StubResult["variables"] = {};
  const pattern = referencePattern(stubbed);
  const rewrite = (value: unknown, inDependsOn: boolean): unknown => {
    if (typeof value === "string") {
      if (!pattern) return value;
      if (inDependsOn) return stubbed.includes(value) ? undefined : value;
      return value.replace(pattern, (reference) => {
        const name = `stub_${reference.replace(/[^A-Za-z0-9_]/g, "_")}`;
        variables[name] = { type: "any", description: `stands in for ${reference} (provider not available offline)` };
        return `var.${name}`;
      });
    }
    if (Array.isArray(value)) return value.map((v) => rewrite(v, inDependsOn)).filter((v) => v !== undefined);
    if (value && typeof value === "object") {
      const out: Json = {};
      for (const [k, v] of Object.entries(value)) {
        out[k] = rewrite(v, k === "depends_on" || k === "replace_triggered_by");
      }
      return out;
    }
    return value;
  };
  const rewritten = rewrite(document, false) as Json;
  if (Object.keys(variables).length > 0) {
    rewritten.variable = { ...((rewritten.variable as Json) ?? {}), ...variables };
  }
  return { document: rewritten, stubbed, variables, missingProviders };
}

/** The provider local name of a block: its `provider` meta-argument, else the type's prefix. */
function providerOf(type: string, instances: Json[]): string {
  const explicit = instances.find((i) => typeof i.provider === "string")?.provider as string | undefined;
  return (explicit ?? type).split(/[._]/)[0];
}

/** Matches a reference to any stubbed address with its attribute path, e.g. `postgresql_role.app.name`. */
function referencePattern(addresses: readonly string[]): RegExp | undefined {
  if (addresses.length === 0) return undefined;
  const escaped = [...addresses].sort((a, b) => b.length - a.length).map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`(?<![\\w.-])(?:${escaped.join("|")})(?![\\w-])(?:\\.[A-Za-z_][\\w-]*|\\[[^\\]]*\\])*`, "g");
}
