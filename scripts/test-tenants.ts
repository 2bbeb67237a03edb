/**
 * npm run test:tenants [-- [--sql] <config.json>...]
 *
 * Replays, on a throwaway local PostgreSQL server, the statements the postgresql provider would run for
 * each config's SQL stack (a model of the pinned provider: scripts/lib/tenant-sql/provider-model.ts),
 * as an RDS-like master that is not a superuser, then checks tenant isolation, the master's access and
 * that a second apply changes nothing. Default: every config/*.json whose application has a SQL layer.
 * Prints one line per check and ends with "N passed, M failed"; exit 0 only when all pass. --sql also
 * prints every statement sent, per stack (passwords shown as ***).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configFiles } from "../config/load";
import { runTenantSql, targetsFor, type Check } from "./lib/tenant-sql/run";

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log("usage: npm run test:tenants [-- [--sql] <config.json>...]   (default: every config/*.json)");
    return 0;
  }
  // Every shipped application has a SQL layer (StartupWebApp's tenants, SafeBucket's database).
  const showSql = args.includes("--sql");
  const given = args.filter((a) => a !== "--sql");
  const files = given.length > 0 ? given.map((a) => resolve(a)) : configFiles({});
  const scratch = mkdtempSync(join(tmpdir(), "tenant-sql-configs-"));
  // also on Ctrl-C: the run stops its server and exits from its signal handler
  process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
  const started = Date.now();
  let report;
  try {
    const transcript = showSql
      ? (stack: string, lines: readonly string[]): void => console.log([`-- ${stack}: the statements sent`, ...lines].join("\n"))
      : undefined;
    report = await runTenantSql(targetsFor(files, scratch), print, { transcript });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const passed = report.checks.filter((c) => c.ok).length;
  const failed = report.checks.length - passed;
  const timings = Object.entries({ ...report.timings, totalMs: Date.now() - started })
    .map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}s`)
    .join(", ");
  console.log(`timings: ${timings.replace(/Ms /g, " ")}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 && report.checks.length > 0 ? 0 : 1;
}

function print(check: Check): void {
  console.log(`${check.ok ? "ok  " : "FAIL"} ${check.name}`);
  if (!check.ok && check.detail) for (const line of check.detail.split("\n")) console.log(`       ${line}`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
