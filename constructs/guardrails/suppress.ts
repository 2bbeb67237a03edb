/**
 * Exempting a construct from one rule, in the spirit of cdk-nag: only with a written reason, which
 * the synthesized JSON carries next to the resource (`"//": { "guardrails": { "suppressed": [...] } }`)
 * so a reviewer sees every exception in the plan's input.
 */
import type { IConstruct } from "constructs";
import { RULE_IDS } from "./rules";

const SUPPRESSION = "guardrails:suppression";
const MIN_REASON = 10;

export interface Suppression {
  readonly ruleId: string;
  readonly reason: string;
  /** Path of the construct the suppression was declared on (the resource itself or a parent). */
  readonly declaredOn: string;
}

/**
 * Exempts `construct` and everything under it from rule `ruleId`, because of `reason`.
 * Throws for an unknown rule id or a reason that says nothing.
 */
export function suppress(construct: IConstruct, ruleId: string, reason: string): void {
  if (!RULE_IDS.includes(ruleId)) {
    throw new Error(`suppress ${construct.node.path}: ruleId must be one of ${RULE_IDS.join(", ")} (got "${ruleId}")`);
  }
  const why = reason.trim();
  if (why.length < MIN_REASON) {
    throw new Error(
      `suppress ${construct.node.path}: reason must say why the rule does not apply, at least ${MIN_REASON} characters (got "${why}")`,
    );
  }
  construct.node.addMetadata(SUPPRESSION, { ruleId, reason: why });
}

/** Suppressions that apply to `construct`: its own and its parents'. */
export function suppressionsOf(construct: IConstruct): Suppression[] {
  return construct.node.scopes.flatMap((scope) =>
    scope.node.metadata
      .filter((m) => m.type === SUPPRESSION)
      .map((m) => ({ ...(m.data as { ruleId: string; reason: string }), declaredOn: scope.node.path })),
  );
}
