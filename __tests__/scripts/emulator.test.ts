/**
 * Emulator mode (INFRA_AWS_ENDPOINT): the synthesized JSON is what AWS gets, byte for byte; the
 * override files beside it point every stack's provider, backend and remote states at the endpoint.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyEmulatorMode,
  emulatorBanner,
  emulatorMode,
  emulatorOverride,
  emulatorTerraformEnv,
  enterEmulatorMode,
  OVERRIDE_FILE,
} from "../../scripts/lib/emulator";
import { synthesize, type SynthesizedStack } from "../../scripts/lib/synth";
import { prepareTerraform } from "../../scripts/lib/terraform";
import { validateStack } from "../../scripts/lib/validate";
import type { Json } from "../helpers";

const ENDPOINT = "https://127.0.0.1:4566";
let root: string;
let plain: SynthesizedStack[];
let emulated: SynthesizedStack[];
let caBundle: string;
let stateDir: string;

/** Runs `fn` with these variables set, then puts process.env back exactly as it was. */
function withEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = { ...process.env };
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

const read = (dir: string, file: string): Json => JSON.parse(readFileSync(join(dir, file), "utf8")) as Json;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "emulator-test-"));
  caBundle = join(root, "ca.pem");
  writeFileSync(caBundle, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
  stateDir = join(root, "emulator-state");
  plain = synthesize(join(root, "plain"));
  emulated = withEnv({ INFRA_AWS_ENDPOINT: ENDPOINT, INFRA_AWS_CA_BUNDLE: caBundle, INFRA_EMULATOR_STATE_DIR: stateDir }, () =>
    synthesize(join(root, "emulated")),
  );
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

test("cdk.tf.json is byte-identical with and without the emulator mode, for every shipped stack", () => {
  expect(emulated.map((s) => s.name)).toEqual(plain.map((s) => s.name));
  for (const [i, stack] of plain.entries()) {
    expect(readFileSync(join(emulated[i].dir, "cdk.tf.json"))).toEqual(readFileSync(join(stack.dir, "cdk.tf.json")));
  }
});

test("only the emulator mode writes override files, one per stack", () => {
  for (const stack of plain) expect(readdirSync(stack.dir).filter((f) => f.endsWith("override.tf.json"))).toEqual([]);
  for (const stack of emulated) expect(existsSync(join(stack.dir, OVERRIDE_FILE))).toBe(true);
});

test("every AWS provider configuration gets placeholder keys, the skip flags and the CA, and no endpoints block", () => {
  for (const stack of emulated) {
    const document = read(stack.dir, "cdk.tf.json");
    const override = read(stack.dir, OVERRIDE_FILE);
    const providers = override.provider.aws as Json[];
    expect(providers).toHaveLength(document.provider.aws.length);
    for (const provider of providers) {
      expect(provider).toMatchObject({
        access_key: "test",
        secret_key: "test",
        skip_credentials_validation: true,
        skip_metadata_api_check: true,
        s3_use_path_style: true,
        custom_ca_bundle: caBundle,
      });
      // the endpoint comes from AWS_ENDPOINT_URL (the next tests): an endpoints block costs seconds of CPU per command
      expect(provider.endpoints).toBeUndefined();
      // region and default tags come from cdk.tf.json: the override must not repeat or drop them
      expect(provider.region).toBeUndefined();
      expect(provider.default_tags).toBeUndefined();
    }
  }
});

test("every S3 backend keeps its bucket, key and lockfile and gains the endpoint; the state stack's local state moves out of the repository", () => {
  for (const stack of emulated) {
    const backend = read(stack.dir, "cdk.tf.json").terraform.backend;
    const override = read(stack.dir, OVERRIDE_FILE).terraform.backend;
    if (backend.s3) {
      // a backend block in an override replaces the original whole, so every original argument is repeated
      expect(override.s3).toMatchObject(backend.s3);
      expect(override.s3).toMatchObject({ endpoints: { s3: ENDPOINT }, use_path_style: true, skip_credentials_validation: true });
    } else {
      expect(override.local.path).toBe(join(stateDir, `terraform.${stack.name}.tfstate`));
      expect(backend.local.path).not.toBe(override.local.path);
    }
  }
});

test("every terraform_remote_state reads its state from the emulator's S3", () => {
  let seen = 0;
  for (const stack of emulated) {
    const remote = (read(stack.dir, "cdk.tf.json").data?.terraform_remote_state ?? {}) as Record<string, Json>;
    const override = read(stack.dir, OVERRIDE_FILE).data?.terraform_remote_state ?? {};
    expect(Object.keys(override).sort()).toEqual(Object.keys(remote).sort());
    for (const [name, state] of Object.entries(remote)) {
      expect(override[name].config).toMatchObject({ ...state.config, endpoints: { s3: ENDPOINT }, use_path_style: true });
      seen++;
    }
  }
  expect(seen).toBeGreaterThan(10);
});

test("aliased providers each get their own override", () => {
  const mode = { endpoint: ENDPOINT, stateDir };
  const override = emulatorOverride({ provider: { aws: [{ region: "eu-west-1" }, { region: "us-east-1", alias: "global" }] } }, "x", mode);
  expect((override.provider as Json).aws.map((p: Json) => p.alias)).toEqual([undefined, "global"]);
});

test("the mode refuses what is not an emulator endpoint and says which variable is wrong", () => {
  expect(emulatorMode({})).toBeUndefined();
  expect(() => emulatorMode({ INFRA_AWS_ENDPOINT: "not a url" })).toThrow(/^INFRA_AWS_ENDPOINT: must be a URL/);
  expect(() => emulatorMode({ INFRA_AWS_ENDPOINT: "https://s3.us-east-1.amazonaws.com" })).toThrow(/AWS itself/);
  expect(() => emulatorMode({ INFRA_AWS_ENDPOINT: ENDPOINT, INFRA_AWS_CA_BUNDLE: join(root, "missing.pem") })).toThrow(
    /^INFRA_AWS_CA_BUNDLE: no such file/,
  );
  const mode = emulatorMode({ INFRA_AWS_ENDPOINT: `${ENDPOINT}/`, INFRA_EMULATOR_STATE_DIR: stateDir });
  expect(mode).toEqual({ endpoint: ENDPOINT, stateDir });
  expect(emulatorBanner(mode!)).toBe(`EMULATOR: every AWS call goes to ${ENDPOINT} (not AWS)`);
});

test("terraform runs in the mode get the endpoint, placeholder keys, no profile and a data dir apart from AWS's", () => {
  const env = emulatorTerraformEnv("/x/cdktf.out/stacks/dev-data", {
    INFRA_AWS_ENDPOINT: ENDPOINT,
    INFRA_AWS_CA_BUNDLE: caBundle,
    INFRA_EMULATOR_STATE_DIR: stateDir,
  });
  expect(env).toMatchObject({
    AWS_ENDPOINT_URL: ENDPOINT,
    AWS_CA_BUNDLE: caBundle,
    AWS_ACCESS_KEY_ID: "test",
    TF_DATA_DIR: join(stateDir, "tf-data", "dev-data"),
  });
  expect("AWS_PROFILE" in env && env.AWS_PROFILE === undefined).toBe(true);
  expect(emulatorTerraformEnv("/x", {})).toEqual({});
});

test("leaving the mode removes override files a previous emulator run left, so a real deploy never follows them", () => {
  const dir = mkdtempSync(join(root, "stale-"));
  writeFileSync(join(dir, "cdk.tf.json"), "{}");
  writeFileSync(join(dir, OVERRIDE_FILE), "{}");
  expect(applyEmulatorMode([dir], {})).toBeUndefined();
  expect(existsSync(join(dir, OVERRIDE_FILE))).toBe(false);
  expect(existsSync(join(dir, "cdk.tf.json"))).toBe(true);
});

test("terraform validate accepts stacks with their override merged in (offline, from the mirror)", async () => {
  const setup = prepareTerraform();
  for (const name of ["dev-access", "safebucket-dev-services", "dev-state"]) {
    const stack = emulated.find((s) => s.name === name)!;
    const result = await validateStack(stack, setup);
    expect({ name, valid: result.valid, diagnostics: result.diagnostics }).toEqual({ name, valid: true, diagnostics: [] });
  }
}, 300_000);

test("a command that calls AWS without synthesizing enters the mode through enterEmulatorMode, and only in the mode", () => {
  const env: NodeJS.ProcessEnv = { INFRA_AWS_ENDPOINT: ENDPOINT, INFRA_EMULATOR_STATE_DIR: stateDir, AWS_PROFILE: "prod-admin" };
  expect(enterEmulatorMode(env)).toBe(`EMULATOR: every AWS call goes to ${ENDPOINT} (not AWS)`);
  expect(env).toMatchObject({ AWS_ENDPOINT_URL: ENDPOINT, AWS_ACCESS_KEY_ID: "test" });
  expect("AWS_PROFILE" in env).toBe(false);
  const outside: NodeJS.ProcessEnv = { AWS_PROFILE: "prod-admin" };
  expect(enterEmulatorMode(outside)).toBeUndefined();
  expect(outside).toEqual({ AWS_PROFILE: "prod-admin" });
});

test("ses:credentials --status in the mode sends its AWS CLI calls to the emulator, not to AWS", () => {
  const bin = mkdtempSync(join(root, "bin-"));
  const calls = join(bin, "calls.log");
  // A stand-in `aws` that records where each call would go and answers with an empty document.
  writeFileSync(join(bin, "aws"), `#!/bin/sh\necho "$AWS_ENDPOINT_URL $1 $2" >> "${calls}"\necho '{}'\n`, { mode: 0o755 });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    INFRA_AWS_ENDPOINT: ENDPOINT,
    INFRA_EMULATOR_STATE_DIR: stateDir,
  };
  delete env.AWS_ENDPOINT_URL;
  const run = spawnSync(
    process.execPath,
    ["--import", "tsx", join(__dirname, "..", "..", "scripts", "ses-credentials.ts"), "prod", "--status"],
    {
      env,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  expect(run.stderr).toContain(`EMULATOR: every AWS call goes to ${ENDPOINT} (not AWS)`);
  const lines = readFileSync(calls, "utf8").trim().split("\n");
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line.startsWith(`${ENDPOINT} `)).toBe(true);
});
