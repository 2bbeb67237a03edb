/**
 * SES SMTP credentials, made and rotated outside Terraform so their secret never reaches a state file:
 * an access key of the email stack's SMTP user (AWS API through the AWS CLI), turned into the SMTP
 * password with AWS's documented derivation, written into the application secret(s) next to the
 * values already there, then the previous key deleted. Also reads the account's sending status.
 *
 * Nothing here prints a secret: the key's secret and the password live in memory, go to the AWS CLI
 * through a private temp file (never its arguments, which `ps` shows), and are compared or written only.
 */
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { StartupWebAppConfig } from "../../config/schema";
import { EMAIL_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import type { RunResult } from "./terraform";

// ---------------------------------------------------------------- the password

/** The fixed inputs of AWS's SMTP password derivation (SES developer guide, "Obtaining SES SMTP credentials"). */
const SMTP_DERIVATION = { date: "11111111", service: "ses", terminal: "aws4_request", message: "SendRawEmail", version: 0x04 };

/**
 * The SES SMTP password for an IAM secret access key in `region`: an HMAC-SHA256 chain in the shape
 * of a SigV4 signing key (key "AWS4"+secret, then date, region, service, terminal, message), the
 * version byte 0x04 in front, base64. The password works only in that region's SMTP endpoint.
 */
export function smtpPassword(secretAccessKey: string, region: string): string {
  const d = SMTP_DERIVATION;
  let signature: Buffer = Buffer.from(`AWS4${secretAccessKey}`, "utf8");
  for (const part of [d.date, region, d.service, d.terminal, d.message]) {
    signature = createHmac("sha256", signature).update(part, "utf8").digest();
  }
  return Buffer.concat([Buffer.from([d.version]), signature]).toString("base64");
}

/** The SMTP interface of SES in `region`. */
export const sesSmtpHost = (region: string): string => `email-smtp.${region}.amazonaws.com`;

/** STARTTLS on 587: the port the application's settings use (`email_port`). */
export const SES_SMTP_PORT = 587;

// ---------------------------------------------------------------- the AWS CLI

/** Runs `aws <args>`; `input` is written to a private temp file whose `file://` path replaces `@input` in args. */
export type AwsCli = (args: readonly string[], input?: string) => Promise<RunResult>;

/**
 * The real AWS CLI, without a pager (as the project's other AWS CLI steps run it). `detached` starts
 * each call in a process group of its own, so the terminal's Ctrl-C reaches only this process and a
 * call in flight finishes (a run-task that has just created a task then says what to stop).
 */
export function realAwsCli(options: { readonly detached?: boolean } = {}): AwsCli {
  return async (args, input) => {
    const dir = input === undefined ? undefined : mkdtempSync(join(tmpdir(), "aws-cli-"));
    try {
      let argv = [...args];
      if (dir !== undefined) {
        const file = join(dir, "input.json");
        writeFileSync(file, input!, { mode: 0o600 });
        argv = argv.map((a) => (a === "@input" ? `file://${file}` : a));
      }
      return await new Promise<RunResult>((resolve) => {
        const child = spawn("aws", argv, {
          detached: options.detached ?? false,
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...process.env, AWS_PAGER: "" },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("error", (err) => resolve({ code: 127, stdout, stderr: `${stderr}could not run aws: ${err.message}` }));
        child.once("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
      });
    } finally {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  };
}

export const awsCli: AwsCli = realAwsCli();

/** An AWS CLI call that failed, with the command (never its input) and AWS's message. */
export class AwsCliError extends Error {
  constructor(args: readonly string[], result: RunResult) {
    super(
      `aws ${args.slice(0, 2).join(" ")} failed (exit ${result.code}): ${(result.stderr || result.stdout).trim().split("\n").slice(-3).join(" ")}`,
    );
    this.name = "AwsCliError";
  }
}

/** `aws <args> --output json`, parsed; throws AwsCliError when the call fails. */
export async function awsJson<T>(aws: AwsCli, args: readonly string[], input?: string): Promise<T> {
  const result = await aws([...args, "--output", "json"], input);
  if (result.code !== 0) throw new AwsCliError(args, result);
  return (result.stdout.trim() ? JSON.parse(result.stdout) : {}) as T;
}

// ---------------------------------------------------------------- rotation

/** The secrets the tenants stack writes: the application secret, or one per database with per-database isolation. */
export function applicationSecretNames(config: StartupWebAppConfig): string[] {
  const { secretName, isolation, databases } = config.tenants;
  return isolation === "shared" ? [secretName] : databases.map((db) => `${secretName}/${db}`);
}

/** Why `config` cannot get SES SMTP credentials, or undefined when it can. */
export function rotationProblem(config: StartupWebAppConfig): string | undefined {
  if (config.email === undefined) {
    return `${config.environment}: no email section in its config, so there is no SES identity or SMTP user; add one (README, Email) and deploy the email stack first`;
  }
  const host = sesSmtpHost(config.region);
  if (config.tenants.emailHost !== host) {
    return `${config.environment}: tenants.emailHost is ${config.tenants.emailHost}, not SES (${host}); remove it (SES is the default) or set it to ${host}, so a later publish of operator values keeps these credentials' host`;
  }
  return undefined;
}

export interface RotateOptions {
  readonly config: StartupWebAppConfig;
  /** The IAM user (the email stack's `EMAIL_OUTPUTS.smtpUser` output). */
  readonly userName: string;
  readonly aws: AwsCli;
  readonly log: (line: string) => void;
}

export interface RotateResult {
  /** The new key's id, shortened for people (`...ABCD`): the SMTP user name is the full id. */
  readonly keyHint: string;
  readonly secrets: readonly string[];
  readonly deletedKeys: number;
}

interface AccessKeyMetadata {
  readonly AccessKeyId: string;
  readonly Status: string;
}

/** `...WXYZ`: enough to tell keys apart in a console, not the whole id. */
export const keyHint = (id: string): string => `...${id.slice(-4)}`;

/**
 * Creates a new access key for the SMTP user, writes host, port, user and the derived password into
 * every application secret (changing only those keys), then deletes the previous keys. A key the
 * secrets do not use (left by an interrupted run) is deleted first: IAM allows two keys per user.
 */
export async function rotateSmtpCredentials(opts: RotateOptions): Promise<RotateResult> {
  const { config, userName, aws, log } = opts;
  const problem = rotationProblem(config);
  if (problem) throw new Error(problem);
  const region = config.region;
  const secrets = applicationSecretNames(config);

  log(`reading ${secrets.length === 1 ? "the application secret" : `${secrets.length} application secrets`} ...`);
  const documents = new Map<string, Record<string, unknown>>();
  for (const name of secrets) documents.set(name, await readSecret(aws, region, name));
  const inUse = new Set([...documents.values()].map((d) => d.email_user).filter((u): u is string => typeof u === "string"));

  const listed = await awsJson<{ AccessKeyMetadata: AccessKeyMetadata[] }>(aws, ["iam", "list-access-keys", "--user-name", userName]);
  const existing = listed.AccessKeyMetadata.map((k) => k.AccessKeyId);
  let deleted = 0;
  for (const id of existing.filter((k) => !inUse.has(k))) {
    log(`deleting unused key ${keyHint(id)} of ${userName} (IAM allows two per user) ...`);
    await deleteKey(aws, userName, id);
    deleted++;
  }

  log(`creating a new access key for ${userName} ...`);
  const created = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(aws, [
    "iam",
    "create-access-key",
    "--user-name",
    userName,
  ]);
  const { AccessKeyId: id, SecretAccessKey: secret } = created.AccessKey;
  const smtp = { email_host: sesSmtpHost(region), email_port: SES_SMTP_PORT, email_user: id, email_password: smtpPassword(secret, region) };

  for (const [name, document] of documents) {
    log(`writing email_host, email_port, email_user, email_password into ${name} (every other key kept) ...`);
    await awsJson(
      aws,
      ["secretsmanager", "put-secret-value", "--region", region, "--secret-id", name, "--secret-string", "@input"],
      JSON.stringify({ ...document, ...smtp }),
    );
  }

  for (const old of existing.filter((k) => inUse.has(k))) {
    log(`deleting the previous key ${keyHint(old)} ...`);
    await deleteKey(aws, userName, old);
    deleted++;
  }
  return { keyHint: keyHint(id), secrets, deletedKeys: deleted };
}

async function readSecret(aws: AwsCli, region: string, name: string): Promise<Record<string, unknown>> {
  const value = await awsJson<{ SecretString?: string }>(aws, [
    "secretsmanager",
    "get-secret-value",
    "--region",
    region,
    "--secret-id",
    name,
  ]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.SecretString ?? "");
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${name}: holds no JSON document yet; deploy the tenants stack first, it writes the secret`);
  }
  return parsed as Record<string, unknown>;
}

async function deleteKey(aws: AwsCli, userName: string, id: string): Promise<void> {
  await awsJson(aws, ["iam", "delete-access-key", "--user-name", userName, "--access-key-id", id]);
}

// ---------------------------------------------------------------- sending status

interface Account {
  readonly ProductionAccessEnabled?: boolean;
  readonly SendingEnabled?: boolean;
  readonly EnforcementStatus?: string;
  readonly SendQuota?: { readonly Max24HourSend?: number; readonly MaxSendRate?: number; readonly SentLast24Hours?: number };
  readonly Details?: { readonly ReviewDetails?: { readonly Status?: string; readonly CaseId?: string } };
}

interface Identity {
  readonly VerifiedForSendingStatus?: boolean;
  readonly DkimAttributes?: { readonly Status?: string };
}

/** What an operator needs to know about sending from this account and domain, as lines to print. */
export async function sendingStatus(config: StartupWebAppConfig, aws: AwsCli): Promise<string[]> {
  const region = config.region;
  const account = await awsJson<Account>(aws, ["sesv2", "get-account", "--region", region]);
  const lines: string[] = [];
  const quota = account.SendQuota ?? {};
  if (account.ProductionAccessEnabled) {
    lines.push(
      `SES account in ${region}: production access granted (up to ${quota.Max24HourSend ?? "?"} messages a day, ${quota.MaxSendRate ?? "?"} a second).`,
    );
  } else {
    const review = account.Details?.ReviewDetails;
    lines.push(
      `SES account in ${region}: still in the sandbox; mail reaches only verified addresses (${quota.Max24HourSend ?? 200} a day).`,
      review?.Status
        ? `  Production access request: ${review.Status}${review.CaseId ? ` (support case ${review.CaseId})` : ""}.`
        : "  Production access is needed before launch. Ask for it (AWS answers within about a day):",
      ...(review?.Status
        ? []
        : [
            `    aws sesv2 put-account-details --region ${region} --production-access-enabled --mail-type TRANSACTIONAL \\`,
            `      --website-url https://<your site> --contact-language EN \\`,
            `      --use-case-description "<what you send, to whom, how addresses are collected, how bounces and complaints are handled>"`,
            "    or in the console: SES, Account dashboard, Request production access.",
          ]),
    );
  }
  if (account.SendingEnabled === false)
    lines.push(`  Sending is PAUSED for the account (enforcement status ${account.EnforcementStatus ?? "unknown"}).`);
  const domain = config.email?.domain;
  if (domain) {
    const identity = await awsJson<Identity>(aws, ["sesv2", "get-email-identity", "--region", region, "--email-identity", domain]);
    lines.push(
      identity.VerifiedForSendingStatus
        ? `Domain ${domain}: verified for sending (DKIM ${identity.DkimAttributes?.Status ?? "unknown"}).`
        : `Domain ${domain}: not verified yet (DKIM ${identity.DkimAttributes?.Status ?? "unknown"}); create the records of the email stack's ${EMAIL_OUTPUTS.dnsRecords} output, then wait for SES (up to 72 hours).`,
    );
  }
  return lines;
}
