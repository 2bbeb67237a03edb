/**
 * Concurrent terraform runs from one process: inits side by side must never share a plugin cache
 * (Terraform documents it as unsafe for concurrent use), and a stop request reaches a running
 * terraform as one SIGINT. Terraform is a shell script standing in for it (TERRAFORM_BINARY).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inParallel, prepareTerraform, terraform, withInitLock } from "../../scripts/lib/terraform";

let root: string;
const saved = { binary: process.env.TERRAFORM_BINARY, cache: process.env.TF_PLUGIN_CACHE_DIR, gogc: process.env.GOGC };

/**
 * A terraform whose `init` fails when another init uses the same plugin cache (the CLI config's
 * plugin_cache_dir or TF_PLUGIN_CACHE_DIR) at the same time: it marks itself in the cache, gives a
 * concurrent init 0.3 s to show up, then counts the marks. `plan` waits for SIGINT.
 */
const FAKE = `#!/bin/sh
cache=$(sed -n 's/^plugin_cache_dir = "\\(.*\\)"$/\\1/p' "$TF_CLI_CONFIG_FILE")
[ -n "$cache" ] || cache="$TF_PLUGIN_CACHE_DIR"
case "$1" in
  gogc)
    echo "GOGC=\${GOGC-unset}"
    ;;
  init)
    [ -n "$cache" ] || exit 0
    mkdir -p "$cache"
    touch "$cache/.busy-$$"
    sleep 0.3
    n=$(ls -a "$cache" | grep -c '^\\.busy-')
    rm -f "$cache/.busy-$$"
    if [ "$n" -ne 1 ]; then echo "concurrent init in the plugin cache $cache" >&2; exit 1; fi
    ;;
  plan)
    trap 'echo "Interrupt received." >&2; exit 1' INT
    touch "$PWD/ready"
    i=0
    while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done
    echo "never interrupted" >&2
    exit 3
    ;;
esac
exit 0
`;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "terraform-test-"));
  const fake = join(root, "terraform");
  writeFileSync(fake, FAKE);
  chmodSync(fake, 0o755);
  process.env.TERRAFORM_BINARY = fake;
});

