/**
 * The application secret's two counters, applied for real on moto: publishing operator values keeps
 * the generated password and Django key, rotating those keeps the operator values (also ones a tool
 * wrote outside Terraform), and a variable left unset keeps what the secret holds.
 *
 * Values are compared as digests computed next to the secret (in python), never printed.
 */
import { ApplicationCredentials } from "../../constructs/application-credentials";
import { ephemeralVariable, placeholder } from "../../constructs/ephemeral";
import { startMoto, type Emulator } from "../../scripts/lib/moto";
import { testConfig } from "../helpers";
import { EmulatedStack } from "../support/emulated-stack";

const SECRET_NAME = "acme/test/app";

let emulator: Emulator;
let stack: EmulatedStack;
/** The container, created beforehand as the data stack does: the tenants stack reads its ARN from remote state, known at plan. */
let secretArn: string;
/** The two counters the next apply synthesizes with. */
const counters = { credentials: 1, operator: 1 };

beforeAll(async () => {
  emulator = await startMoto();
  stack = new EmulatedStack(emulator, testConfig(), (scope) => {
    const variable = (name: string) => ephemeralVariable(scope, name, { description: name, default: placeholder(name) });
    new ApplicationCredentials(scope, "credentials", {
      secretId: secretArn,
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
      version: counters.credentials,
      operatorValuesVersion: counters.operator,
    });
  });
  secretArn = await stack.python(`import boto3; print(boto3.client("secretsmanager").create_secret(Name="${SECRET_NAME}")["ARN"])`);
}, 900_000);

afterAll(async () => {
  try {
    await stack?.destroy();
  } finally {
    await emulator?.stop();
  }
}, 300_000);

/** Each key of the current secret as a short digest (the same value gives the same digest), and its version count. */
async function secretDigests(): Promise<Record<string, string>> {
  const out = await stack.python(`
import boto3, hashlib, json
value = json.loads(boto3.client("secretsmanager").get_secret_value(SecretId="${SECRET_NAME}")["SecretString"])
print(json.dumps({k: hashlib.sha256(str(v).encode()).hexdigest()[:16] for k, v in value.items()}))
`);
  return JSON.parse(out) as Record<string, string>;
}

const digest = async (value: string): Promise<string> =>
  stack.python(`import hashlib; print(hashlib.sha256(${JSON.stringify(value)}.encode()).hexdigest()[:16])`);

/** What `npm run ses:credentials` does to the secret: only the SMTP keys change. */
async function writeSmtpLikeTheTool(user: string, password: string): Promise<void> {
  await stack.python(`
import boto3, json
sm = boto3.client("secretsmanager")
value = json.loads(sm.get_secret_value(SecretId="${SECRET_NAME}")["SecretString"])
value.update({"email_user": ${JSON.stringify(user)}, "email_password": ${JSON.stringify(password)}})
sm.put_secret_value(SecretId="${SECRET_NAME}", SecretString=json.dumps(value))
`);
}

test("both counters, both directions, on a real apply", async () => {
  // 1. A new environment: the first write finds no value to keep; operator keys are placeholders.
  await stack.apply();
  const first = await secretDigests();
  expect(Object.keys(first).sort()).toEqual([...ApplicationCredentials.KEYS].sort());
  expect(first.stripe_secret_key).toBe(await digest(placeholder("stripe_secret_key")));

  // 2. Publishing a Stripe key (operatorValuesVersion 2) keeps the password and the Django key.
  counters.operator = 2;
  await stack.apply({ stripe_secret_key: "sk_test_not-a-real-key" });
  const published = await secretDigests();
  expect(published.password).toBe(first.password);
  expect(published.django_secret_key).toBe(first.django_secret_key);
  expect(published.stripe_secret_key).toBe(await digest("sk_test_not-a-real-key"));
  expect(published.email_user).toBe(first.email_user);

  // 3. A tool writes the SMTP values outside Terraform; rotating the generated credentials
  //    (credentialsVersion 2, no variable exported) keeps them and the Stripe key.
  await writeSmtpLikeTheTool("test-key-not-real", "not-a-real-smtp-password");
  counters.credentials = 2;
  await stack.apply();
  const rotated = await secretDigests();
  expect(rotated.password).not.toBe(first.password);
  expect(rotated.django_secret_key).not.toBe(first.django_secret_key);
  expect(rotated.stripe_secret_key).toBe(published.stripe_secret_key);
  expect(rotated.email_user).toBe(await digest("test-key-not-real"));
  expect(rotated.email_password).toBe(await digest("not-a-real-smtp-password"));

  // 4. Publishing only the webhook secret: unset variables keep the tool's SMTP values and the Stripe key.
  counters.operator = 3;
  await stack.apply({ stripe_webhook_secret: "whsec_not-a-real-secret" });
  const again = await secretDigests();
  expect(again.password).toBe(rotated.password);
  expect(again.django_secret_key).toBe(rotated.django_secret_key);
  expect(again.stripe_webhook_secret).toBe(await digest("whsec_not-a-real-secret"));
  expect(again.stripe_secret_key).toBe(rotated.stripe_secret_key);
  expect(again.email_user).toBe(rotated.email_user);

  // 5. Both counters at once: new credentials, and the operator write lands on top of them.
  counters.credentials = 3;
  counters.operator = 4;
  await stack.apply({ stripe_publishable_key: "pk_test_not-a-real-key" });
  const both = await secretDigests();
  expect(both.password).not.toBe(again.password);
  expect(both.stripe_publishable_key).toBe(await digest("pk_test_not-a-real-key"));
  expect(both.email_password).toBe(again.email_password);

  // 6. Nothing changed: the plan is empty (exit 0), the written versions are not rewritten.
  stack.synth();
  const plan = await stack.run(["plan", "-detailed-exitcode", "-input=false", "-no-color"], {}, [0, 2]);
  expect({ code: plan.code, plan: plan.code === 0 ? "" : plan.stdout.slice(-2000) }).toEqual({ code: 0, plan: "" });
}, 900_000);
