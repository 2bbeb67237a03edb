/**
 * Running a plan (scripts/lib/operator/run.ts) with a recording fake runner: order, failures, the
 * tunnel and bastion always cleaned up, interrupts, and stacks side by side.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deployPlan, destroyPlan } from "../../../scripts/lib/operator/plan";
import { resolveRefs, runPlan } from "../../../scripts/lib/operator/run";
import { testConfig } from "../../helpers";
import { fakeRunner, stacksOf, type Recorder } from "./support";

describe("running a plan", () => {
  const config = testConfig();

  test("applies every stack in order and opens the tunnel with the deployed outputs", async () => {
    const runner = fakeRunner();
    expect(await runPlan(deployPlan(config, stacksOf(config), { only: ["access", "tenants"] }), runner)).toBe(true);
    expect(runner.calls).toEqual([
      "test-access init",
      "test-access plan",
      "test-access apply",
      "open i-0123456789abcdef0 db.example.internal:5432 -> 15432",
      "test-tenants init",
      "test-tenants plan",
      "test-tenants apply",
      "close",
    ]);
  });

  test("closes the tunnel and stops a started bastion when the tenants stack fails", async () => {
    const stopped = testConfig({ bastion: { running: false } });
    const runner = fakeRunner({ failOn: "test-tenants apply" });
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped), { only: ["tenants"] }), runner)).toBe(false);
    expect(runner.calls.slice(-3)).toEqual(["test-tenants apply", "close", "aws ec2 stop-instances"]);
  });

  test("after a failure no later stack runs", async () => {
    const runner = fakeRunner({ failOn: "test-network plan" });
    expect(await runPlan(deployPlan(config, stacksOf(config)), runner)).toBe(false);
    expect(runner.calls.some((c) => c.startsWith("test-data"))).toBe(false);
    expect(runner.calls).not.toContain("close");
  });

  test("a stack with no changes is not applied", async () => {
    const runner = fakeRunner({ planCode: 0 });
    await runPlan(deployPlan(config, stacksOf(config), { only: ["network"] }), runner);
    expect(runner.calls).toEqual(["test-network init", "test-network plan"]);
  });

  test("without a yes nothing is applied, and --yes applies without asking", async () => {
    const plan = deployPlan(config, stacksOf(config), { only: ["network"] });
    const declined = fakeRunner({ confirm: false });
    expect(await runPlan(plan, declined)).toBe(false);
    expect(declined.calls).not.toContain("test-network apply");
    const yes = fakeRunner({ confirm: false });
    expect(await runPlan(plan, yes, { yes: true })).toBe(true);
    expect(yes.calls).toContain("test-network apply");
  });

  test("a missing output stops the run before the tenants stack, naming the stack to deploy", async () => {
    const logged: string[] = [];
    const runner = { ...fakeRunner({ outputs: {} }), log: (l: string) => void logged.push(l) };
    expect(await runPlan(deployPlan(config, stacksOf(config), { only: ["tenants"] }), runner)).toBe(false);
    expect(runner.calls).toEqual([]);
    expect(logged.join("\n")).toContain("test-access has no output bastion_instance_id: deploy test-access first");
  });

  test("a refused plan runs nothing", async () => {
    const runner = fakeRunner();
    expect(await runPlan(destroyPlan(config, stacksOf(config), { destroyRefusal: () => "protected" }), runner)).toBe(false);
    expect(runner.calls).toEqual([]);
  });

  test("the saved plan file is removed after the apply", async () => {
    const dir = mkdtempSync(join(tmpdir(), "operator-"));
    try {
      const runner = fakeRunner();
      const stacks = stacksOf(config).map((s) => ({ ...s, dir: join(dir, s.name) }));
      const plan = deployPlan(config, stacks, { only: ["network"] });
      const original = runner.terraform;
      runner.terraform = async (args, cwd) => {
        if (args[0] === "plan") {
          mkdirSync(cwd, { recursive: true });
          writeFileSync(join(cwd, "deploy.tfplan"), "plan");
        }
        return original(args, cwd);
      };
      await runPlan(plan, runner);
      expect(existsSync(join(dir, "test-network", "deploy.tfplan"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("an interrupt (first Ctrl-C)", () => {
  const stopped = testConfig({ bastion: { running: false } });

  /** A fake runner that aborts `controller` the moment `when` happens, and records every log line. */
  function interruptedRunner(when: (event: string) => boolean, overrides: Parameters<typeof fakeRunner>[0] = {}) {
    const controller = new AbortController();
    const logged: string[] = [];
    const base = fakeRunner(overrides);
    const hit = (event: string): void => {
      if (when(event)) controller.abort();
    };
    const runner: Recorder = {
      ...base,
      terraform: async (args, dir) => {
        const result = await base.terraform(args, dir);
        hit(`terraform ${dir.split("/").pop()} ${args[0]}`);
        return result;
      },
      outputs: async (stack) => {
        hit(`outputs ${stack}`);
        return base.outputs(stack);
      },
      openTunnel: async (o) => {
        const tunnel = await base.openTunnel(o);
        hit("tunnel opened");
        return tunnel;
      },
      confirm: async (q) => {
        hit("confirm");
        return base.confirm(q);
      },
      log: (line) => {
        logged.push(line);
        hit(`log ${line}`);
      },
    };
    return { runner, logged, signal: controller.signal };
  }

  test("while the tunnel opens: the tenants stack never starts, the tunnel is closed and the started bastion stopped", async () => {
    const { runner, logged, signal } = interruptedRunner((e) => e === "tunnel opened");
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped)), runner, { signal })).toBe(false);
    expect(runner.calls.filter((c) => c.startsWith("test-tenants"))).toEqual([]);
    expect(runner.calls.slice(-2)).toEqual(["close", "aws ec2 stop-instances"]);
    expect(logged.at(-1)).toBe(
      "deploy test: interrupted during open-tunnel; no later step ran except cleanup (closing the tunnel, stopping a bastion started for this run).",
    );
  });

  test("while outputs are read for the tunnel: nothing later is applied and the bastion is stopped", async () => {
    const { runner, logged, signal } = interruptedRunner((e) => e === "outputs test-data");
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped), { only: ["tenants"] }), runner, { signal })).toBe(false);
    expect(runner.calls).toEqual([
      "aws ec2 start-instances",
      "aws ec2 wait",
      "open i-0123456789abcdef0 db.example.internal:5432 -> 15432",
      "close",
      "aws ec2 stop-instances",
    ]);
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted during open-tunnel;/);
  });

  test("at a step line, as an outside test delivers it: the step already begun ends, the next never starts", async () => {
    const { runner, logged, signal } = interruptedRunner((e) => e === "log ==> test-network: plan [2/6]");
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped)), runner, { signal })).toBe(false);
    expect(runner.calls).toEqual(["test-state init", "test-state plan", "test-state apply", "test-network init", "test-network plan"]);
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted before test-network: apply;/);
  });

  test("at the apply question it is an interrupt, not a no", async () => {
    const { runner, logged, signal } = interruptedRunner((e) => e === "confirm");
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped), { only: ["network", "data"] }), runner, { signal })).toBe(false);
    expect(runner.calls).toEqual(["test-network init", "test-network plan"]);
    expect(logged.join("\n")).not.toContain("not applied (answer was not yes");
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted before test-network: apply;/);
  });

  test("during terraform: terraform stops on its own (here: fails), the run names that step and goes no further", async () => {
    const { runner, logged, signal } = interruptedRunner((e) => e === "terraform test-data plan", { failOn: "test-data plan" });
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped)), runner, { signal })).toBe(false);
    expect(runner.calls.at(-1)).toBe("test-data plan");
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted during test-data: plan;/);
  });

  test("a step line is printed before every step, with the stack counter", async () => {
    const { runner, logged } = interruptedRunner(() => false);
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped), { only: ["access", "tenants"] }), runner)).toBe(true);
    expect(logged.filter((l) => l.startsWith("==> "))).toEqual([
      "==> test-access: init [1/2]",
      "==> test-access: plan [1/2]",
      "==> test-access: apply [1/2] (Plan: 1 to add, 0 to change, 0 to destroy.)",
      "==> start-bastion",
      "==> open-tunnel",
      "==> test-tenants: init [2/2]",
      "==> test-tenants: plan [2/2]",
      "==> test-tenants: apply [2/2] (Plan: 1 to add, 0 to change, 0 to destroy.)",
      "==> close-tunnel",
      "==> stop-bastion",
    ]);
  });

  test("an interrupt before the run starts runs nothing but says so", async () => {
    const controller = new AbortController();
    controller.abort();
    const logged: string[] = [];
    const runner = { ...fakeRunner(), log: (l: string) => void logged.push(l) };
    expect(await runPlan(deployPlan(stopped, stacksOf(stopped), { only: ["network"] }), runner, { signal: controller.signal })).toBe(false);
    expect(runner.calls).toEqual([]);
    expect(logged).toEqual([
      "deploy test: interrupted before test-network: init; no later step ran except cleanup (closing the tunnel, stopping a bastion started for this run).",
    ]);
  });
});

