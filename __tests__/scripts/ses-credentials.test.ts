import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StartupWebAppConfig } from "../../config/schema";
import {
  applicationSecretNames,
  awsCli,
  rotateSmtpCredentials,
  rotationProblem,
  sendingStatus,
  smtpPassword,
  type AwsCli,
} from "../../scripts/lib/ses-credentials";
import { testConfig } from "../helpers";

/** AWS's documentation example secret access key (not a credential). */
const EXAMPLE_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("smtpPassword", () => {
  // No AWS-published test vectors exist for the version 4 derivation; these values come from an
  // independent implementation (Python's hmac) of the documented steps, on AWS's example key.
  test("derives AWS's documented version-4 password for the documentation's example key", () => {
    expect(smtpPassword(EXAMPLE_SECRET_KEY, "us-east-1")).toBe("BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9");
    expect(smtpPassword(EXAMPLE_SECRET_KEY, "eu-west-1")).toBe("BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk");
  });

  test("the password is the version byte 0x04 then a 32-byte HMAC-SHA256, base64: 44 characters", () => {
    const raw = Buffer.from(smtpPassword("another-key", "us-west-2"), "base64");
    expect(raw).toHaveLength(33);
    expect(raw[0]).toBe(0x04);
    expect(smtpPassword("another-key", "us-west-2")).toHaveLength(44);
  });

  test("the password differs per region and per key: SES accepts it only in its region", () => {
    const base = smtpPassword(EXAMPLE_SECRET_KEY, "us-east-1");
    expect(smtpPassword(EXAMPLE_SECRET_KEY, "us-east-2")).not.toBe(base);
    expect(smtpPassword(`${EXAMPLE_SECRET_KEY}x`, "us-east-1")).not.toBe(base);
  });
});

// ---------------------------------------------------------------- a fake AWS

interface FakeAws {
  readonly aws: AwsCli;
  readonly keys: string[];
  readonly secrets: Map<string, string>;
  /** Every argv the tool ran, and the inputs it passed through files. */
  readonly calls: { args: string[]; input?: string }[];
  /** The secret access key of each key created, by id. */
  readonly secretOf: Map<string, string>;
  account: Record<string, unknown>;
  identity: Record<string, unknown>;
}

function fakeAws(secretNames: readonly string[]): FakeAws {
  let counter = 0;
  const fake: FakeAws = {
    keys: [],
    secrets: new Map(
      secretNames.map((n) => [
        n,
        JSON.stringify({ password: `db-${n}`, django_secret_key: "dj", email_user: "PLACEHOLDER", stripe_secret_key: "sk" }),
      ]),
    ),
    calls: [],
    secretOf: new Map(),
    account: { ProductionAccessEnabled: false, SendingEnabled: true, SendQuota: { Max24HourSend: 200, MaxSendRate: 1 } },
    identity: { VerifiedForSendingStatus: true, DkimAttributes: { Status: "SUCCESS" } },
    aws: async (args, input) => {
      fake.calls.push({ args: [...args], input });
      const arg = (name: string) => args[args.indexOf(name) + 1];
      const ok = (value: unknown) => ({ code: 0, stdout: JSON.stringify(value), stderr: "" });
      const command = `${args[0]} ${args[1]}`;
      switch (command) {
        case "iam list-access-keys":
          return ok({ AccessKeyMetadata: fake.keys.map((id) => ({ AccessKeyId: id, Status: "Active" })) });
        case "iam create-access-key": {
          if (fake.keys.length >= 2)
            return { code: 254, stdout: "", stderr: "LimitExceeded: Cannot exceed quota for AccessKeysPerUser: 2" };
          const id = `test-key-${++counter}`;
          fake.keys.push(id);
          fake.secretOf.set(id, `fake-secret-access-key-${counter}`);
          return ok({ AccessKey: { AccessKeyId: id, SecretAccessKey: fake.secretOf.get(id) } });
        }
        case "iam delete-access-key":
          fake.keys.splice(fake.keys.indexOf(arg("--access-key-id")), 1);
          return ok({});
        case "secretsmanager get-secret-value":
          return ok({ SecretString: fake.secrets.get(arg("--secret-id")) });
        case "secretsmanager put-secret-value":
          expect(arg("--secret-string")).toBe("@input");
          fake.secrets.set(arg("--secret-id"), input!);
          return ok({});
        case "sesv2 get-account":
          return ok(fake.account);
        case "sesv2 get-email-identity":
          return ok(fake.identity);
        default:
          return { code: 2, stdout: "", stderr: `unexpected ${command}` };
      }
    },
  };
  return fake;
}

