/**
 * Emulator mode: with `INFRA_AWS_ENDPOINT` set, every stack talks to an AWS-compatible endpoint
 * (moto in `npm run e2e`, LocalStack by hand) instead of AWS.
 *
 * The synthesized `cdk.tf.json` stays exactly what AWS gets. Next to it we write
 * `emulator_override.tf.json`, a Terraform override file (the mechanism tflocal uses for LocalStack):
 * Terraform merges it over the stack, so the AWS provider, the S3 backend and every
 * `terraform_remote_state` point at the endpoint. Outside the mode synthesize() removes any such file
 * left behind, so a real deploy can never follow a stale redirect.
 *
 * The provider's override holds placeholder keys, the skip flags and the CA, not an `endpoints` block:
 * the provider finds the endpoint in AWS_ENDPOINT_URL, which the mode sets for every terraform run
 * (emulatorTerraformEnv), the SDK's own variable, read for every service. An `endpoints` block, even
 * with one entry, costs the provider about 3.4 CPU seconds per configuration in every plan and apply
 * (measured: a one-resource plan takes 4.3 CPU s without it, 7.8 with it); on moto that was nearly
 * half of each plan's CPU.
 *
 * Override merging (Terraform docs, "Override Files"): in a provider block each argument of the
 * override replaces the original's, so region and default_tags stay; a backend block in an override
 * replaces the whole backend block, so it repeats every argument; `config` of a data source is one
 * argument, so it is given whole.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";

export const OVERRIDE_FILE = "emulator_override.tf.json";

/** Placeholder keys: both moto and LocalStack accept any, and real credentials must never reach an emulator. */
const PLACEHOLDER_KEY = "test";

export interface EmulatorMode {
  /** The endpoint every AWS call goes to, e.g. https://127.0.0.1:4566. */
  readonly endpoint: string;
  /** PEM bundle that signs the endpoint's certificate, when it is not publicly trusted. */
  readonly caBundle?: string;
  /** Where the state stack's local backend writes, so a real `terraform.<env>-state.tfstate` is never touched. */
  readonly stateDir: string;
}

const REPO_ROOT = join(__dirname, "..", "..");

/**
 * The mode from the environment, or undefined when `INFRA_AWS_ENDPOINT` is not set.
 * `INFRA_AWS_CA_BUNDLE` (else `AWS_CA_BUNDLE`) names the CA; `INFRA_EMULATOR_STATE_DIR` the local
 * state folder (default `.emulator/<host>-<port>/` in the repository, gitignored).
 */
export function emulatorMode(env: NodeJS.ProcessEnv = process.env): EmulatorMode | undefined {
  const raw = env.INFRA_AWS_ENDPOINT;
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`INFRA_AWS_ENDPOINT: must be a URL such as https://127.0.0.1:4566 (got ${raw})`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`INFRA_AWS_ENDPOINT: must be an http(s) URL (got ${raw})`);
  }
  if (/(^|\.)amazonaws\.com(\.cn)?$/i.test(url.hostname)) {
    throw new Error(`INFRA_AWS_ENDPOINT: ${url.hostname} is AWS itself; the emulator mode is for AWS-compatible emulators only`);
  }
  const caBundle = env.INFRA_AWS_CA_BUNDLE ?? env.AWS_CA_BUNDLE;
  if (caBundle && !existsSync(caBundle)) throw new Error(`INFRA_AWS_CA_BUNDLE: no such file ${caBundle}`);
  const endpoint = url.origin;
  const stateDir = resolve(env.INFRA_EMULATOR_STATE_DIR ?? join(REPO_ROOT, ".emulator", url.host.replace(/[^\w.-]/g, "-")));
  return { endpoint, ...(caBundle ? { caBundle: resolve(caBundle) } : {}), stateDir };
}

/** The line every command prints in the mode, so nobody mistakes an emulator run for AWS. */
export function emulatorBanner(mode: EmulatorMode): string {
  return `EMULATOR: every AWS call goes to ${mode.endpoint} (not AWS)`;
}

/**
 * Environment for every child process in the mode (terraform, the AWS CLI, boto3): the SDKs'
 * standard variables for the endpoint and its CA, placeholder credentials, no profile, no IMDS.
 * Terraform's AWS provider takes the endpoint for every service from AWS_ENDPOINT_URL, and trusts a
 * private CA reliably only through AWS_CA_BUNDLE.
 */
