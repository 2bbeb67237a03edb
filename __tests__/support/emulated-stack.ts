/**
 * One small stack applied for real against moto (scripts/lib/moto.ts), for constructs whose behaviour
 * only shows at deploy time: the stack is synthesized again for each step into the same folder, so
 * its local state carries over from one apply to the next, exactly as redeploying a changed config.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import type { Construct } from "constructs";
import { emulatorEnv, emulatorOverride, OVERRIDE_FILE, type EmulatorMode } from "../../scripts/lib/emulator";
import type { Emulator } from "../../scripts/lib/moto";
import { prepareTerraform, terraform, type RunResult, type TerraformSetup } from "../../scripts/lib/terraform";
import type { EnvironmentConfig } from "../../config/schema";
import { EnvironmentStack } from "../../stacks/environment-stack";

export class EmulatedStack {
  readonly dir: string;
  private readonly mode: EmulatorMode;
  private readonly setup: TerraformSetup;
  private initialized = false;

  constructor(
    private readonly emulator: Emulator,
    private readonly config: EnvironmentConfig,
    private readonly build: (stack: EnvironmentStack) => void,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "emulated-stack-"));
    this.mode = { endpoint: emulator.endpoint, caBundle: emulator.caBundle, stateDir: join(this.dir, "state") };
    mkdirSync(this.mode.stateDir);
    this.setup = prepareTerraform();
  }

  /** Synthesizes the stack (the builder reads whatever the test changed since) and writes the emulator override. */
  synth(): void {
    const outdir = mkdtempSync(join(tmpdir(), "emulated-synth-"));
    try {
      const app = new App({ outdir });
      const stack = new EnvironmentStack(app as Construct, { config: this.config, layer: "tenants", backend: "local" });
      this.build(stack);
      app.synth();
      const document = JSON.parse(readFileSync(join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
      writeFileSync(join(this.dir, "cdk.tf.json"), JSON.stringify(document, null, 2));
      writeFileSync(join(this.dir, OVERRIDE_FILE), JSON.stringify(emulatorOverride(document, stack.node.id, this.mode), null, 2));
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }

  /** `terraform <args>` against the emulator, with `vars` as TF_VAR_<name>; throws with Terraform's error on failure. */
  async run(
    args: readonly string[],
    vars: Readonly<Record<string, string>> = {},
    allowedCodes: readonly number[] = [0],
  ): Promise<RunResult> {
    if (!this.initialized) {
      await this.check(["init", "-input=false", "-no-color"], {}, [0]);
      this.initialized = true;
    }
    return this.check(args, vars, allowedCodes);
  }

  /** Synthesizes and applies. */
  async apply(vars: Readonly<Record<string, string>> = {}): Promise<void> {
    this.synth();
    await this.run(["apply", "-auto-approve", "-input=false", "-no-color"], vars);
  }

  /** Runs python code with boto3 against the emulator; resolves with its stdout. */
  python(code: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.emulator.python.python, ["-c", code], {
        env: { ...process.env, ...emulatorEnv(this.mode), AWS_DEFAULT_REGION: this.config.region },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`python failed (${code}): ${err.trim()}`))));
    });
  }

  async destroy(): Promise<void> {
    try {
      if (this.initialized) await this.run(["destroy", "-auto-approve", "-input=false", "-no-color"]);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private async check(
    args: readonly string[],
    vars: Readonly<Record<string, string>>,
    allowedCodes: readonly number[],
  ): Promise<RunResult> {
    const env: Record<string, string | undefined> = { ...emulatorEnv(this.mode) };
    for (const [name, value] of Object.entries(vars)) env[`TF_VAR_${name}`] = value;
    const result = await terraform(args, this.dir, this.setup, env);
    if (!allowedCodes.includes(result.code)) {
      throw new Error(`terraform ${args[0]} failed (exit ${result.code}):\n${(result.stderr || result.stdout).trim().slice(-4000)}`);
    }
    return result;
  }
}