describe("output references", () => {
  test("output references are replaced by deployed values", async () => {
    const text = await resolveRefs("--target <a-access.bastion_instance_id>", async () => ({ bastion_instance_id: "i-1" }));
    expect(text).toBe("--target i-1");
  });
});

describe("stacks side by side", () => {
  const config = testConfig();
  const settle = () => new Promise((r) => setImmediate(r));

  /**
   * A runner whose terraform calls named in `held` wait until the test releases them (or until the
   * run's stop signal, answered as terraform answers SIGINT: exit 1).
   */
  function heldRunner(held: string[]) {
    const base = fakeRunner();
    const logged: string[] = [];
    const running = new Set<string>();
    let most = 0;
    const releases = new Map<string, (code: number) => void>();
    const stops = new Map<string, AbortSignal | undefined>();
    const runner: Recorder = {
      ...base,
      terraform: async (args, dir, stop) => {
        const call = `${dir.split("/").pop()} ${args[0]}`;
        running.add(call);
        most = Math.max(most, running.size);
        stops.set(call, stop);
        try {
          if (held.includes(call)) {
            base.calls.push(call);
            const code = await new Promise<number>((resolve) => {
              releases.set(call, resolve);
              stop?.addEventListener("abort", () => resolve(1));
            });
            if (code === 2) return { code, stdout: "Plan: 1 to add, 0 to change, 0 to destroy.", stderr: "" };
            if (code !== 0) return { code, stdout: "", stderr: stop?.aborted ? "Interrupt received." : "Error: boom" };
            return { code: 0, stdout: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", stderr: "" };
          }
          return await base.terraform(args, dir);
        } finally {
          running.delete(call);
        }
      },
      log: (line) => void logged.push(line),
    };
    const release = async (call: string, code = 0) => {
      const r = releases.get(call);
      if (!r) throw new Error(`${call} is not held (calls: ${base.calls.join(", ")})`);
      r(code);
      for (let i = 0; i < 5; i++) await settle();
    };
    return { runner, logged, release, stops, running, most: () => most, calls: base.calls };
  }

  test("access and observability apply at the same time; tenants starts once access is done", async () => {
    const { runner, release, running, calls, logged } = heldRunner(["test-access apply", "test-observability apply"]);
    const done = runPlan(deployPlan(config, stacksOf(config)), runner, { yes: true, parallel: 4 });
    for (let i = 0; i < 20; i++) await settle();
    expect([...running].sort()).toEqual(["test-access apply", "test-observability apply"]);
    await release("test-access apply");
    expect(calls).toContain("test-tenants apply");
    expect(running.has("test-observability apply")).toBe(true);
    await release("test-observability apply");
    expect(await done).toBe(true);
    // each stack's end is marked, so per-stack times survive the interleaving
    expect(logged).toContain("<== test-access: done [4/6]");
    expect(logged).toContain("<== test-observability: done [5/6]");
    expect(logged.indexOf("<== test-access: done [4/6]")).toBeLessThan(logged.indexOf("==> test-tenants: init [6/6]"));
    expect(logged).toContain("deploy test: done.");
  });

  test("--parallel 1 runs one stack at a time", async () => {
    const { runner, most } = heldRunner([]);
    expect(await runPlan(deployPlan(config, stacksOf(config)), runner, { yes: true, parallel: 1 })).toBe(true);
    expect(most()).toBe(1);
  });

  test("the first failure stops the stack running beside it and starts nothing more; the exit stays a failure", async () => {
    const { runner, release, stops, calls, logged } = heldRunner(["test-access apply", "test-observability apply"]);
    const done = runPlan(deployPlan(config, stacksOf(config)), runner, { yes: true, parallel: 4 });
    for (let i = 0; i < 20; i++) await settle();
    await release("test-access apply", 1);
    expect(await done).toBe(false);
    expect(stops.get("test-observability apply")?.aborted).toBe(true);
    expect(calls.filter((c) => c.startsWith("test-tenants"))).toEqual([]);
    expect(calls).not.toContain(expect.stringMatching(/^open /));
    expect(logged).toContain("<== test-access: failed [4/6]");
    expect(logged).toContain("<== test-observability: stopped [5/6]");
    expect(logged.join("\n")).toContain("[5/6] test-observability: terraform apply stopped (another stack failed)");
    expect(logged.at(-1)).toBe("deploy test: stopped after a failure (see above); nothing after it ran except cleanup.");
  });

  test("Ctrl-C while two stacks apply: both end, nothing later starts, and the run sends terraform no second SIGINT", async () => {
    const { runner, release, stops, calls, logged } = heldRunner(["test-access apply", "test-observability apply"]);
    const interrupt = new AbortController();
    const stopped = testConfig({ bastion: { running: false } });
    const done = runPlan(deployPlan(stopped, stacksOf(stopped)), runner, { yes: true, parallel: 4, signal: interrupt.signal });
    for (let i = 0; i < 20; i++) await settle();
    interrupt.abort();
    // the terminal's SIGINT reached both terraform runs, which stop: exit 1
    await release("test-observability apply", 1);
    await release("test-access apply", 1);
    expect(await done).toBe(false);
    expect(stops.get("test-access apply")?.aborted).toBe(false);
    expect(stops.get("test-observability apply")?.aborted).toBe(false);
    expect(calls.filter((c) => c.startsWith("test-tenants") || c.startsWith("aws ec2"))).toEqual([]);
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted during test-(access|observability): apply; no later step ran except cleanup/);
  });

  test("Ctrl-C while tenants runs beside observability: the tunnel is closed and the started bastion stopped", async () => {
    const { runner, release, calls, logged } = heldRunner(["test-tenants plan", "test-observability apply"]);
    const interrupt = new AbortController();
    const stopped = testConfig({ bastion: { running: false } });
    const done = runPlan(deployPlan(stopped, stacksOf(stopped)), runner, { yes: true, parallel: 4, signal: interrupt.signal });
    for (let i = 0; i < 30; i++) await settle();
    expect(calls).toContain("test-tenants plan");
    interrupt.abort();
    await release("test-tenants plan", 1);
    await release("test-observability apply", 1);
    expect(await done).toBe(false);
    expect(calls).not.toContain("test-tenants apply");
    expect(calls.slice(-2)).toEqual(["close", "aws ec2 stop-instances"]);
    expect(logged.at(-1)).toMatch(/^deploy test: interrupted during test-(tenants: plan|observability: apply);/);
  });

  test("a no at one question starts nothing more but lets an apply already approved beside it finish", async () => {
    const { runner, release, stops, calls, logged } = heldRunner(["test-access plan", "test-observability apply"]);
    runner.confirm = async (question) => !question.startsWith("Apply test-access?");
    const done = runPlan(deployPlan(config, stacksOf(config), { only: ["access", "observability", "tenants"] }), runner, { parallel: 2 });
    for (let i = 0; i < 30; i++) await settle();
    expect(stops.has("test-observability apply")).toBe(true);
    await release("test-access plan", 2);
    expect(logged.join("\n")).toContain("test-access: not applied (answer was not yes");
    expect(stops.get("test-observability apply")?.aborted).toBe(false);
    await release("test-observability apply");
    expect(await done).toBe(false);
    expect(logged).toContain("<== test-observability: done [2/3]");
    expect(calls.filter((c) => c.startsWith("test-tenants"))).toEqual([]);
  });

  test("questions come one at a time, each after its own plan, and other stacks' lines wait for the answer", async () => {
    const asked: string[] = [];
    const logged: string[] = [];
    const base = fakeRunner();
    let answer: (yes: boolean) => void = () => undefined;
    const runner: Recorder = {
      ...base,
      terraform: async (args, dir) => {
        const result = await base.terraform(args, dir);
        const stack = dir.split("/").pop();
        return args[0] === "plan" ? { ...result, stdout: `plan of ${stack}\nPlan: 1 to add, 0 to change, 0 to destroy.` } : result;
      },
      confirm: (question) => {
        asked.push(question);
        return new Promise((resolve) => (answer = resolve));
      },
      log: (line) => void logged.push(line),
    };
    const done = runPlan(deployPlan(config, stacksOf(config), { only: ["access", "observability"] }), runner, { parallel: 2 });
    for (let i = 0; i < 20; i++) await settle();
    expect(asked).toEqual(["Apply test-access? Plan: 1 to add, 0 to change, 0 to destroy."]);
    expect(logged.at(-1)).toMatch(/^plan of test-access/);
    answer(true);
    for (let i = 0; i < 20; i++) await settle();
    expect(asked).toHaveLength(2);
    expect(logged.at(-1)).toMatch(/^plan of test-observability/);
    answer(true);
    expect(await done).toBe(true);
  });
});
