/**
 * The deploy/destroy step plan: order, exact terraform arguments, the tunnel around tenants, refusals,
 * and a run that always closes what it opened. No terraform and no AWS: stacks are folder names and
 * the runner is a recording fake.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../config/schema";
import { parseOperatorArgs, UsageError } from "../../scripts/lib/operator/cli";
import { formatPlan } from "../../scripts/lib/operator/format";
import { deployPlan, destroyPlan, operatorVariables, type Plan } from "../../scripts/lib/operator/plan";
import { resolveRefs, runPlan, type Runner } from "../../scripts/lib/operator/run";
import type { SynthesizedStack } from "../../scripts/lib/synth";
import { LAYERS } from "../../stacks/environment-stack";
import { configProblems, MINIMAL_DOCUMENT, safeBucketTestConfig, testConfig } from "../helpers";

const OUT = "/work/out";

/**
 * The dependencies StartupWebApp's stacks get from their cross-stack references when synthesized
 * (deploy.test.ts checks the real synthesized graph gives the same schedule).
 */
const DEPENDS_ON: Record<string, readonly string[]> = {
  state: [],
  network: ["state"],
  data: ["network"],
  access: ["data", "network"],
  observability: ["data"],
  tenants: ["access", "data"],
};

function stacksOf(config: EnvironmentConfig): SynthesizedStack[] {
  return LAYERS.map((layer) => ({
    name: `${config.environment}-${layer}`,
    dir: join(OUT, "stacks", `${config.environment}-${layer}`),
    dependencies: (DEPENDS_ON[layer] ?? ["state"]).map((d) => `${config.environment}-${d}`),
  }));
}

const stackNames = (plan: Plan): string[] => plan.steps.flatMap((s) => (s.kind === "stack" ? [s.stack] : []));
const kinds = (plan: Plan): string[] => plan.steps.map((s) => (s.kind === "stack" ? s.stack : s.kind));

describe("deploy plan", () => {
  const config = testConfig();
  const plan = deployPlan(config, stacksOf(config));

  test("deploys state, network, data, access, observability, then tenants inside the tunnel", () => {
    expect(kinds(plan)).toEqual([
      "test-state",
      "test-network",
      "test-data",
      "test-access",
      "test-observability",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
    ]);
  });

  test("each stack is initialised, planned to a file with a lock timeout, and applied from that file", () => {
    const data = plan.steps.find((s) => s.kind === "stack" && s.stack === "test-data");
    expect(data).toMatchObject({
      dir: join(OUT, "stacks", "test-data"),
      init: ["init", "-input=false", "-no-color"],
      plan: ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", "-out=deploy.tfplan"],
      apply: ["apply", "-input=false", "-no-color", "-lock-timeout=120s", "deploy.tfplan"],
    });
  });

  test("the tunnel is opened on the configured port with the deployed bastion and database", () => {
    expect(plan.steps.find((s) => s.kind === "open-tunnel")).toEqual({
      kind: "open-tunnel",
      bastionInstanceId: "<test-access.bastion_instance_id>",
      host: "<test-data.db_instance_address>",
      remotePort: "<test-data.db_instance_port>",
      localPort: 15432,
      region: "us-east-1",
    });
  });

  test("a stopped bastion is started before the tunnel and stopped again after it", () => {
    const stopped = testConfig({ bastion: { running: false } });
    expect(kinds(deployPlan(stopped, stacksOf(stopped)))).toEqual([
      "test-state",
      "test-network",
      "test-data",
      "test-access",
      "test-observability",
      "start-bastion",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
      "stop-bastion",
    ]);
  });

  test("a direct connection needs no tunnel", () => {
    const direct = testConfig({ tenants: { connection: "direct" } });
    expect(kinds(deployPlan(direct, stacksOf(direct)))).not.toContain("open-tunnel");
  });

  test("naming layers deploys only those, still in deploy order", () => {
    expect(kinds(deployPlan(config, stacksOf(config), { only: ["tenants", "network"] }))).toEqual([
      "test-network",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
    ]);
  });

  test("tenants over a tunnel with no bastion is refused by the config, with both ways out", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, bastion: { enabled: false } })).toEqual([
      expect.stringMatching(/^tenants\.connection: "tunnel" needs the bastion \(bastion\.enabled: true\); use "direct"/),
    ]);
  });

  test("next steps name the alarm recipients and every operator variable, never a value", () => {
    const withEmail = testConfig({ monitoring: { alarmEmails: ["ops@example.com"] } });
    const next = deployPlan(withEmail, stacksOf(withEmail), { operatorVariables: ["stripe_secret_key", "email_password"] }).nextSteps.join(
      "\n",
    );
    expect(next).toContain("ops@example.com");
    expect(next).toContain("<test-observability.sns_topic_arn>");
    expect(next).toContain("export TF_VAR_stripe_secret_key=...");
    expect(next).toContain("export TF_VAR_email_password=...");
    expect(next).toContain("raise tenants.operatorValuesVersion in the config");
    expect(next).not.toContain("raise tenants.credentialsVersion");
    expect(next).not.toContain("regenerated");
  });

  test("next steps name npm run ses:credentials when the config has an email section, and only then", () => {
    const withSes = testConfig({ email: { domain: "example.com" } });
    const next = (config: EnvironmentConfig): string =>
      deployPlan(config, stacksOf(config), { operatorVariables: ["stripe_secret_key"] }).nextSteps.join("\n");
    expect(next(withSes)).toContain("npm run ses:credentials -- test");
    expect(next(config)).not.toContain("ses:credentials");
  });

  test("SafeBucket's next steps raise credentials.version, which writes its SMTP login with the generated credentials", () => {
    const safeBucket = safeBucketTestConfig({ mail: { smtpHost: "smtp.example.com" } });
    const stacks = stacksOf(safeBucket).map((s) => (s.name === "test-tenants" ? { ...s, name: "test-database" } : s));
    const next = deployPlan(safeBucket, stacks, { operatorVariables: ["smtp_password", "smtp_username"] }).nextSteps.join("\n");
    expect(next).toContain("raise credentials.version in the config, then deploy the database stack");
    expect(next).toContain("export TF_VAR_smtp_password=...");
    expect(next).not.toContain("operatorValuesVersion");
    expect(next).not.toContain("ses:credentials");
  });
});

