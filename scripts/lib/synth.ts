/** Synthesizes the app in-process into any folder, for the tools and tests that read its output. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { App } from "cdktf";
import { configFiles, loadConfigs } from "../../config/load";
import type { EnvironmentConfig } from "../../config/schema";
import { buildEnvironment } from "../../stacks";
import { applyEmulatorMode } from "./emulator";

export interface SynthesizedStack {
  readonly name: string;
  /** Folder holding the stack's cdk.tf.json. */
  readonly dir: string;
  /** Stacks that must be deployed before this one. */
  readonly dependencies: readonly string[];
}

/**
 * Synthesizes `configs` (default: what main.ts would) into `outdir`; returns its stacks in deploy order.
 * With INFRA_AWS_ENDPOINT set it also writes the emulator's override file next to each stack and
 * prints the emulator banner (scripts/lib/emulator.ts); without, it removes stale override files.
 */
export function synthesize(outdir: string, configs: readonly EnvironmentConfig[] = loadConfigs(configFiles())): SynthesizedStack[] {
  const app = new App({ outdir });
  for (const config of configs) buildEnvironment(app, config);
  app.synth();
  const stacks = readManifest(outdir);
  const banner = applyEmulatorMode(stacks.map((s) => s.dir));
  // stderr: commands whose stdout is a report (status, plan) keep it clean; the line is still on every run.
  if (banner) process.stderr.write(`${banner}\n`);
  return stacks;
}

/** The stacks of a synthesized folder, ordered so every stack follows its dependencies. */
export function readManifest(outdir: string): SynthesizedStack[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { name: string; workingDirectory: string; dependencies: string[] }>;
  };
  const stacks = Object.values(manifest.stacks).map((s) => ({
    name: s.name,
    dir: join(outdir, s.workingDirectory),
    dependencies: s.dependencies,
  }));
  return deployOrder(stacks);
}

/** Topological order, ties broken by name so the output is stable. */
export function deployOrder<T extends { name: string; dependencies: readonly string[] }>(stacks: readonly T[]): T[] {
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const done = new Set<string>();
  const order: T[] = [];
  const visit = (stack: T, path: string[]): void => {
    if (done.has(stack.name)) return;
    if (path.includes(stack.name)) throw new Error(`stack dependency cycle: ${[...path, stack.name].join(" -> ")}`);
    for (const dep of [...stack.dependencies].sort()) {
      const d = byName.get(dep);
      if (d) visit(d, [...path, stack.name]);
    }
    done.add(stack.name);
    order.push(stack);
  };
  for (const stack of [...stacks].sort((a, b) => a.name.localeCompare(b.name))) visit(stack, []);
  return order;
}
