/**
 * Reads IAM policy documents out of synthesized attributes: a JSON string, a `${jsonencode(...)}`
 * expression (what `policyDocument()` writes), or a reference to an `aws_iam_policy_document` data
 * source. What cannot be read is reported with the reason, never passed silently.
 */
import { readAttribute, ReadError, Unknown, type Value } from "./expression";
import type { Attributes, Block, StackView } from "./stack-view";

export interface Statement {
  /** "Allow", "Deny", or an Unknown when computed. */
  readonly effect: Value;
  readonly actions: readonly Value[];
  readonly notActions: readonly Value[];
  readonly resources: readonly Value[];
  /** `{ Bool: { "aws:SecureTransport": "false" } }`, as IAM writes conditions. */
  readonly conditions: Readonly<Record<string, Readonly<Record<string, Value>>>>;
}

export type PolicyReading =
  | { readonly kind: "statements"; readonly statements: readonly Statement[] }
  /** The policy is an `aws_iam_policy_document` data source of the stack (checked on its own). */
  | { readonly kind: "document"; readonly document: Block }
  | { readonly kind: "unreadable"; readonly reason: string };

const DOCUMENT_REFERENCE = /^data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.(json|minified_json)$/;

/** The statements of the policy in `value` (an attribute as synthesized). */
export function readPolicy(value: unknown, view: StackView): PolicyReading {
  let parsed: Value;
  try {
    parsed = readAttribute(value);
  } catch (err) {
    if (err instanceof ReadError) return { kind: "unreadable", reason: `its expression cannot be read: ${err.message}` };
    throw err;
  }
  if (parsed instanceof Unknown && parsed.call?.name === "jsonencode" && parsed.call.args.length === 1) parsed = parsed.call.args[0];
  if (parsed instanceof Unknown) {
    const match = DOCUMENT_REFERENCE.exec(parsed.expression);
    const document = match ? view.at(`data.aws_iam_policy_document.${match[1]}`) : undefined;
    if (document) return { kind: "document", document };
    return { kind: "unreadable", reason: `it is computed by Terraform (${parsed.expression})` };
  }
  if (typeof parsed === "string") {
    try {
      parsed = JSON.parse(parsed) as Value;
    } catch {
      return { kind: "unreadable", reason: "it is neither JSON nor a jsonencode(...) expression" };
    }
  }
  if (!isObject(parsed)) return { kind: "unreadable", reason: "it is not a policy document (an object with Statement)" };
  const raw = parsed.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (!list.every(isObject)) return { kind: "unreadable", reason: "its Statement is computed or not a list of objects" };
  return { kind: "statements", statements: list.map(fromJson) };
}

/** The statements of an `aws_iam_policy_document` data source. */
export function documentStatements(attributes: Attributes): Statement[] | undefined {
  const blocks: unknown = attributes.statement ?? [];
  if (!Array.isArray(blocks)) return undefined;
  return blocks.map((b: Attributes) => ({
    effect: b.effect ?? "Allow",
    actions: asList(b.actions),
    notActions: asList(b.not_actions),
    resources: asList(b.resources),
    conditions: Object.fromEntries(
      asList(b.condition)
        .filter(isObject)
        .map((c) => [String(c.test), { [String(c.variable)]: c.values ?? null }]),
    ),
  }));
}

function fromJson(s: { [key: string]: Value }): Statement {
  return {
    effect: s.Effect ?? "Allow",
    actions: asList(s.Action),
    notActions: asList(s.NotAction),
    resources: asList(s.Resource),
    conditions: isObject(s.Condition) ? Object.fromEntries(Object.entries(s.Condition).map(([op, v]) => [op, isObject(v) ? v : {}])) : {},
  };
}

function asList(v: unknown): Value[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v as Value];
}

export function isObject(v: unknown): v is { [key: string]: Value } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Unknown);
}
