import { TerraformOutput, TerraformVariable } from "cdktf";
import { ApplicationCredentials, type ApplicationCredentialsProps } from "../../constructs/application-credentials";
import { type Json, onlyResource, resourcesOf, synth, testStack } from "../helpers";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app";

function credentials(overrides: Partial<ApplicationCredentialsProps> = {}): { json: Json; construct: ApplicationCredentials } {
  const stack = testStack(undefined, "tenants");
  const variable = (name: string) => new TerraformVariable(stack, name, { type: "string", sensitive: true }).stringValue;
  const construct = new ApplicationCredentials(stack, "credentials", {
    secretId: SECRET_ARN,
    username: "django_app",
    host: "db.example.internal",
    port: 5432,
    dbClusterIdentifier: "acme-multi-tenant-test",
    emailHost: "email-smtp.us-east-1.amazonaws.com",
    emailPort: 587,
    operatorValues: {
      stripeSecretKey: variable("stripe_secret_key"),
      stripePublishableKey: variable("stripe_publishable_key"),
      stripeWebhookSecret: variable("stripe_webhook_secret"),
      emailUser: variable("email_user"),
      emailPassword: variable("email_password"),
    },
    ...overrides,
  });
  new TerraformOutput(stack, "password_probe", { value: construct.password, sensitive: true });
  new TerraformOutput(stack, "version_probe", { value: construct.passwordVersion });
  return { json: synth(stack), construct };
}

const secretVersion = (json: Json): Json => onlyResource(json, "aws_secretsmanager_secret_version");
/** The `key = value` pairs of the jsonencode({...}) expression written as the secret. */
function documentEntries(json: Json): Record<string, string> {
  const expression = secretVersion(json).secret_string_wo as string;
  return Object.fromEntries([...expression.matchAll(/"(\w+)" = ([^,}]+)/g)].map((m) => [m[1], m[2].trim()]));
}

describe("ApplicationCredentials", () => {
  test("the secret holds exactly the keys the Django settings read", () => {
    expect(Object.keys(documentEntries(credentials().json)).sort()).toEqual(
      [
        "engine",
        "host",
        "port",
        "username",
        "password",
        "dbClusterIdentifier",
        "django_secret_key",
        "stripe_secret_key",
        "stripe_publishable_key",
        "stripe_webhook_secret",
        "email_host",
        "email_port",
        "email_user",
        "email_password",
      ].sort(),
    );
  });

  test("stripe_webhook_secret is written (the old scripts forgot it and the app would not start)", () => {
    expect(documentEntries(credentials().json).stripe_webhook_secret).toBe("var.stripe_webhook_secret");
  });

  test("the value goes only through the write-only argument, versioned by credentials version", () => {
    const version = secretVersion(credentials({ version: 3 }).json);
    expect(version.secret_string_wo_version).toBe(3);
    expect(version).not.toHaveProperty("secret_string");
    expect(version.secret_id).toBe(SECRET_ARN);
  });

  test("password and Django key are ephemeral: 32 and 50 letters and digits", () => {
    const { json } = credentials();
    const entries = documentEntries(json);
    expect(entries.password).toMatch(/^ephemeral\.aws_secretsmanager_random_password\./);
    expect(entries.django_secret_key).toMatch(/^ephemeral\.aws_secretsmanager_random_password\./);
    const generators = resourcesOf(json, "aws_secretsmanager_random_password", "ephemeral");
    expect(generators.map((g) => g.password_length).sort()).toEqual([32, 50]);
    for (const g of generators) expect(g.exclude_punctuation).toBe(true);
  });

  test("settings an operator knows come from variables; the rest from the props", () => {
    const entries = documentEntries(credentials().json);
    expect(entries).toMatchObject({
      engine: '"postgresql"',
      host: '"db.example.internal"',
      port: "5432",
      username: '"django_app"',
      dbClusterIdentifier: '"acme-multi-tenant-test"',
      stripe_secret_key: "var.stripe_secret_key",
      stripe_publishable_key: "var.stripe_publishable_key",
      email_host: '"email-smtp.us-east-1.amazonaws.com"',
      email_port: "587",
      email_user: "var.email_user",
      email_password: "var.email_password",
    });
  });

  test("the role's password is read back from exactly the version written", () => {
    const { json } = credentials();
    const readBack = onlyResource(json, "aws_secretsmanager_secret_version", "ephemeral");
    expect(readBack.secret_id).toBe(SECRET_ARN);
    expect(readBack.version_id).toMatch(/^\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}$/);
    expect(json.output.password_probe.value).toMatch(
      /^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.[\w-]+\.secret_string\)\.password\}$/,
    );
  });

  test("the password version is the written version's id, so the role is set whenever the secret is", () => {
    expect(credentials().json.output.version_probe.value).toMatch(/^\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}$/);
  });

  test("a new version is written before the old one is retired", () => {
    expect(secretVersion(credentials().json).lifecycle.create_before_destroy).toBe(true);
  });

  test("version 0 is rejected naming the prop", () => {
    expect(() => credentials({ version: 0 })).toThrow(/version must be a whole number >= 1 \(got 0\)/);
  });

  test("a password shorter than 32 is rejected naming the prop", () => {
    expect(() => credentials({ passwordLength: 16 })).toThrow(/passwordLength must be at least 32 \(got 16\)/);
  });

  test("a literal operator value is rejected: real values come only from TF_VAR_", () => {
    const literal = { stripeSecretKey: "x", stripePublishableKey: "x", stripeWebhookSecret: "x", emailUser: "x", emailPassword: "x" };
    expect(() => credentials({ operatorValues: literal })).toThrow(/operatorValues\.stripeSecretKey must be a variable reference/);
  });
});
