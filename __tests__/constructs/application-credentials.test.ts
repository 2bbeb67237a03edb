import { TerraformOutput, TerraformVariable } from "cdktf";
import { ApplicationCredentials, type ApplicationCredentialsProps } from "../../constructs/application-credentials";
import { type Json, onlyResource, resourceJson, resourcesOf, synth, testStack } from "../helpers";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app";

interface Built {
  readonly json: Json;
  readonly construct: ApplicationCredentials;
}

function credentials(overrides: Partial<ApplicationCredentialsProps> = {}): Built {
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

/** The generated-credentials write (the document), by its typed handle. */
function secretVersion({ json, construct }: Built): Json {
  return resourceJson(json, construct.resource);
}
/** The operator values' write. */
function operatorWrite({ json, construct }: Built): Json {
  return resourceJson(json, construct.operatorWrite.resource);
}

/** The `"key" = value` pairs of the last `{...}` object literal in a jsonencode(...) expression, split at top-level commas. */
function objectEntries(expression: string): Record<string, string> {
  const body = expression.slice(expression.lastIndexOf('{"') + 1, expression.lastIndexOf("}", expression.length - 2));
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '"' && body[i - 1] !== "\\") quoted = !quoted;
    if (quoted) continue;
    if (c === "(" || c === "{" || c === "[") depth++;
    if (c === ")" || c === "}" || c === "]") depth--;
    if (c === "," && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return Object.fromEntries(
    parts.map((p) => {
      const m = /^\s*"(\w+)" = ([\s\S]*)$/.exec(p)!;
      return [m[1], m[2].trim()];
    }),
  );
}
const documentEntries = (built: Built): Record<string, string> => objectEntries(secretVersion(built).secret_string_wo as string);
/** What the document writes for an operator key: the secret's current value, else `fallback`. */
const kept = (key: string, fallback: string) =>
  new RegExp(
    `^lookup\\(try\\(jsondecode\\(ephemeral\\.aws_secretsmanager_secret_version\\.[\\w-]+\\[0\\]\\.secret_string\\), \\{\\}\\), "${key}", ${fallback.replace(/[.()"]/g, "\\$&")}\\)$`,
  );

describe("ApplicationCredentials", () => {
  test("the secret holds exactly the keys the Django settings read", () => {
    expect(Object.keys(documentEntries(credentials())).sort()).toEqual(
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
    expect(documentEntries(credentials()).stripe_webhook_secret).toMatch(kept("stripe_webhook_secret", "var.stripe_webhook_secret"));
    expect(objectEntries(operatorWrite(credentials()).secret_string_wo)).toHaveProperty("stripe_webhook_secret");
  });

  test("the value goes only through the write-only argument, versioned by credentials version", () => {
    const version = secretVersion(credentials({ version: 3 }));
    expect(version.secret_string_wo_version).toBe(3);
    expect(version).not.toHaveProperty("secret_string");
    expect(version.secret_id).toBe(SECRET_ARN);
  });

  test("password and Django key are ephemeral: 32 and 50 letters and digits", () => {
    const built = credentials();
    const { json } = built;
    const entries = documentEntries(built);
    expect(entries.password).toMatch(/^ephemeral\.aws_secretsmanager_random_password\./);
    expect(entries.django_secret_key).toMatch(/^ephemeral\.aws_secretsmanager_random_password\./);
    const generators = resourcesOf(json, "aws_secretsmanager_random_password", "ephemeral");
    expect(generators.map((g) => g.password_length).sort()).toEqual([32, 50]);
    for (const g of generators) expect(g.exclude_punctuation).toBe(true);
  });

  test("the document writes settings from the props and keeps the operator's keys as the secret holds them", () => {
    const entries = documentEntries(credentials());
    expect(entries).toMatchObject({
      engine: '"postgresql"',
      host: '"db.example.internal"',
      port: "5432",
      username: '"django_app"',
      dbClusterIdentifier: '"acme-multi-tenant-test"',
    });
    expect(entries.stripe_secret_key).toMatch(kept("stripe_secret_key", "var.stripe_secret_key"));
    expect(entries.stripe_publishable_key).toMatch(kept("stripe_publishable_key", "var.stripe_publishable_key"));
    expect(entries.email_host).toMatch(kept("email_host", '"email-smtp.us-east-1.amazonaws.com"'));
    expect(entries.email_port).toMatch(kept("email_port", "587"));
    expect(entries.email_user).toMatch(kept("email_user", "var.email_user"));
    expect(entries.email_password).toMatch(kept("email_password", "var.email_password"));
  });

  test("the document reads the current value only once the secret has one (a new secret has none)", () => {
    const { json } = credentials();
    const reads = resourcesOf(json, "aws_secretsmanager_secret_version", "ephemeral");
    const current = reads.find((r) => r.count !== undefined)!;
    expect(current.count).toMatch(/^\$\{min\(try\(length\(data\.aws_secretsmanager_secret_versions\.[\w-]+\.versions\), 0\), 1\)\}$/);
    expect(current.secret_id).toBe(SECRET_ARN);
    expect(onlyResource(json, "aws_secretsmanager_secret_versions", "data").secret_id).toBe(SECRET_ARN);
  });

  test("the operator values have their own write, versioned by operatorValuesVersion, with no generated key in it", () => {
    const built = credentials({ version: 2, operatorValuesVersion: 5 });
    const patch = operatorWrite(built);
    expect(patch.secret_string_wo_version).toBe(5);
    expect(secretVersion(built).secret_string_wo_version).toBe(2);
    expect(patch).not.toHaveProperty("secret_string");
    expect(patch.lifecycle?.create_before_destroy).toBeUndefined();
    expect(Object.keys(objectEntries(patch.secret_string_wo)).sort()).toEqual([...ApplicationCredentials.OPERATOR_KEYS].sort());
    expect(patch.secret_string_wo).not.toMatch(/random_password/);
  });

  test("the operator write merges into the current value, read after the document's write (its ARN is unknown until then)", () => {
    const built = credentials();
    const { json, construct } = built;
    const expression = operatorWrite(built).secret_string_wo as string;
    const read = /^\$\{jsonencode\(merge\(jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.([\w-]+)\.secret_string\), \{/.exec(
      expression,
    );
    expect(read).not.toBeNull();
    const block = json.ephemeral.aws_secretsmanager_secret_version[read![1]];
    expect(block.secret_id).toBe(`\${aws_secretsmanager_secret_version.${construct.resource.friendlyUniqueId}.arn}`);
    expect(block.version_id).toBeUndefined();
  });

  test("an operator variable left at its placeholder keeps the secret's value; host and port come from the props", () => {
    const entries = objectEntries(operatorWrite(credentials()).secret_string_wo);
    for (const key of ["stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret", "email_user", "email_password"]) {
      expect(entries[key]).toMatch(
        new RegExp(
          `^\\(var\\.${key} == "PLACEHOLDER-set-TF_VAR_${key}"\\) \\? lookup\\(jsondecode\\([^)]*\\), "${key}", var\\.${key}\\) : var\\.${key}$`,
        ),
      );
    }
    expect(entries.email_host).toBe('"email-smtp.us-east-1.amazonaws.com"');
    expect(entries.email_port).toBe("587");
  });

  test("the role's password is read back from exactly the version written", () => {
    const { json } = credentials();
    const readBack = resourcesOf(json, "aws_secretsmanager_secret_version", "ephemeral").find((r) => r.version_id !== undefined)!;
    expect(readBack.secret_id).toBe(SECRET_ARN);
    expect(readBack.version_id).toMatch(/^\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}$/);
    expect(json.output.password_probe.value).toMatch(
      /^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.[\w-]+\.secret_string\)\.password\}$/,
    );
  });

  test("the password version is the written version's id, so the role is set whenever the secret is", () => {
    expect(credentials().json.output.version_probe.value).toMatch(/^\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}$/);
  });

  test("an old version is retired before the new one is written: a label moved by the other write must not fail the apply", () => {
    expect(secretVersion(credentials()).lifecycle?.create_before_destroy).toBeUndefined();
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