describe("destroy plan", () => {
  const config = testConfig();

  test("destroys in reverse order, tenants first inside the tunnel, and keeps the state bucket", () => {
    const plan = destroyPlan(config, stacksOf(config));
    expect(kinds(plan)).toEqual([
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
      "test-observability",
      "test-access",
      "test-data",
      "test-network",
    ]);
    const tenants = plan.steps.find((s) => s.kind === "stack" && s.stack === "test-tenants");
    expect(tenants).toMatchObject({ plan: expect.arrayContaining(["-destroy", "-out=destroy.tfplan"]) });
    expect(plan.nextSteps.join("\n")).toContain("empty the bucket, old versions included, then npm run destroy -- test state");
  });

  test("the state stack is destroyed when named", () => {
    expect(kinds(destroyPlan(config, stacksOf(config), { only: ["state"] }))).toEqual(["test-state"]);
  });

  test("a protected environment is refused with the guardrails' message", () => {
    const plan = destroyPlan(config, stacksOf(config), { destroyRefusal: () => "test is protected: set protect: false first" });
    expect(plan.refusal).toBe("test is protected: set protect: false first");
  });

  test("a state stack kept in its own bucket is left alone, with the way to move it back", () => {
    const migrated = testConfig({ state: { stateStackBackend: "s3" } });
    const plan = destroyPlan(migrated, stacksOf(migrated), { only: ["state"] });
    expect(stackNames(plan)).toEqual([]);
    expect(plan.nextSteps.join("\n")).toMatch(/stateStackBackend: "local".*-migrate-state/);
  });
});

describe("dry-run text", () => {
  test("prints every command exactly, with folders relative to the working directory", () => {
    const config = testConfig();
    const text = formatPlan(deployPlan(config, stacksOf(config)), {
      cwd: OUT,
      tunnelCommand: (o) => ({
        command: "aws",
        args: ["ssm", "start-session", "--target", o.bastionInstanceId, `localPortNumber=${o.localPort}`],
      }),
    });
    expect(text).toContain("terraform -chdir=stacks/test-network init -input=false -no-color");
    expect(text).toContain(
      "terraform -chdir=stacks/test-network plan -input=false -no-color -detailed-exitcode -lock-timeout=120s -out=deploy.tfplan",
    );
    expect(text).toContain("aws ssm start-session --target <test-access.bastion_instance_id> localPortNumber=15432");
    expect(text.indexOf("test-observability")).toBeLessThan(text.indexOf("start-session"));
    expect(text.indexOf("start-session")).toBeLessThan(text.indexOf("stacks/test-tenants init"));
  });

  test("a refused plan prints only the refusal", () => {
    const config = testConfig();
    const text = formatPlan(destroyPlan(config, stacksOf(config), { destroyRefusal: () => "protected" }));
    expect(text).toBe("destroy test: refused\nprotected");
  });
});

// ---------------------------------------------------------------- running with a fake runner

interface Recorder extends Runner {
  readonly calls: string[];
}

