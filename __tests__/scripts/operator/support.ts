/**
 * What the operator tests share: StartupWebApp's stacks as folder names with the dependencies their
 * synthesis gives them, and a recording fake runner. No terraform and no AWS.
 */
import { join } from "node:path";
import type { EnvironmentConfig } from "../../../config/schema";
import type { Plan } from "../../../scripts/lib/operator/plan";
import type { Runner } from "../../../scripts/lib/operator/run";
import type { SynthesizedStack } from "../../../scripts/lib/synth";
import { LAYERS } from "../../../stacks/environment-stack";

export const OUT = "/work/out";

/**
 * The dependencies StartupWebApp's stacks get from their cross-stack references when synthesized
 * (deploy.test.ts checks the real synthesized graph gives the same schedule).
 */
export const DEPENDS_ON: Record<string, readonly string[]> = {
  state: [],
  network: ["state"],
  data: ["network"],
  access: ["data", "network"],
  observability: ["data"],
  tenants: ["access", "data"],
};

export function stacksOf(config: EnvironmentConfig): SynthesizedStack[] {
  return LAYERS.map((layer) => ({
    name: `${config.environment}-${layer}`,
    dir: join(OUT, "stacks", `${config.environment}-${layer}`),
    dependencies: (DEPENDS_ON[layer] ?? ["state"]).map((d) => `${config.environment}-${d}`),
  }));
}

export const stackNames = (plan: Plan): string[] => plan.steps.flatMap((s) => (s.kind === "stack" ? [s.stack] : []));
export const kinds = (plan: Plan): string[] => plan.steps.map((s) => (s.kind === "stack" ? s.stack : s.kind));

export interface Recorder extends Runner {
  readonly calls: string[];
}

export function fakeRunner(
  overrides: { failOn?: string; planCode?: number; confirm?: boolean; outputs?: Record<string, Record<string, unknown>> } = {},
): Recorder {
  const calls: string[] = [];
  const outputs = overrides.outputs ?? {
    "test-access": { bastion_instance_id: "i-0123456789abcdef0" },
    "test-data": { db_instance_address: "db.example.internal", db_instance_port: 5432 },
  };
  return {
    calls,
    terraform: async (args, dir) => {
      const call = `${dir.split("/").pop()} ${args[0]}`;
      calls.push(call);
      if (call === overrides.failOn) return { code: 1, stdout: "", stderr: "Error: boom" };
      if (args[0] === "plan") return { code: overrides.planCode ?? 2, stdout: "Plan: 1 to add, 0 to change, 0 to destroy.", stderr: "" };
      return { code: 0, stdout: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", stderr: "" };
    },
    command: async (argv) => {
      calls.push(argv.slice(0, 3).join(" "));
      return { code: 0, stdout: "", stderr: "" };
    },
    outputs: async (stack) => outputs[stack] ?? {},
    openTunnel: async (o) => {
      calls.push(`open ${o.bastionInstanceId} ${o.host}:${o.remotePort} -> ${o.localPort}`);
      return { close: async () => void calls.push("close") };
    },
    confirm: async () => overrides.confirm ?? true,
    log: () => undefined,
  };
}
