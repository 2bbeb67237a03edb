/**
 * Guardrails: policy rules checked on every stack at synth (cdktf Aspects), and the suppression API.
 * `EnvironmentStack` adds the aspect; constructs only need `suppress()` for a deliberate exception.
 */
export { Guardrails, GuardrailViolations, type GuardrailsProps, type Violation } from "./guardrails";
export { RULES, RULE_IDS, ruleById, type Rule, type Finding, type RuleContext } from "./rules";
export { suppress, suppressionsOf, type Suppression } from "./suppress";
export { SCANNER, SCANNER_SKIPS, scannerSkipsFor, scopeOf, type ScannerSkip } from "./scanner-skips";
