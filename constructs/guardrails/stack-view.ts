/**
 * A stack as the guardrails read it: every resource, data source, provider and variable with the
 * attributes it synthesizes to (overrides included, tokens resolved to `${...}` expressions), next
 * to the construct that made it. Reading the synthesized form rather than construct props means an
 * escape hatch (`addOverride`) cannot slip past a rule.
 */
import { DefaultTokenResolver, StringConcat, TerraformElement, Tokenization, type TerraformStack } from "cdktf";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Attributes = Record<string, any>;

export interface Block {
  readonly kind: "resource" | "data" | "provider" | "variable";
  /** `aws_s3_bucket`, a provider's name, or `variable`. */
  readonly type: string;
  /** The logical id in the synthesized JSON. */
  readonly name: string;
  /** Terraform address: `aws_s3_bucket.logs`, `data.aws_iam_policy_document.x`, `provider.aws`, `var.x`. */
  readonly address: string;
  readonly attributes: Attributes;
  readonly element: TerraformElement;
}

const RESOLVER = new DefaultTokenResolver(new StringConcat());

export class StackView {
  readonly blocks: readonly Block[];

  constructor(readonly stack: TerraformStack) {
    const blocks: Block[] = [];
    for (const element of stack.node.findAll().filter(TerraformElement.isTerraformElement)) {
      blocks.push(...blocksOf(element, Tokenization.resolve(element.toTerraform(), { scope: stack, resolver: RESOLVER })));
    }
    this.blocks = blocks;
  }

  /** Resources (or data sources) of `type`. */
  resources(type: string, kind: "resource" | "data" = "resource"): Block[] {
    return this.blocks.filter((b) => b.kind === kind && b.type === type);
  }

  /** The block at a Terraform address, e.g. `data.aws_iam_policy_document.x`. */
  at(address: string): Block | undefined {
    return this.blocks.find((b) => b.address === address);
  }

  /** True when `value` (any attribute, however nested) refers to `block` or, if given, equals `literal`. */
  refersTo(value: unknown, block: Block, literal?: unknown): boolean {
    if (literal !== undefined && typeof literal === "string" && value === literal) return true;
    const pattern = new RegExp(`(^|[^A-Za-z0-9_.-])${escapeRegExp(block.address)}(?![A-Za-z0-9_-])`);
    return pattern.test(JSON.stringify(value ?? null));
  }
}

function blocksOf(element: TerraformElement, fragment: Attributes): Block[] {
  const out: Block[] = [];
  for (const kind of ["resource", "data"] as const) {
    for (const [type, byName] of Object.entries((fragment[kind] ?? {}) as Record<string, Attributes>)) {
      for (const [name, attributes] of Object.entries(byName)) {
        out.push({ kind, type, name, address: `${kind === "data" ? "data." : ""}${type}.${name}`, attributes, element });
      }
    }
  }
  for (const [type, configs] of Object.entries((fragment.provider ?? {}) as Record<string, Attributes[]>)) {
    for (const attributes of configs) {
      const name = typeof attributes.alias === "string" ? `${type}.${attributes.alias}` : type;
      out.push({ kind: "provider", type, name, address: `provider.${name}`, attributes, element });
    }
  }
  for (const [name, attributes] of Object.entries((fragment.variable ?? {}) as Record<string, Attributes>)) {
    out.push({ kind: "variable", type: "variable", name, address: `var.${name}`, attributes, element });
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
