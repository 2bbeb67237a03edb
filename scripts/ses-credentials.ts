/**
 * npm run ses:credentials -- <env> [--status]
 *
 * Creates (or rotates) the SES SMTP credentials of a StartupWebApp environment: a new access key of
 * the email stack's SMTP user, the SMTP password derived from it, both written with the SES host and
 * port 587 into the application secret (only those four keys change), then the previous key deleted.
 * Then reports whether the account still needs production access, and how to ask for it.
 * `--status` only reports. Prints no secret. Needs the AWS CLI and credentials allowed to manage the
 * user's keys and write the secret.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFiles, loadConfigs } from "../config/load";
import type { StartupWebAppConfig } from "../config/schema";
import { EMAIL_OUTPUTS } from "../stacks/startupwebapp/outputs";
import { enterEmulatorMode } from "./lib/emulator";
import { readOutputs } from "./lib/outputs";
import { awsCli, AwsCliError, rotateSmtpCredentials, rotationProblem, sendingStatus } from "./lib/ses-credentials";
import { synthesize } from "./lib/synth";
import { prepareTerraform } from "./lib/terraform";

const USAGE = "usage: npm run ses:credentials -- <env> [--status]";

async function main(argv: readonly string[]): Promise<number> {
  const statusOnly = argv.includes("--status");
  const positional = argv.filter((a) => a !== "--status");
  const configs = loadConfigs(configFiles());
  const environments = configs.map((c) => c.environment);
  if (positional.length !== 1 || positional[0].startsWith("-")) {
    process.stderr.write(`${USAGE}\nenvironments: ${environments.join(", ")}\n`);
    return 2;
  }
  const config = configs.find((c) => c.environment === positional[0]);
  if (!config) {
    process.stderr.write(`no environment "${positional[0]}" (have: ${environments.join(", ")})\n${USAGE}\n`);
    return 2;
  }
  if (config.application !== "startupwebapp") {
    process.stderr.write(`${config.environment} is a ${config.application} environment; SES SMTP credentials are StartupWebApp's\n`);
    return 1;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // --status calls the AWS CLI without synthesizing: the mode must reach it all the same.
  const banner = enterEmulatorMode();
  if (banner) log(banner);
  const problem = rotationProblem(config);
  if (problem) {
    log(problem);
    return 1;
  }

  if (!statusOnly) {
    const userName = await smtpUserName(config, log);
    const result = await rotateSmtpCredentials({ config, userName, aws: awsCli, log });
    log(
      `SMTP credentials of ${userName} are in ${result.secrets.join(", ")} (key ${result.keyHint}; ${result.deletedKeys} previous key(s) deleted).`,
    );
    log("The application reads its secret when it starts: restart it so it sends with the new credentials.");
  }
  for (const line of await sendingStatus(config, awsCli)) process.stdout.write(`${line}\n`);
  return 0;
}

/** The email stack's SMTP user, from its deployed outputs. */
async function smtpUserName(config: StartupWebAppConfig, log: (line: string) => void): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), "infra-ses-"));
  try {
    const stack = synthesize(outdir, [config]).find((s) => s.name === `${config.environment}-email`);
    if (!stack) throw new Error(`${config.environment}-email was not synthesized`);
    log(`reading the outputs of ${stack.name} ...`);
    const outputs = await readOutputs(stack, prepareTerraform());
    const user = outputs[EMAIL_OUTPUTS.smtpUser];
    if (typeof user !== "string")
      throw new Error(`${stack.name}: no ${EMAIL_OUTPUTS.smtpUser} output; deploy it: npm run deploy -- ${config.environment} email`);
    return user;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    const known = err instanceof ConfigError || err instanceof AwsCliError || process.env.DEBUG === undefined;
    process.stderr.write(`${known ? err.message : (err.stack ?? err.message)}\n`);
    process.exit(1);
  },
);
