/**
 * npm run destroy on the shipped configs: prod is protected and refused with the way out; dev is
 * destroyed in reverse order, keeping the state bucket. --dry-run only; no AWS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { operate, TUNNEL } from "../../scripts/lib/operator/operate";
import { destroyRefusal } from "../../scripts/lib/protection";

let outdir: string;
beforeAll(() => (outdir = mkdtempSync(join(tmpdir(), "destroy-test-"))));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

async function run(argv: string[], extra: Partial<Parameters<typeof operate>[2]> = {}): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await operate("destroy", argv, { write: (t) => lines.push(t), outdir, cwd: outdir, destroyRefusal, ...TUNNEL, ...extra });
  return { code, text: lines.join("\n") };
}

test("prod is refused, even as a dry run, with the deliberate way out", async () => {
  const { code, text } = await run(["prod", "--dry-run"]);
  expect(code).toBe(1);
  expect(text).toContain("refusing to destroy prod");
  expect(text).toContain('set "protect": false in config/prod.json');
  expect(text).not.toContain("terraform -chdir");
});

test("dev is destroyed in reverse order: tenants through the tunnel first, the state bucket kept", async () => {
  const { code, text } = await run(["dev", "--dry-run"]);
  expect(code).toBe(0);
  const order = [...text.matchAll(/-chdir=stacks\/(dev-[a-z]+) init/g)].map((m) => m[1]);
  expect(order).toEqual(["dev-web", "dev-tenants", "dev-observability", "dev-access", "dev-data", "dev-network"]);
  expect(text).toContain("plan -destroy -input=false");
  expect(text.indexOf("aws ec2 start-instances")).toBeLessThan(text.indexOf("aws ssm start-session"));
  expect(text).toContain("dev-state (the state bucket startupwebapp-dev-tfstate) is kept");
});

test("without --yes a destroy goes on only when the environment's name is typed", async () => {
  const { code, text } = await run(["dev"], { ask: async () => "prod" });
  expect(code).toBe(1);
  expect(text).toContain("not destroyed");
});
