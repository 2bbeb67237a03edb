/** The app as a user runs it: `node --import tsx main.ts`, as cdktf.json says. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MINIMAL_DOCUMENT } from "./helpers";

const ROOT = join(__dirname, "..");

function runApp(configPath: string) {
  const outdir = join(mkdtempSync(join(tmpdir(), "main-test-")), "out");
  const run = spawnSync(process.execPath, ["--import", "tsx", "main.ts"], {
    cwd: ROOT,
    env: { ...process.env, INFRA_CONFIG: configPath, CDKTF_OUTDIR: outdir },
    encoding: "utf8",
  });
  return { ...run, outdir };
}

test("INFRA_CONFIG=qa.json synthesizes exactly the six qa stacks", () => {
  const path = join(mkdtempSync(join(tmpdir(), "qa-")), "qa.json");
  writeFileSync(path, JSON.stringify(MINIMAL_DOCUMENT));
  const run = runApp(path);
  expect(run.status).toBe(0);
  expect(readdirSync(join(run.outdir, "stacks")).sort()).toEqual([
    "qa-access",
    "qa-data",
    "qa-network",
    "qa-observability",
    "qa-state",
    "qa-tenants",
  ]);
}, 60_000);

test("a config with several mistakes exits non-zero, lists each field, prints no stack trace and writes nothing", () => {
  const path = join(mkdtempSync(join(tmpdir(), "bad-")), "bad.json");
  writeFileSync(path, JSON.stringify({ ...MINIMAL_DOCUMENT, region: "nowhere", database: { backupRetentionDays: 40, instanceClas: "x" } }));
  const run = runApp(path);
  expect(run.status).toBe(1);
  expect(run.stderr).toContain("bad.json: region: must be an AWS region");
  expect(run.stderr).toContain("bad.json: database.backupRetentionDays: must be between 0 and 35 (got 40)");
  expect(run.stderr).toContain("bad.json: database.instanceClas: unknown key");
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(existsSync(run.outdir)).toBe(false);
}, 60_000);

test("a guardrail violation stops synthesis with the rule and the construct, without a stack trace", () => {
  const path = join(mkdtempSync(join(tmpdir(), "prod-")), "prod.json");
  writeFileSync(path, JSON.stringify({ ...MINIMAL_DOCUMENT, database: { deletionProtection: false } }));
  const run = runApp(path);
  expect(run.status).toBe(1);
  expect(run.stderr).toContain("prod-db-deletion-protection");
  expect(run.stderr).toContain("prod-data");
  expect(run.stderr).not.toMatch(/\n\s+at /);
}, 60_000);
