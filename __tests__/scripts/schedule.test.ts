/**
 * The scheduler behind deploy, destroy, plan, drift and status: graph -> waves, bounded concurrency,
 * first-failure stop, interrupt. Jobs are promises the test settles by hand: no terraform, no timers.
 */
import { criticalPath, levels, parseParallel, runGraph, waves, type Job } from "../../scripts/lib/schedule";

/** The StartupWebApp graph, as the synthesized stacks give it. */
const GRAPH: Job[] = [
  { id: "state", after: [] },
  { id: "network", after: ["state"] },
  { id: "data", after: ["network"] },
  { id: "access", after: ["data", "network"] },
  { id: "observability", after: ["data"] },
  { id: "tenants", after: ["access", "data"] },
];

/** Jobs that wait until the test finishes them; records what started and what runs now. */
function manualJobs() {
  const started: string[] = [];
  const running = new Set<string>();
  let most = 0;
  const finishers = new Map<string, (ok: boolean) => void>();
  const stops = new Map<string, AbortSignal>();
  const run = (job: Job, stop: AbortSignal): Promise<boolean> => {
    started.push(job.id);
    running.add(job.id);
    most = Math.max(most, running.size);
    stops.set(job.id, stop);
    return new Promise((resolve) =>
      finishers.set(job.id, (ok) => {
        running.delete(job.id);
        resolve(ok);
      }),
    );
  };
  /** Lets pending promise callbacks run, so the scheduler reacts to what just finished. */
  const settle = () => new Promise((r) => setImmediate(r));
  const finish = async (id: string, ok = true) => {
    const f = finishers.get(id);
    if (!f) throw new Error(`${id} is not running (started: ${started.join(", ")})`);
    f(ok);
    await settle();
  };
  return { run, started, running, finish, stops, most: () => most, settle };
}

test("jobs are grouped by level: access and observability both wait only for data", () => {
  expect(waves(GRAPH).map((w) => w.map((j) => j.id))).toEqual([["state"], ["network"], ["data"], ["access", "observability"], ["tenants"]]);
  expect(levels(GRAPH).get("tenants")).toBe(4);
});

test("a job waiting for one outside the graph is not held back by it", () => {
  expect(waves([{ id: "tenants", after: ["access"] }]).map((w) => w.map((j) => j.id))).toEqual([["tenants"]]);
});

test("a cycle is an error that shows it", () => {
  expect(() =>
    levels([
      { id: "a", after: ["b"] },
      { id: "b", after: ["a"] },
    ]),
  ).toThrow("dependency cycle: a -> b -> a");
});

test("the critical path is the slowest chain, not the sum", () => {
  const seconds: Record<string, number> = { state: 10, network: 20, data: 200, access: 40, observability: 30, tenants: 15 };
  expect(criticalPath(GRAPH, (id) => seconds[id])).toBe(10 + 20 + 200 + 40 + 15);
});

test("--parallel takes a whole number of at least 1", () => {
  expect(parseParallel("3")).toBe(3);
  for (const bad of ["0", "-1", "1.5", "two", undefined]) expect(() => parseParallel(bad)).toThrow(/^--parallel: must be a whole number/);
});

describe("running a graph", () => {
  test("a job starts as soon as what it waits for is done, side by side with others", async () => {
    const jobs = manualJobs();
    const done = runGraph(GRAPH, jobs.run, { limit: 4 });
    await jobs.settle();
    for (const id of ["state", "network", "data"]) {
      expect([...jobs.running]).toEqual([id]);
      await jobs.finish(id);
    }
    expect([...jobs.running]).toEqual(["access", "observability"]);
    // tenants does not wait for observability: it is not one of its dependencies
    await jobs.finish("access");
    expect([...jobs.running]).toEqual(["observability", "tenants"]);
    await jobs.finish("tenants");
    await jobs.finish("observability");
    expect([...(await done).values()]).toEqual(Array(6).fill("done"));
  });

  test("never more than the limit at once, taking jobs in the given order", async () => {
    const jobs = manualJobs();
    const flat = ["a", "b", "c", "d", "e"].map((id) => ({ id, after: [] }));
    const done = runGraph(flat, jobs.run, { limit: 2 });
    await jobs.settle();
    expect(jobs.started).toEqual(["a", "b"]);
    await jobs.finish("b");
    expect(jobs.started).toEqual(["a", "b", "c"]);
    for (const id of ["a", "c", "d", "e"]) await jobs.finish(id);
    await done;
    expect(jobs.most()).toBe(2);
  });

  test("limit 1 runs one job at a time", async () => {
    const jobs = manualJobs();
    const done = runGraph(GRAPH, jobs.run, { limit: 1 });
    await jobs.settle();
    for (const id of ["state", "network", "data", "access", "observability", "tenants"]) await jobs.finish(id);
    await done;
    expect(jobs.started).toEqual(["state", "network", "data", "access", "observability", "tenants"]);
    expect(jobs.most()).toBe(1);
  });

  test("the first failure starts nothing more and asks the running jobs to stop", async () => {
    const jobs = manualJobs();
    const done = runGraph(GRAPH, jobs.run, { limit: 4 });
    await jobs.settle();
    for (const id of ["state", "network", "data"]) await jobs.finish(id);
    expect(jobs.stops.get("observability")?.aborted).toBe(false);
    await jobs.finish("access", false);
    expect(jobs.stops.get("observability")?.aborted).toBe(true);
    await jobs.finish("observability", false);
    const results = await done;
    expect(results.get("access")).toBe("failed");
    expect(results.get("tenants")).toBe("not-run");
    expect(jobs.started).not.toContain("tenants");
  });

  test("a job that throws counts as failed", async () => {
    const results = await runGraph(GRAPH.slice(0, 2), async (job) => {
      if (job.id === "state") throw new Error("boom");
      return true;
    });
    expect([...results.entries()]).toEqual([
      ["state", "failed"],
      ["network", "not-run"],
    ]);
  });

  test("an interrupt starts nothing more and leaves the running jobs to end by themselves", async () => {
    const jobs = manualJobs();
    const interrupt = new AbortController();
    const done = runGraph(GRAPH, jobs.run, { limit: 4, signal: interrupt.signal });
    await jobs.settle();
    for (const id of ["state", "network", "data"]) await jobs.finish(id);
    interrupt.abort();
    await jobs.finish("access");
    // Terraform already got the terminal's SIGINT: a second one from us would make it quit at once.
    expect(jobs.stops.get("observability")?.aborted).toBe(false);
    await jobs.finish("observability");
    expect((await done).get("tenants")).toBe("not-run");
    expect(jobs.started).not.toContain("tenants");
  });
});