afterAll(() => {
  for (const [key, value] of [
    ["TERRAFORM_BINARY", saved.binary],
    ["TF_PLUGIN_CACHE_DIR", saved.cache],
    ["GOGC", saved.gogc],
  ] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  rmSync(root, { recursive: true, force: true });
});

function stackDirs(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const dir = join(root, `${prefix}-${i}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  });
}

test("without a mirror, inits side by side take turns on the shared plugin cache", async () => {
  const cache = join(root, "cache");
  const setup = prepareTerraform({}, { mirrors: [], cache });
  expect(readFileSync(setup.cliConfig, "utf8")).toContain("plugin_cache_dir");
  const results = await inParallel(stackDirs("cached", 4), 4, (dir) => terraform(["init"], dir, setup));
  expect(results.map((r) => `${r.code} ${r.stderr.trim()}`)).toEqual(Array(4).fill("0 "));
  expect(existsSync(join(cache, ".infra-init.lock"))).toBe(false);
});

test("with a mirror there is no cache to share, not even one inherited from TF_PLUGIN_CACHE_DIR", async () => {
  const mirror = join(root, "mirror");
  mkdirSync(join(mirror, "registry.terraform.io", "hashicorp", "aws"), { recursive: true });
  process.env.TF_PLUGIN_CACHE_DIR = join(root, "inherited-cache");
  const setup = prepareTerraform({ TF_PLUGIN_MIRROR: mirror });
  expect(setup.pluginCache).toBeUndefined();
  expect(readFileSync(setup.cliConfig, "utf8")).not.toContain("plugin_cache_dir");
  const results = await inParallel(stackDirs("mirrored", 4), 4, (dir) => terraform(["init"], dir, setup));
  expect(results.map((r) => `${r.code} ${r.stderr.trim()}`)).toEqual(Array(4).fill("0 "));
});

test("terraform and its providers collect garbage half as often (GOGC=200), unless the caller set GOGC", async () => {
  const setup = prepareTerraform({}, { mirrors: [], cache: join(root, "gogc-cache") });
  const [dir] = stackDirs("gogc", 1);
  delete process.env.GOGC;
  expect((await terraform(["gogc"], dir, setup)).stdout.trim()).toBe("GOGC=200");
  process.env.GOGC = "off";
  expect((await terraform(["gogc"], dir, setup)).stdout.trim()).toBe("GOGC=off");
});

test("a lock left by a process that no longer runs is taken over", async () => {
  const cache = join(root, "stale");
  mkdirSync(cache, { recursive: true });
  const gone = spawnSync("true").pid;
  writeFileSync(join(cache, ".infra-init.lock"), String(gone));
  expect(await withInitLock(cache, async () => "ran")).toBe("ran");
  expect(existsSync(join(cache, ".infra-init.lock"))).toBe(false);
});

test("aborting the stop signal asks a running terraform to stop with one SIGINT", async () => {
  const [dir] = stackDirs("stopped", 1);
  const setup = prepareTerraform({}, { mirrors: [], cache: join(root, "cache2") });
  const stop = new AbortController();
  const run = terraform(["plan"], dir, setup, {}, stop.signal);
  // bounded: the fake marks itself ready within a few ms of starting
  for (let i = 0; i < 100 && !existsSync(join(dir, "ready")); i++) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  const result = await run;
  expect(result.code).toBe(1);
  expect(result.stderr).toContain("Interrupt received.");
  expect(await terraform(["plan"], dir, setup, {}, stop.signal)).toMatchObject({ code: 1, stderr: expect.stringContaining("not started") });
});

/** A terraform whose init counts its runs in `inits`, fails when `fail-init` exists, and fills the data dir as init does. */
const COUNTING_FAKE = `#!/bin/sh
[ "$1" = init ] || exit 0
echo run >> "$PWD/inits"
[ -e "$PWD/fail-init" ] && { echo "init failed" >&2; exit 1; }
mkdir -p "\${TF_DATA_DIR:-$PWD/.terraform}/providers"
[ -e "$PWD/.terraform.lock.hcl" ] || echo '# written by init' > "$PWD/.terraform.lock.hcl"
exit 0
`;

test("an init is run again only when what it depends on changed: lock file, backend, arguments, data dir", async () => {
  const fake = join(root, "counting-terraform");
  writeFileSync(fake, COUNTING_FAKE);
  chmodSync(fake, 0o755);
  const [dir] = stackDirs("init-once", 1);
  const stack = (backendKey: string, resources: Record<string, unknown>): void =>
    writeFileSync(
      join(dir, "cdk.tf.json"),
      JSON.stringify({ terraform: { backend: { s3: { bucket: "b", key: backendKey } } }, resource: resources }),
    );
  const setup = prepareTerraform({}, { mirrors: [], cache: join(root, "cache3") });
  const inits = (): number => (existsSync(join(dir, "inits")) ? readFileSync(join(dir, "inits"), "utf8").split("\n").length - 1 : 0);
  const init = (args = ["init", "-input=false"]) => terraform(args, dir, setup);
  process.env.TERRAFORM_BINARY = fake;
  try {
    stack("dev/data.tfstate", { aws_sqs_queue: { q: {} } });
    expect((await init()).code).toBe(0);
    expect(inits()).toBe(1);
    // the lock file the first init wrote is part of what the next one compares
    expect(existsSync(join(dir, ".terraform.lock.hcl"))).toBe(true);
    expect(await init()).toMatchObject({ code: 0, stdout: expect.stringContaining("already initialized") });
    expect(inits()).toBe(1);
    // resources are not init's business
    stack("dev/data.tfstate", { aws_sqs_queue: { q: {}, r: {} } });
    await init();
    expect(inits()).toBe(1);
    stack("dev/other.tfstate", { aws_sqs_queue: { q: {}, r: {} } });
    await init();
    expect(inits()).toBe(2);
    writeFileSync(join(dir, ".terraform.lock.hcl"), 'provider "registry.terraform.io/hashicorp/aws" {}\n');
    await init();
    expect(inits()).toBe(3);
    await init(["init", "-input=false", "-reconfigure"]);
    expect(inits()).toBe(4);
    // a data dir of its own (the emulator mode's TF_DATA_DIR) starts empty: init runs
    expect((await terraform(["init", "-input=false"], dir, setup, { TF_DATA_DIR: join(dir, "other-data") })).code).toBe(0);
    expect(inits()).toBe(5);
    // a failed init leaves no stamp, so the next one runs again
    writeFileSync(join(dir, "fail-init"), "");
    stack("dev/third.tfstate", {});
    expect((await init()).code).toBe(1);
    rmSync(join(dir, "fail-init"));
    expect((await init()).code).toBe(0);
    expect(inits()).toBe(7);
    await init();
    expect(inits()).toBe(7);
  } finally {
    process.env.TERRAFORM_BINARY = join(root, "terraform");
  }
});