const withEmail = (tenants: Record<string, unknown> = {}): StartupWebAppConfig =>
  testConfig({ email: { domain: "example.org" }, tenants: { secretName: "acme/test/app", ...tenants } });
const USER = "acme-test-ses-smtp";

describe("rotateSmtpCredentials", () => {
  test("the first run creates a key and writes host, port 587, user and derived password, keeping every other key", async () => {
    const fake = fakeAws(["acme/test/app"]);
    const result = await rotateSmtpCredentials({ config: withEmail(), userName: USER, aws: fake.aws, log: () => {} });
    expect(fake.keys).toHaveLength(1);
    const [id] = fake.keys;
    expect(JSON.parse(fake.secrets.get("acme/test/app")!)).toEqual({
      password: "db-acme/test/app",
      django_secret_key: "dj",
      stripe_secret_key: "sk",
      email_host: "email-smtp.us-east-1.amazonaws.com",
      email_port: 587,
      email_user: id,
      email_password: smtpPassword(fake.secretOf.get(id)!, "us-east-1"),
    });
    expect(result).toEqual({ keyHint: `...${id.slice(-4)}`, secrets: ["acme/test/app"], deletedKeys: 0 });
  });

  test("running again rotates: a new key in the secret, the previous one deleted", async () => {
    const fake = fakeAws(["acme/test/app"]);
    const run = () => rotateSmtpCredentials({ config: withEmail(), userName: USER, aws: fake.aws, log: () => {} });
    await run();
    const [first] = fake.keys;
    const second = await run();
    expect(fake.keys).toHaveLength(1);
    expect(fake.keys[0]).not.toBe(first);
    expect(JSON.parse(fake.secrets.get("acme/test/app")!).email_user).toBe(fake.keys[0]);
    expect(second.deletedKeys).toBe(1);
    // The old key goes only after the secret holds the new one.
    const order = fake.calls.map((c) => `${c.args[1]} ${c.args.includes(first) ? "old" : ""}`.trim());
    expect(order.lastIndexOf("put-secret-value")).toBeLessThan(order.indexOf("delete-access-key old"));
  });

  test("a key the secret does not use (an interrupted run's) is deleted first, so IAM's two-key limit is never hit", async () => {
    const fake = fakeAws(["acme/test/app"]);
    const run = () => rotateSmtpCredentials({ config: withEmail(), userName: USER, aws: fake.aws, log: () => {} });
    await run();
    fake.keys.push("test-key-left-over");
    await run();
    expect(fake.keys).toHaveLength(1);
    expect(fake.keys).not.toContain("test-key-left-over");
  });

  test("with per-database isolation every tenant's secret gets the credentials", async () => {
    const config = withEmail({ isolation: "per-database", databases: ["alpha", "beta"] });
    expect(applicationSecretNames(config)).toEqual(["acme/test/app/alpha", "acme/test/app/beta"]);
    const fake = fakeAws(applicationSecretNames(config));
    await rotateSmtpCredentials({ config, userName: USER, aws: fake.aws, log: () => {} });
    for (const name of applicationSecretNames(config)) expect(JSON.parse(fake.secrets.get(name)!).email_user).toBe(fake.keys[0]);
  });

  test("no secret reaches an argument list or a log line", async () => {
    const fake = fakeAws(["acme/test/app"]);
    const lines: string[] = [];
    await rotateSmtpCredentials({ config: withEmail(), userName: USER, aws: fake.aws, log: (l) => lines.push(l) });
    const [id] = fake.keys;
    const secrets = [fake.secretOf.get(id)!, smtpPassword(fake.secretOf.get(id)!, "us-east-1"), "db-acme/test/app"];
    for (const secret of secrets) {
      for (const call of fake.calls) expect(call.args.join(" ")).not.toContain(secret);
      expect(lines.join("\n")).not.toContain(secret);
    }
    expect(lines.join("\n")).not.toContain(id);
  });

  test("a secret the tenants stack has not written yet stops the run before any key is made", async () => {
    const fake = fakeAws([]);
    await expect(rotateSmtpCredentials({ config: withEmail(), userName: USER, aws: fake.aws, log: () => {} })).rejects.toThrow(
      /acme\/test\/app: holds no JSON document yet; deploy the tenants stack first/,
    );
    expect(fake.keys).toEqual([]);
  });
});

