/**
 * Reading what deployed stacks output (`terraform output -json` against each stack's real backend).
 * Sensitive outputs are never returned: callers get a marker instead of the value.
 */
import type { SynthesizedStack } from "./synth";
import { terraform, type TerraformSetup } from "./terraform";

export const SENSITIVE = "(sensitive: not shown)";

/** A deployed stack's outputs by name; read them with the names of stacks/outputs.ts (and each application's outputs.ts). */
export type StackOutputs = Record<string, unknown>;

/** Why outputs could not be read, in words an operator can act on. */
export class OutputsUnavailable extends Error {
  constructor(
    readonly stack: string,
    readonly reason: "no-credentials" | "no-state" | "terraform-error",
    detail: string,
  ) {
    super(`${stack}: ${detail}`);
    this.name = "OutputsUnavailable";
  }
}

/** Parses `terraform output -json`, hiding every sensitive value. */
export function parseOutputs(json: string): StackOutputs {
  const raw = JSON.parse(json || "{}") as Record<string, { value: unknown; sensitive?: boolean }>;
  return Object.fromEntries(Object.entries(raw).map(([name, o]) => [name, o.sensitive ? SENSITIVE : o.value]));
}

/** Classifies a failed init/output run; tested on the messages Terraform prints. */
export function classifyFailure(stack: string, stderr: string): OutputsUnavailable {
  if (
    /No valid credential sources|NoCredentialProviders|ExpiredToken|InvalidClientTokenId|could not load credentials|failed to get shared config profile/i.test(
      stderr,
    )
  ) {
    return new OutputsUnavailable(stack, "no-credentials", "no usable AWS credentials (set AWS_PROFILE or run `aws sso login`)");
  }
  if (/NoSuchBucket|bucket does not exist|No state file was found|no outputs found/i.test(stderr)) {
    return new OutputsUnavailable(stack, "no-state", "not deployed yet (no state in the backend)");
  }
  return new OutputsUnavailable(stack, "terraform-error", stderr.trim().split("\n").slice(0, 5).join("\n"));
}

/** Outputs of a deployed stack; throws OutputsUnavailable with a reason otherwise. */
export async function readOutputs(stack: SynthesizedStack, setup: TerraformSetup): Promise<StackOutputs> {
  const init = await terraform(["init", "-input=false", "-no-color", "-reconfigure"], stack.dir, setup);
  if (init.code !== 0) throw classifyFailure(stack.name, init.stderr || init.stdout);
  const run = await terraform(["output", "-json", "-no-color"], stack.dir, setup);
  if (run.code !== 0) throw classifyFailure(stack.name, run.stderr || run.stdout);
  const outputs = parseOutputs(run.stdout);
  if (Object.keys(outputs).length === 0) throw new OutputsUnavailable(stack.name, "no-state", "not deployed yet (no outputs in its state)");
  return outputs;
}
