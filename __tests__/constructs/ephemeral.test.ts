import { TerraformLocal, TerraformOutput } from "cdktf";
import { EphemeralRandomPassword, EphemeralResource, EphemeralSecretValue, ephemeralVariable } from "../../constructs/ephemeral";
import { allStrings, onlyResource, resourcesOf, synth, testStack } from "../helpers";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:example";

describe("EphemeralSecretValue", () => {
  test("a secret read is an ephemeral block, never a data source that would land in state", () => {
    const stack = testStack();
    new EphemeralSecretValue(stack, "master", { secretId: SECRET_ARN });
    const json = synth(stack);
    expect(onlyResource(json, "aws_secretsmanager_secret_version", "ephemeral").secret_id).toBe(SECRET_ARN);
    expect(resourcesOf(json, "aws_secretsmanager_secret_version", "data")).toHaveLength(0);
  });

  test("a local of the stack passed as secret id is referenced as local.<name>", () => {
    const stack = testStack();
    const arn = new TerraformLocal(stack, "master_secret_arn", SECRET_ARN);
    new EphemeralSecretValue(stack, "master", { secretId: arn.asString });
    expect(onlyResource(synth(stack), "aws_secretsmanager_secret_version", "ephemeral").secret_id).toBe("${local.master_secret_arn}");
  });

  test("field() reads one key of the JSON secret as an interpolation of the ephemeral block", () => {
    const stack = testStack();
    const master = new EphemeralSecretValue(stack, "master", { secretId: SECRET_ARN });
    new TerraformOutput(stack, "probe", { value: master.field("username"), sensitive: true });
    const value = synth(stack).output.probe.value as string;
    expect(value).toMatch(/^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.[\w-]+\.secret_string\)\.username\}$/);
  });

  test("no reference comes out as a $${ literal", () => {
    const stack = testStack();
    const master = new EphemeralSecretValue(stack, "master", { secretId: SECRET_ARN });
    new TerraformOutput(stack, "probe", { value: master.field("password"), sensitive: true });
    expect(allStrings(synth(stack)).filter((s) => s.includes("$${"))).toEqual([]);
  });

  test("a version id reads exactly that version", () => {
    const stack = testStack();
    new EphemeralSecretValue(stack, "written", { secretId: SECRET_ARN, versionId: "v-1" });
    expect(onlyResource(synth(stack), "aws_secretsmanager_secret_version", "ephemeral").version_id).toBe("v-1");
  });

  test("a field name that is not a plain JSON key is rejected", () => {
    const master = new EphemeralSecretValue(testStack(), "master", { secretId: SECRET_ARN });
    expect(() => master.field("pass word")).toThrow(/field "pass word"/);
  });
});

describe("EphemeralRandomPassword", () => {
  test("generates letters and digits of the asked length", () => {
    const stack = testStack();
    new EphemeralRandomPassword(stack, "app", { length: 32 });
    expect(onlyResource(synth(stack), "aws_secretsmanager_random_password", "ephemeral")).toEqual({
      password_length: 32,
      exclude_punctuation: true,
      include_space: false,
      require_each_included_type: true,
    });
  });

  test("a length below 8 is rejected naming the prop", () => {
    expect(() => new EphemeralRandomPassword(testStack(), "app", { length: 4 })).toThrow(/length must be a whole number 8-4096 \(got 4\)/);
  });
});

describe("EphemeralResource", () => {
  test("a type that is not a provider resource type is rejected", () => {
    expect(() => new EphemeralResource(testStack(), "x", { type: "secret", config: {} })).toThrow(/type must be a provider resource type/);
  });
});

describe("ephemeralVariable", () => {
  test("is a sensitive, ephemeral, non-null string named for TF_VAR_<name>", () => {
    const stack = testStack();
    const ref = ephemeralVariable(stack, "stripe_secret_key", { description: "Stripe key", default: "PLACEHOLDER" });
    new TerraformOutput(stack, "probe", { value: ref, sensitive: true });
    const json = synth(stack);
    expect(json.variable.stripe_secret_key).toMatchObject({ type: "string", sensitive: true, ephemeral: true, nullable: false });
    expect(json.output.probe.value).toBe("${var.stripe_secret_key}");
  });

  test("a name that is not snake_case is rejected", () => {
    expect(() => ephemeralVariable(testStack(), "Stripe-Key", { description: "x" })).toThrow(/must be snake_case/);
  });
});
