/**
 * A real `terraform plan` with no cloud: local backend, placeholder credentials and every provider
 * check that would call AWS turned off. Works for stacks that read nothing from the cloud (no
 * remote state, no data source that calls an API).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SynthesizedStack } from "./synth";
import { terraform, type TerraformSetup } from "./terraform";
import { prepareScratchCopy } from "./validate";

/** Terraform's `show -json` plan document; the parts our tools read are typed where they read them. */
export type PlanDocument = Record<string, unknown> & {
  resource_changes?: { address: string; type: string; change: { actions: string[] } }[];
};

/** Not credentials: the provider needs some value to start, and every call that would use it is skipped. */
export const OFFLINE_ENV = {
  AWS_ACCESS_KEY_ID: "offline-plan-placeholder",
  AWS_SECRET_ACCESS_KEY: "offline-plan-placeholder",
  AWS_EC2_METADATA_DISABLED: "true",
};

export async function offlinePlan(stack: SynthesizedStack, setup: TerraformSetup): Promise<PlanDocument> {
  const scratch = mkdtempSync(join(tmpdir(), `plan-${stack.name}-`));
  try {
    prepareScratchCopy(stack, scratch, setup);
    const file = join(scratch, "cdk.tf.json");
    const document = JSON.parse(readFileSync(file, "utf8"));
    if (document.data?.terraform_remote_state) {
      throw new Error(`${stack.name} reads other stacks' remote state: it cannot be planned offline`);
    }
    writeFileSync(file, JSON.stringify(withoutCloud(document)));
    const steps: string[][] = [
      ["init", "-input=false", "-no-color"],
      ["plan", "-input=false", "-lock=false", "-no-color", "-out=offline.tfplan"],
      ["show", "-json", "-no-color", "offline.tfplan"],
    ];
    let last = "";
    for (const args of steps) {
      const run = await terraform(args, scratch, setup, OFFLINE_ENV);
      if (run.code !== 0) throw new Error(`terraform ${args[0]} of ${stack.name} failed:\n${(run.stderr || run.stdout).trim()}`);
      last = run.stdout;
    }
    return JSON.parse(last) as PlanDocument;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A synthesized stack made plannable offline, in place: local backend, every AWS call at start-up skipped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function withoutCloud<T extends Record<string, any>>(document: T): T {
  delete document.terraform?.backend;
  for (const provider of document.provider?.aws ?? []) {
    Object.assign(provider, { skip_credentials_validation: true, skip_requesting_account_id: true, skip_metadata_api_check: true });
  }
  return document;
}
