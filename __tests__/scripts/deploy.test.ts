/**
 * npm run deploy, end to end as far as a machine without AWS can go: the shipped prod config is
 * synthesized and --dry-run prints the commands a real run would execute, in order.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingTools, operate, TUNNEL } from "../../scripts/deploy";

let outdir: string;
beforeAll(() => (outdir = mkdtempSync(join(tmpdir(), "deploy-test-"))));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

async function run(argv: string[], extra: Partial<Parameters<typeof operate>[2]> = {}): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await operate("deploy", argv, { write: (t) => lines.push(t), outdir, cwd: outdir, ...TUNNEL, ...extra });
  return { code, text: lines.join("\n") };
}

test("--dry-run prints every stack of prod in deploy order, tenants inside the tunnel", async () => {
  const { code, text } = await run(["prod", "--dry-run"]);
  expect(code).toBe(0);
  const order = [...text.matchAll(/-chdir=stacks\/(prod-[a-z]+) init/g)].map((m) => m[1]);
  expect(order).toEqual(["prod-state", "prod-network", "prod-data", "prod-access", "prod-observability", "prod-tenants"]);
  const tunnel = text.indexOf("aws ssm start-session --region us-east-1 --target <prod-access.bastion_instance_id>");
  expect(tunnel).toBeGreaterThan(text.indexOf("stacks/prod-observability apply"));
  expect(tunnel).toBeLessThan(text.indexOf("stacks/prod-tenants init"));
  expect(text.indexOf("close the tunnel")).toBeGreaterThan(text.indexOf("stacks/prod-tenants apply"));
});

test("--dry-run names the Stripe and SMTP variables to export, from the synthesized tenants stack", async () => {
  const { text } = await run(["prod", "--dry-run"]);
  expect(text).toContain("export TF_VAR_stripe_secret_key=...");
  expect(text).toContain("export TF_VAR_email_password=...");
});

test("an unknown environment is named with the ones that exist", async () => {
  const { code, text } = await run(["staging", "--dry-run"]);
  expect(code).toBe(1);
  expect(text).toMatch(/no environment "staging" \(have: .*prod/);
});

test("a real run stops before running anything when a tool is missing", async () => {
  const { code, text } = await run(["prod"], { findExecutable: () => undefined });
  expect(code).toBe(1);
  expect(text).toContain("session-manager-plugin: not found on PATH");
  expect(text).not.toContain("[1/6]");
});

test("only the tools a plan needs are required", () => {
  const find = (name: string) => (name === "terraform" ? "/usr/bin/terraform" : undefined);
  expect(missingTools({ steps: [{ kind: "stack" }] }, find)).toEqual([]);
  expect(missingTools({ steps: [{ kind: "stack" }, { kind: "open-tunnel" }] }, find).map((m) => m.split(":")[0])).toEqual([
    "aws",
    "session-manager-plugin",
  ]);
});
