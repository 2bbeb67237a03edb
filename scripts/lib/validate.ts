/**
 * Offline schema check: every synthesized stack goes through `terraform init -backend=false` and
 * `terraform validate` in a scratch copy, against the real provider schema from the local mirror.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { stubUnavailableProviders } from "./stub";
import type { SynthesizedStack } from "./synth";
import { inParallel, terraform, type TerraformSetup } from "./terraform";

export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly summary: string;
  readonly detail?: string;
  /** Where Terraform found it, e.g. `resource.aws_db_instance.main` or a JSON pointer. */
  readonly address?: string;
}

export interface ValidateResult {
  readonly stack: string;
  readonly valid: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** Addresses left out because their provider is not in the mirror. */
  readonly stubbed: readonly string[];
  readonly missingProviders: readonly string[];
}

/** Validates `stacks` at most `concurrency` at a time (default: one per core). */
export async function validateStacks(
  stacks: readonly SynthesizedStack[],
  setup: TerraformSetup,
  concurrency = cpus().length,
): Promise<ValidateResult[]> {
  return inParallel(stacks, concurrency, (stack) => validateStack(stack, setup));
}

export async function validateStack(stack: SynthesizedStack, setup: TerraformSetup): Promise<ValidateResult> {
  const scratch = mkdtempSync(join(tmpdir(), `validate-${stack.name}-`));
  try {
    const { stubbed, missingProviders } = prepareScratchCopy(stack, scratch, setup);
    const init = await terraform(["init", "-backend=false", "-input=false", "-no-color"], scratch, setup);
    if (init.code !== 0) {
      return {
        stack: stack.name,
        valid: false,
        stubbed,
        missingProviders,
        diagnostics: [{ severity: "error", summary: "terraform init failed", detail: (init.stderr || init.stdout).trim() }],
      };
    }
    const run = await terraform(["validate", "-json", "-no-color"], scratch, setup);
    const report = parseValidateJson(run.stdout);
    return { stack: stack.name, valid: run.code === 0 && report.valid, diagnostics: report.diagnostics, stubbed, missingProviders };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Copies the stack (with its assets) and stubs providers the mirror lacks. */
export function prepareScratchCopy(
  stack: SynthesizedStack,
  scratch: string,
  setup: TerraformSetup,
): { stubbed: string[]; missingProviders: string[] } {
  cpSync(stack.dir, scratch, { recursive: true, filter: (src) => !src.includes(`${stack.dir}/.terraform`) });
  const document = JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8")) as Record<string, unknown>;
  const available = setup.available;
  const result = available ? stubUnavailableProviders(document, (p) => available.has(p)) : { document, stubbed: [], missingProviders: [] };
  writeFileSync(join(scratch, "cdk.tf.json"), JSON.stringify(result.document, null, 2));
  return { stubbed: result.stubbed, missingProviders: result.missingProviders };
}

export function parseValidateJson(stdout: string): { valid: boolean; diagnostics: Diagnostic[] } {
  let parsed: {
    valid?: boolean;
    diagnostics?: {
      severity: string;
      summary: string;
      detail?: string;
      address?: string;
      range?: { filename: string; start: { line: number } };
    }[];
  };
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return { valid: false, diagnostics: [{ severity: "error", summary: "terraform validate printed no JSON", detail: stdout.trim() }] };
  }
  const diagnostics = (parsed.diagnostics ?? []).map((d) => ({
    severity: d.severity === "warning" ? ("warning" as const) : ("error" as const),
    summary: d.summary,
    detail: d.detail,
    address: d.address ?? (d.range ? `${d.range.filename}:${d.range.start.line}` : undefined),
  }));
  return { valid: parsed.valid === true, diagnostics };
}

/** Plain-text report: one line per stack, then its diagnostics and what was stubbed. */
export function formatValidateReport(results: readonly ValidateResult[], setup: TerraformSetup): string {
  const lines = [
    setup.mirror ? `providers from the local mirror ${setup.mirror}` : "providers installed by terraform (no local mirror found)",
  ];
  for (const r of results) {
    lines.push(`${r.valid ? "ok  " : "FAIL"}  ${r.stack}`);
    for (const d of r.diagnostics) {
      lines.push(`        ${d.severity}: ${d.summary}${d.address ? ` (${d.address})` : ""}`);
      if (d.detail) lines.push(...d.detail.split("\n").map((l) => `          ${l}`));
    }
    if (r.stubbed.length > 0) {
      lines.push(`        not validated, provider not in the mirror (${r.missingProviders.join(", ")}):`);
      lines.push(...r.stubbed.map((a) => `          - ${a}`));
    }
  }
  const failed = results.filter((r) => !r.valid).length;
  lines.push(`${results.length - failed} of ${results.length} stacks valid`);
  return lines.join("\n");
}