function fakeRunner(
  overrides: { failOn?: string; planCode?: number; confirm?: boolean; outputs?: Record<string, Record<string, unknown>> } = {},
): Recorder {
  const calls: string[] = [];
  const outputs = overrides.outputs ?? {
    "test-access": { bastion_instance_id: "i-0123456789abcdef0" },
    "test-data": { db_instance_address: "db.example.internal", db_instance_port: 5432 },
  };
  return {
    calls,
    terraform: async (args, dir) => {
      const call = `${dir.split("/").pop()} ${args[0]}`;
      calls.push(call);
      if (call === overrides.failOn) return { code: 1, stdout: "", stderr: "Error: boom" };
      if (args[0] === "plan") return { code: overrides.planCode ?? 2, stdout: "Plan: 1 to add, 0 to change, 0 to destroy.", stderr: "" };
      return { code: 0, stdout: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", stderr: "" };
    },
    command: async (argv) => {
      calls.push(argv.slice(0, 3).join(" "));
      return { code: 0, stdout: "", stderr: "" };
    },
    outputs: async (stack) => outputs[stack] ?? {},
    openTunnel: async (o) => {
      calls.push(`open ${o.bastionInstanceId} ${o.host}:${o.remotePort} -> ${o.localPort}`);
      return { close: async () => void calls.push("close") };
    },
    confirm: async () => overrides.confirm ?? true,
    log: () => undefined,
  };
}

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
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-"));
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

describe("helpers", () => {
  test("output references are replaced by deployed values", async () => {
    const text = await resolveRefs("--target <a-access.bastion_instance_id>", async () => ({ bastion_instance_id: "i-1" }));
    expect(text).toBe("--target i-1");
  });

  test("the command line takes an environment, layers and known flags only", () => {
    expect(parseOperatorArgs(["prod", "tenants", "--dry-run"])).toMatchObject({
      environment: "prod",
      only: ["tenants"],
      dryRun: true,
      yes: false,
    });
    expect(() => parseOperatorArgs(["prod", "--force"])).toThrow(
      new UsageError("unknown option --force (allowed: --dry-run, --yes, --parallel N)"),
    );
    expect(() => parseOperatorArgs(["prod", "cache"])).toThrow(/unknown stack layer "cache" \(allowed: state, network/);
    // --parallel takes a value, which is no layer; a command that does not offer it refuses it
    expect(parseOperatorArgs(["prod", "--parallel", "3", "data"])).toMatchObject({ only: ["data"], parallel: 3 });
    expect(parseOperatorArgs(["prod", "--parallel=1"], ["--parallel"]).parallel).toBe(1);
    expect(() => parseOperatorArgs(["prod", "--parallel", "x"])).toThrow(
      new UsageError("--parallel: must be a whole number of at least 1 (got x)"),
    );
    expect(() => parseOperatorArgs(["prod", "--parallel", "2"], ["--free-tier"])).toThrow(/unknown option --parallel/);
    expect(() => parseOperatorArgs([])).toThrow(/name the environment/);
  });

  test("operator variables are the sensitive or ephemeral variables of the synthesized stack", () => {
    const dir = mkdtempSync(join(tmpdir(), "orchestrate-"));
    try {
      const variable = {
        stripe_secret_key: { ephemeral: true, sensitive: true },
        region: { type: "string" },
        email_user: { sensitive: true },
      };
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify({ variable }));
      expect(operatorVariables({ name: "x-tenants", dir, dependencies: [] })).toEqual(["email_user", "stripe_secret_key"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- side by side

describe("stacks side by side", () => {
  const config = testConfig();
  const settle = () => new Promise((r) => setImmediate(r));

  test("deploy waits for the synthesized dependencies: access and observability together after data", () => {
    const plan = deployPlan(config, stacksOf(config));
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-state", []],
      ["test-network", ["test-state"]],
      ["test-data", ["test-network", "test-state"]],
      ["test-access", ["test-data", "test-network", "test-state"]],
      ["test-observability", ["test-data", "test-network", "test-state"]],
      ["test-tenants", ["test-access", "test-data", "test-network", "test-state"]],
    ]);
    // the tunnel belongs to the tenants group only
    expect(plan.groups.at(-1)!.steps.map((s) => s.kind)).toEqual(["open-tunnel", "stack", "close-tunnel"]);
  });

  test("named layers still wait for each other through the layers left out", () => {
    const plan = deployPlan(config, stacksOf(config), { only: ["tenants", "network"] });
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-network", []],
      ["test-tenants", ["test-network"]],
    ]);
  });

  test("destroy waits for the stacks that depend on a stack: tenants and observability go first, together", () => {
    const plan = destroyPlan(config, stacksOf(config));
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-tenants", []],
      ["test-observability", []],
      ["test-access", ["test-tenants"]],
      ["test-data", ["test-tenants", "test-observability", "test-access"]],
      ["test-network", ["test-tenants", "test-observability", "test-access", "test-data"]],
    ]);
  });

  test("--dry-run says which stacks run together and what each waits for", () => {
    const text = formatPlan(deployPlan(config, stacksOf(config)), { cwd: OUT, parallel: 4 });
    expect(text).toContain("at most 4 at once (--parallel)");
    const lines = text.split("\n");
    const together = lines.indexOf("    side by side: test-access, test-observability");
    expect(together).toBeGreaterThan(0);
    // each names what it waits for directly; data's own wait for network and state goes without saying
    expect(lines[together + 1]).toBe(" 4. test-access (waits for test-data)");
    expect(text).toContain(" 5. test-observability (waits for test-data)");
    expect(text).toContain(" 7. test-tenants (waits for test-access)");
    expect(lines.filter((l) => l.includes("side by side:"))).toHaveLength(1);
    const sequential = formatPlan(deployPlan(config, stacksOf(config)), { cwd: OUT, parallel: 1 });
    expect(sequential).toContain("One stack at a time (--parallel 1)");
    expect(sequential).not.toContain("side by side:");
  });

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