export function emulatorEnv(mode: EmulatorMode): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL: mode.endpoint,
    AWS_ACCESS_KEY_ID: PLACEHOLDER_KEY,
    AWS_SECRET_ACCESS_KEY: PLACEHOLDER_KEY,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_EC2_METADATA_DISABLED: "true",
    ...(mode.caBundle ? { AWS_CA_BUNDLE: mode.caBundle } : {}),
  };
}

interface StackDocument {
  provider?: Record<string, Record<string, unknown>[]>;
  terraform?: { backend?: Record<string, Record<string, unknown>> };
  data?: Record<string, Record<string, { backend?: string; config?: Record<string, unknown> }>>;
}

/** What the S3 backend and terraform_remote_state need to reach the endpoint's S3 (state only). */
function s3ClientSettings(mode: EmulatorMode): Record<string, unknown> {
  return {
    endpoints: { s3: mode.endpoint, sts: mode.endpoint, iam: mode.endpoint },
    use_path_style: true,
    skip_credentials_validation: true,
    skip_requesting_account_id: true,
    skip_metadata_api_check: true,
    skip_region_validation: true,
    access_key: PLACEHOLDER_KEY,
    secret_key: PLACEHOLDER_KEY,
    ...(mode.caBundle ? { custom_ca_bundle: mode.caBundle } : {}),
  };
}

/** The override document for one synthesized stack (`cdk.tf.json` parsed), named `stackName`. */
export function emulatorOverride(document: StackDocument, stackName: string, mode: EmulatorMode): Record<string, unknown> {
  const override: Record<string, unknown> = {};
  const awsProviders = document.provider?.aws ?? [];
  if (awsProviders.length > 0) {
    override.provider = {
      // One override per configuration (default and aliases); Terraform matches them by alias.
      aws: awsProviders.map((p) => ({
        ...(p.alias ? { alias: p.alias } : {}),
        access_key: PLACEHOLDER_KEY,
        secret_key: PLACEHOLDER_KEY,
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        skip_region_validation: true,
        s3_use_path_style: true,
        ...(mode.caBundle ? { custom_ca_bundle: mode.caBundle } : {}),
      })),
    };
  }
  const backend = document.terraform?.backend;
  if (backend?.s3) {
    override.terraform = { backend: { s3: { ...backend.s3, ...s3ClientSettings(mode) } } };
  } else if (backend?.local) {
    override.terraform = { backend: { local: { path: join(mode.stateDir, `terraform.${stackName}.tfstate`) } } };
  }
  const remoteStates = document.data?.terraform_remote_state ?? {};
  const redirected = Object.entries(remoteStates).filter(([, r]) => r.backend === "s3");
  if (redirected.length > 0) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        redirected.map(([name, r]) => [name, { config: { ...r.config, ...s3ClientSettings(mode) } }]),
      ),
    };
  }
  return override;
}

/**
 * In the mode: writes each stack's override, exports emulatorEnv into `env` and returns the banner. Outside it: removes overrides a
 * previous emulator run left in these folders and returns undefined.
 */
export function applyEmulatorMode(stackDirs: readonly string[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const mode = emulatorMode(env);
  for (const dir of stackDirs) {
    const file = join(dir, OVERRIDE_FILE);
    if (!mode) {
      rmSync(file, { force: true });
      continue;
    }
    const document = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8")) as StackDocument;
    writeFileSync(file, `${JSON.stringify(emulatorOverride(document, basename(dir), mode), null, 2)}\n`);
  }
  if (!mode) return undefined;
  exportEmulatorEnv(mode, env);
  return emulatorBanner(mode);
}

/**
 * For a command that calls AWS without synthesizing first (so applyEmulatorMode never runs): in the
 * mode, exports emulatorEnv into `env` and returns the banner; outside it, undefined.
 */
export function enterEmulatorMode(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const mode = emulatorMode(env);
  if (!mode) return undefined;
  exportEmulatorEnv(mode, env);
  return emulatorBanner(mode);
}

/** Puts emulatorEnv into `env` (process.env): the AWS CLI steps of a deploy then reach the endpoint too. */
export function exportEmulatorEnv(mode: EmulatorMode, env: NodeJS.ProcessEnv = process.env): void {
  for (const [key, value] of Object.entries(emulatorEnv(mode))) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
}

/**
 * Extra environment for a terraform run in `cwd` (a stack folder): in the mode, the SDK variables
 * and a data dir of its own under the state folder, so `.terraform/` initialised against the
 * emulator never meets one initialised against AWS (init would refuse the changed backend).
 */
export function emulatorTerraformEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  const mode = emulatorMode(env);
  if (!mode) return {};
  return { ...emulatorEnv(mode), TF_DATA_DIR: join(mode.stateDir, "tf-data", basename(cwd)) };
}
