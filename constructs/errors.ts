import type { IConstruct } from "constructs";

/**
 * A construct rejecting one of its props: `<Construct> <path>: <prop> <rule> (got ...)`. The prop and
 * the rule stay apart, so a stack that passed the prop from a config field can say which field it
 * was (`fromConfig` in stacks/config-errors.ts) instead of naming a construct path the user never wrote.
 */
export class PropError extends Error {
  constructor(
    readonly construct: string,
    readonly path: string,
    /** The prop at fault, with its index or key if any: `cpuHighPercent`, `ports[0].port`. */
    readonly prop: string,
    /** What is allowed, and what was given: `must be ... (got 100)`. */
    readonly rule: string,
  ) {
    super(`${construct} ${path}: ${prop} ${rule}`);
    this.name = "PropError";
  }
}

/** The error `scope` throws for `prop`; `message` may also be `<prop> <rule>` as one string. */
export function propError(scope: IConstruct, prop: string, rule?: string): PropError {
  const [name, text] = rule === undefined ? splitMessage(prop) : [prop, rule];
  return new PropError(scope.constructor.name, scope.node.path, name, text);
}

function splitMessage(message: string): [string, string] {
  const space = message.indexOf(" ");
  return space < 0 ? [message, ""] : [message.slice(0, space), message.slice(space + 1)];
}