describe("rotationProblem", () => {
  test("an environment without an email section, or mailing through another host, is refused with the fix", () => {
    expect(rotationProblem(testConfig())).toMatch(/no email section/);
    expect(rotationProblem(withEmail({ emailHost: "smtp.gmail.com" }))).toMatch(
      /tenants\.emailHost is smtp\.gmail\.com, not SES \(email-smtp\.us-east-1\.amazonaws\.com\); remove it/,
    );
    expect(rotationProblem(withEmail())).toBeUndefined();
  });
});

describe("sendingStatus", () => {
  test("a sandboxed account is told it needs production access and how to ask", async () => {
    const fake = fakeAws([]);
    const text = (await sendingStatus(withEmail(), fake.aws)).join("\n");
    expect(text).toMatch(/still in the sandbox; mail reaches only verified addresses \(200 a day\)/);
    expect(text).toMatch(/Production access is needed before launch/);
    expect(text).toContain("aws sesv2 put-account-details --region us-east-1 --production-access-enabled --mail-type TRANSACTIONAL");
    expect(text).toMatch(/Domain example\.org: verified for sending \(DKIM SUCCESS\)/);
  });

  test("a pending request is shown instead of the instructions; production access and an unverified domain are said", async () => {
    const fake = fakeAws([]);
    fake.account = { ProductionAccessEnabled: false, Details: { ReviewDetails: { Status: "PENDING", CaseId: "123" } } };
    expect((await sendingStatus(withEmail(), fake.aws)).join("\n")).toMatch(/Production access request: PENDING \(support case 123\)/);
    fake.account = { ProductionAccessEnabled: true, SendQuota: { Max24HourSend: 50000, MaxSendRate: 14 } };
    fake.identity = { VerifiedForSendingStatus: false, DkimAttributes: { Status: "PENDING" } };
    const text = (await sendingStatus(withEmail(), fake.aws)).join("\n");
    expect(text).toMatch(/production access granted \(up to 50000 messages a day, 14 a second\)/);
    expect(text).toMatch(/not verified yet \(DKIM PENDING\); create the records of the email stack's email_dns_records output/);
  });
});

describe("awsCli", () => {
  test("an input reaches the AWS CLI as a file:// path readable only by its owner, removed afterwards", async () => {
    const bin = mkdtempSync(join(tmpdir(), "fake-aws-"));
    const saved = process.env.PATH;
    try {
      // A stand-in `aws` that reports the file's mode, its content and its path.
      writeFileSync(
        join(bin, "aws"),
        '#!/bin/sh\nfor a; do case "$a" in file://*) f="${a#file://}"; stat -c %a "$f"; cat "$f"; echo; echo "$f";; esac; done\n',
      );
      chmodSync(join(bin, "aws"), 0o755);
      process.env.PATH = `${bin}:${saved}`;
      const run = await awsCli(["secretsmanager", "put-secret-value", "--secret-string", "@input"], '{"k":"v"}');
      const [mode, content, path] = run.stdout.trim().split("\n");
      expect({ code: run.code, mode, content }).toEqual({ code: 0, mode: "600", content: '{"k":"v"}' });
      expect(existsSync(path)).toBe(false);
    } finally {
      process.env.PATH = saved;
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
