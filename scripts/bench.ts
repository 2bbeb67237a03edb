/**
 * npm run bench [-- --skip-tests]: how fast and how big synthesis is, and how it grows.
 * npm run bench -- --operator [--env dev] [--runs 3] [--deploy-runs 1]: deploy, plan and drift on the
 * emulator, one stack after another against side by side (scripts/lib/bench-operator.ts).
 *
 * Prints, for each case, the median wall time and peak memory of the app (`node --import tsx main.ts`,
 * what `cdktf synth` runs) over 5 runs: the shipped config/, then generated configs with 1, 4 and 16
 * environments and with 3, 30 and 300 tenant databases. Then the time of one `npm test`.
 * Targets: shipped environments under 1.5 s and 250 MB; growth no worse than linear; npm test under 2 min.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { operatorBench } from "./lib/bench-operator";

const ROOT = join(__dirname, "..");
const RUNS = 5;

interface Sample {
  readonly seconds: number;
  readonly peakMb: number;
}

function synthOnce(env: NodeJS.ProcessEnv): Sample {
  const scratch = mkdtempSync(join(tmpdir(), "bench-"));
  const measure = join(scratch, "rss.json");
  const started = process.hrtime.bigint();
  const run = spawnSync(process.execPath, ["--import", "tsx", join(__dirname, "lib", "measure-synth.ts")], {
    cwd: ROOT,
    env: { ...process.env, ...env, CDKTF_OUTDIR: join(scratch, "out"), MEASURE_OUT: measure },
    encoding: "utf8",
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (run.status !== 0) throw new Error(`synth failed:\n${run.stderr}`);
  const { maxRssKb } = JSON.parse(readFileSync(measure, "utf8")) as { maxRssKb: number };
  rmSync(scratch, { recursive: true, force: true });
  return { seconds, peakMb: maxRssKb / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function measure(env: NodeJS.ProcessEnv): Sample {
  const samples = Array.from({ length: RUNS }, () => synthOnce(env));
  return { seconds: median(samples.map((s) => s.seconds)), peakMb: median(samples.map((s) => s.peakMb)) };
}

/** A folder of `environments` generated configs, each with `tenants` databases. */
function generatedConfigs(environments: number, tenants: number): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-configs-${environments}x${tenants}-`));
  for (let i = 0; i < environments; i++) {
    const name = `env${String(i + 1).padStart(2, "0")}`;
    const octet = i + 1;
    const document = {
      project: "bench",
      region: "us-east-1",
      state: { bucket: `bench-${name}-tfstate` },
      network: {
        vpcCidr: `10.${octet}.0.0/16`,
        publicSubnetCidrs: [`10.${octet}.1.0/24`, `10.${octet}.2.0/24`],
        privateSubnetCidrs: [`10.${octet}.10.0/24`, `10.${octet}.11.0/24`],
      },
      tenants: { databases: Array.from({ length: tenants }, (_, t) => `tenant_${String(t + 1).padStart(3, "0")}`) },
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(document));
  }
  return dir;
}

/** One line of the table; with a baseline, also the cost of each unit added beyond it (the growth rate). */
function row(label: string, sample: Sample, growth?: { unit: string; baseline: Sample; baseCount: number; count: number }): string {
  let marginal = "";
  if (growth && growth.count > growth.baseCount) {
    const extra = growth.count - growth.baseCount;
    const ms = ((sample.seconds - growth.baseline.seconds) * 1000) / extra;
    const mb = (sample.peakMb - growth.baseline.peakMb) / extra;
    marginal = `  +${Math.max(0, ms).toFixed(1)} ms and ${mb >= 0 ? "+" : ""}${mb.toFixed(2)} MB per added ${growth.unit}`;
  }
  return `${label.padEnd(36)} ${sample.seconds.toFixed(2).padStart(6)} s  ${sample.peakMb.toFixed(0).padStart(5)} MB${marginal}`;
}

/** Measures each count of a generated case; the smallest is the baseline for the growth rate. */
function scaling(unit: string, counts: number[], dirFor: (count: number) => string): void {
  let baseline: Sample | undefined;
  for (const count of counts) {
    const dir = dirFor(count);
    const sample = measure({ INFRA_CONFIG_DIR: dir });
    rmSync(dir, { recursive: true, force: true });
    baseline ??= sample;
    console.log(row(`${count} ${unit}${count === 1 ? "" : "s"}`, sample, { unit, baseline, baseCount: counts[0], count }));
  }
}

function main(): void {
  console.log(`synthesis: median of ${RUNS} runs of the app (node --import tsx main.ts), wall time and peak RSS`);
  console.log(row("shipped config/ (all environments)", measure({})));
  console.log("generated environments (3 tenant databases each):");
  scaling("environment", [1, 4, 16], (n) => generatedConfigs(n, 3));
  console.log("one generated environment with more tenant databases:");
  scaling("tenant database", [3, 30, 300], (n) => generatedConfigs(1, n));
  if (process.argv.includes("--skip-tests")) return;
  const started = Date.now();
  const test = spawnSync("npm", ["test", "--silent"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true" } });
  console.log(`npm test: ${((Date.now() - started) / 1000).toFixed(1)} s (exit ${test.status})`);
}

if (process.argv.includes("--operator")) {
  operatorBench(process.argv.slice(2))
    .then((code) => process.exit(code))
    .catch((err: Error) => {
      console.error(err.message);
      process.exit(1);
    });
} else {
  main();
}
