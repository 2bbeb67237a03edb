import { TerraformStack, type IAspect, type TerraformElement } from "cdktf";
import type { IConstruct } from "constructs";
import { RULES, type Finding, type Rule } from "./rules";
import { SCANNER, SCANNER_SKIPS, scannerSkipsFor, type ScannerSkip } from "./scanner-skips";
import { StackView, type Block } from "./stack-view";
import { suppressionsOf } from "./suppress";

export interface GuardrailsProps {
  /**
   * Production rules apply (deletion protection, final snapshot).
   * @default false
   */
  readonly production?: boolean;
  /**
   * The environment is protected from destroy; production databases must then keep deletion protection.
   * @default - same as production
   */
  readonly protect?: boolean;
  /**
   * The rules to apply.
   * @default RULES - every rule of constructs/guardrails/rules.ts
   */
  readonly rules?: readonly Rule[];
  /**
   * Scanner checks that do not apply, recorded in the metadata of the resources they match.
   * @default SCANNER_SKIPS - the reviewed list of constructs/guardrails/scanner-skips.ts
   */
  readonly scannerSkips?: readonly ScannerSkip[];
}

export interface Violation extends Finding {
  readonly rule: Rule;
}

/** Every rule violation of one stack, in one error: synth stops on the first stack that has any. */
export class GuardrailViolations extends Error {
  /** Path of the stack, e.g. `prod-data`. */
  declare readonly stackPath: string;
  declare readonly violations: readonly Violation[];

  constructor(stackPath: string, violations: readonly Violation[]) {
    super(describe(stackPath, violations));
    this.name = "GuardrailViolations";
    // Not enumerable: Node prints an uncaught error's own enumerable fields after its message, and
    // these hold whole constructs; the message already says everything a person needs.
    Object.defineProperty(this, "stackPath", { value: stackPath, enumerable: false });
    Object.defineProperty(this, "violations", { value: violations, enumerable: false });
  }
}

/**
 * The policy-as-code aspect. Add it to a stack (`Aspects.of(stack).add(new Guardrails(...))`); at
 * synth cdktf visits the stack first, and the aspect then reads the whole stack as it will be
 * synthesized, applies every rule, records suppressions in the resources' `//` metadata, and throws
 * one GuardrailViolations listing every unsuppressed finding.
 */
export class Guardrails implements IAspect {
  private readonly production: boolean;
  private readonly protect: boolean;
  private readonly rules: readonly Rule[];
  private readonly scannerSkips: readonly ScannerSkip[];

  constructor(props: GuardrailsProps = {}) {
    this.production = props.production ?? false;
    this.protect = props.protect ?? this.production;
    this.rules = props.rules ?? RULES;
    this.scannerSkips = props.scannerSkips ?? SCANNER_SKIPS;
  }

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const violations = this.check(node);
    if (violations.length > 0) throw new GuardrailViolations(node.node.path, violations);
  }

  /** The unsuppressed violations of `stack`; records every suppression that applies in the metadata. */
  check(stack: TerraformStack): Violation[] {
    const view = new StackView(stack);
    const context = { view, production: this.production, protect: this.protect };
    const violations: Violation[] = [];
    for (const rule of this.rules) {
      for (const finding of rule.check(context)) {
        const exempt = suppressionsOf(finding.block.element).some((s) => s.ruleId === rule.id);
        if (!exempt) violations.push({ ...finding, rule });
      }
    }
    const skips = (block: Block) => scannerSkipsFor(block, view, this.scannerSkips);
    for (const element of new Set(view.blocks.map((b) => b.element))) {
      recordSuppressions(element, view.blocks.filter((b) => b.element === element).flatMap(skips));
    }
    return violations;
  }
}

/** Our rules' suppressions, then the scanner checks skipped on this resource (`scanner` tells them apart). */
function recordSuppressions(element: TerraformElement, scannerSkips: readonly ScannerSkip[]): void {
  const suppressions = suppressionsOf(element);
  if (suppressions.length === 0 && scannerSkips.length === 0) return;
  // Terraform ignores "//" keys; cdktf keeps its own metadata there and merges ours in.
  element.addOverride("//.guardrails.suppressed", [
    ...suppressions.map((s) => ({
      rule: s.ruleId,
      reason: s.reason,
      ...(s.declaredOn === element.node.path ? {} : { declaredOn: s.declaredOn }),
    })),
    ...scannerSkips.map((s) => ({ rule: s.check, scanner: SCANNER, reason: s.reason })),
  ]);
}

function describe(stack: string, violations: readonly Violation[]): string {
  const count = violations.length === 1 ? "1 guardrail violation" : `${violations.length} guardrail violations`;
  const rules = [...new Set(violations.map((v) => v.rule))];
  return [
    `${stack}: ${count}; nothing is synthesized until they are fixed:`,
    ...violations.map((v) => `  [${v.rule.id}] ${v.block.element.node.path} (${v.block.address}): ${v.detail}`),
    "How to fix:",
    ...rules.map((r) => `  [${r.id}] ${r.fix} (why: ${r.why})`),
    'A deliberate exception needs a written reason: suppress(construct, "<rule id>", "<why>") from constructs/guardrails.',
  ].join("\n");
}
