import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { App, Aspects, TerraformStack } from "cdktf";
import { Guardrails, GuardrailViolations } from "../../constructs/guardrails";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { shippedStartupWebApp, synth, testConfig, testEnvironment, testStack } from "../helpers";
import { safeDatabase, safeGroup } from "./fixtures";

describe("Guardrails aspect", () => {
  let outdir: string;
  beforeEach(() => {
    outdir = mkdtempSync(join(tmpdir(), "guardrails-"));
  });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  test("app.synth() stops on a violation and writes nothing for the stack", () => {
    const app = new App({ outdir });
    const stack = new EnvironmentStack(app, { config: testConfig(), layer: "data" });
    safeDatabase(stack, { storageEncrypted: false });
    expect(() => app.synth()).toThrow(/\[rds-encrypted\] test-data\/db \(aws_db_instance\.db\): storage_encrypted is not true/);
    expect(existsSync(join(outdir, "stacks", "test-data", "cdk.tf.json"))).toBe(false);
    expect(existsSync(join(outdir, "manifest.json"))).toBe(false);
  });

  test("every violation of a stack is reported in one error", () => {
    const stack = testStack();
    safeDatabase(stack, { storageEncrypted: false, publiclyAccessible: true });
    safeGroup(stack, "g", { description: "" });
    let error: unknown;
    try {
      synth(stack);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GuardrailViolations);
    const message = (error as Error).message;
    expect(message).toMatch(/^test-data: 3 guardrail violations; nothing is synthesized until they are fixed:/);
    for (const id of ["rds-encrypted", "rds-private", "sg-description"]) expect(message).toContain(`[${id}] test-data/`);
    expect(message).toContain("How to fix:");
    expect(message).toContain('suppress(construct, "<rule id>", "<why>")');
  });

  test("an uncaught violation prints its message and trace, not the constructs behind it", () => {
    const stack = testStack();
    safeDatabase(stack, { storageEncrypted: false });
    let error: unknown;
    try {
      synth(stack);
    } catch (err) {
      error = err;
    }
    const printed = inspect(error);
    expect(printed).toMatch(/^GuardrailViolations: test-data: 1 guardrail violation/);
    expect(printed).toContain("at Guardrails.visit");
    expect(printed).not.toContain("violations:");
    expect((error as GuardrailViolations).violations).toHaveLength(1);
  });

  test("a production config that turns deletion protection off fails the real data stack's synth", () => {
    const { data } = testEnvironment(shippedStartupWebApp("prod", { database: { deletionProtection: false } }));
    expect(() => synth(data)).toThrow(/\[prod-db-deletion-protection\] prod-data\/postgres\/instance .*: deletion_protection is not true/);
  });

  test("every environment stack carries the aspect, with the environment's production and protect settings", () => {
    const stack = testStack(testConfig({ production: true }));
    const guardrails = Aspects.of(stack).all.filter((a) => a instanceof Guardrails);
    expect(guardrails).toHaveLength(1);
    safeDatabase(stack, { deletionProtection: false });
    expect(() => synth(stack)).toThrow(/\[prod-db-deletion-protection\]/);
  });

  test("the aspect checks a plain TerraformStack it is added to", () => {
    const app = new App({ outdir });
    const stack = new TerraformStack(app, "plain");
    Aspects.of(stack).add(new Guardrails());
    safeGroup(stack, "g", { description: undefined });
    expect(() => app.synth()).toThrow(/\[sg-description\] plain\/g/);
  });

  test("a clean stack synthesizes", () => {
    const app = new App({ outdir });
    const stack = new EnvironmentStack(app, { config: testConfig(), layer: "data" });
    safeDatabase(stack);
    app.synth();
    expect(existsSync(join(outdir, "stacks", "test-data", "cdk.tf.json"))).toBe(true);
  });
});
