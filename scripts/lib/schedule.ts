/**
 * Running an environment's stacks side by side: the one scheduler behind deploy, destroy, plan, drift
 * and status. Jobs form a dependency graph (from the synthesized stacks' dependencies, never a second
 * hand-kept list); a job starts as soon as every job it waits for is done, at most `limit` at once.
 */
import { availableParallelism } from "node:os";

/** A unit of work and the jobs it waits for (ids of other jobs; ids not in the graph are ignored). */
export interface Job {
  readonly id: string;
  readonly after: readonly string[];
}

export type JobResult = "done" | "failed" | "not-run";

/** The default of `--parallel`: as many jobs as this machine has cores. */
export function defaultParallelism(): number {
  return availableParallelism();
}

/** `--parallel`'s value: a whole number of at least 1. */
export function parseParallel(value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < 1) {
    throw new RangeError(`--parallel: must be a whole number of at least 1 (got ${value ?? "nothing"})`);
  }
  return n;
}

/** Each job's level: 0 waits for nothing, otherwise one more than the deepest job it waits for. */
export function levels(jobs: readonly Job[]): Map<string, number> {
  const ids = new Set(jobs.map((j) => j.id));
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const level = new Map<string, number>();
  const visit = (job: Job, path: readonly string[]): number => {
    const known = level.get(job.id);
    if (known !== undefined) return known;
    if (path.includes(job.id)) throw new Error(`dependency cycle: ${[...path, job.id].join(" -> ")}`);
    const deps = job.after.filter((a) => ids.has(a)).map((a) => visit(byId.get(a)!, [...path, job.id]));
    const own = deps.length === 0 ? 0 : Math.max(...deps) + 1;
    level.set(job.id, own);
    return own;
  };
  for (const job of jobs) visit(job, []);
  return level;
}

/** The jobs grouped by level, each group in the input order: what can run together. */
export function waves<T extends Job>(jobs: readonly T[]): T[][] {
  const level = levels(jobs);
  const groups: T[][] = [];
  for (const job of jobs) (groups[level.get(job.id)!] ??= []).push(job);
  return groups.filter((g) => g !== undefined);
}

/** The longest chain of `seconds` through the graph: the least wall time any schedule can take. */
export function criticalPath(jobs: readonly Job[], seconds: (id: string) => number): number {
  const ids = new Set(jobs.map((j) => j.id));
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const memo = new Map<string, number>();
  const finish = (job: Job): number => {
    const known = memo.get(job.id);
    if (known !== undefined) return known;
    const before = job.after.filter((a) => ids.has(a)).map((a) => finish(byId.get(a)!));
    const own = Math.max(0, ...before) + seconds(job.id);
    memo.set(job.id, own);
    return own;
  };
  return Math.max(0, ...jobs.map(finish));
}

export interface RunGraphOptions {
  /** At most this many jobs at once. @default defaultParallelism() */
  readonly limit?: number;
  /** Once aborted (the operator's Ctrl-C), no job starts; running ones finish on their own. */
  readonly signal?: AbortSignal;
}

/**
 * Runs `run` for every job once the jobs it waits for are done, at most `limit` at once, in the input
 * order where there is a choice. The first failure stops it: no job starts after it, and the signal
 * handed to running jobs is aborted so they can stop too. A job whose prerequisite failed or never
 * ran does not run. Resolves once no job runs, with every job's result.
 */
export async function runGraph<T extends Job>(
  jobs: readonly T[],
  run: (job: T, stop: AbortSignal) => Promise<boolean>,
  options: RunGraphOptions = {},
): Promise<Map<string, JobResult>> {
  levels(jobs); // throws on a cycle before anything starts
  const limit = Math.max(1, options.limit ?? defaultParallelism());
  const ids = new Set(jobs.map((j) => j.id));
  const result = new Map<string, JobResult>(jobs.map((j) => [j.id, "not-run"]));
  const stop = new AbortController();
  const waiting = [...jobs];
  let running = 0;
  return new Promise((resolve) => {
    const ready = (job: T): boolean => job.after.every((a) => !ids.has(a) || result.get(a) === "done");
    const startMore = (): void => {
      while (!stop.signal.aborted && !options.signal?.aborted && running < limit) {
        const i = waiting.findIndex(ready);
        if (i < 0) break;
        const [job] = waiting.splice(i, 1);
        running++;
        // A job that throws is a failed job: the scheduler never leaves a promise dangling.
        run(job, stop.signal)
          .catch(() => false)
          .then((ok) => {
            running--;
            result.set(job.id, ok ? "done" : "failed");
            if (!ok) stop.abort();
            startMore();
          });
      }
      if (running === 0) resolve(result);
    };
    startMore();
  });
}
