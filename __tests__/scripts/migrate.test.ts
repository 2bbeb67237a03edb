/**
 * npm run migrate and npm run manage as a whole (scripts/migrate.ts, scripts/manage.ts), with the
 * shipped prod config, canned web stack outputs and a fake AWS CLI: exit codes, which tenant failed,
 * Ctrl-C, the ECS Exec path and its session-manager-plugin check, and that no argument is echoed.
 */
import { EventEmitter } from "node:events";
import type { TaskCommandDeps } from "../../scripts/lib/ecs-task";
import { manage } from "../../scripts/manage";
import { migrate } from "../../scripts/migrate";
import { fakeAws, fakeClock, TASK_ARN, webOutputs, type FakeEcsOptions } from "./fake-ecs";

const PROD_TENANTS = ["startupwebapp_prod", "healthtech_experiment", "fintech_experiment"];

function deps(options: FakeEcsOptions, extra: Partial<TaskCommandDeps> = {}) {
  const lines: string[] = [];
  const fake = fakeAws(options);
  const clock = fakeClock();
  const d: TaskCommandDeps = {
    write: (line) => lines.push(line),
    aws: fake.aws,
    // In the config's order reversed, to show the config's order wins.
    webOutputs: async () => webOutputs([...PROD_TENANTS].reverse()),
    signals: new EventEmitter(),
    now: clock.now,
    delay: clock.delay,
    findExecutable: (name) => `/usr/bin/${name}`,
    interactive: async () => 0,
    ...extra,
  };
  return { d, lines, fake, text: () => lines.join("\n") };
}

const runTasks = (calls: { args: string[] }[]) => calls.filter((c) => c.args[1] === "run-task");

describe("npm run migrate", () => {
  test("every tenant, one after another in the config's order: exit 0", async () => {
    const t = deps({ pollsUntilStopped: 2, exitCode: 0 });
    expect(await migrate(["prod"], t.d)).toBe(0);
    const order = t.fake.calls.filter((c) => c.args[1] === "describe-services").map((c) => c.args[c.args.indexOf("--services") + 1]);
    expect(order).toEqual(PROD_TENANTS.map((db) => `startupwebapp-prod-${db}`));
    // One after another: each task has stopped before the next run-task.
    const kinds = t.fake.calls.map((c) => c.args[1]).filter((k) => k === "run-task" || k === "describe-tasks");
    expect(kinds).toEqual([
      "run-task",
      "describe-tasks",
      "describe-tasks",
      "run-task",
      "describe-tasks",
      "describe-tasks",
      "run-task",
      "describe-tasks",
      "describe-tasks",
    ]);
    expect(t.text()).toContain("migrate prod: every tenant migrated (startupwebapp_prod, healthtech_experiment, fintech_experiment)");
  });

  test("only the named tenants", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 });
    expect(await migrate(["prod", "fintech_experiment"], t.d)).toBe(0);
    expect(runTasks(t.fake.calls)).toHaveLength(1);
    expect(t.fake.calls[0].args).toContain("startupwebapp-prod-fintech_experiment");
  });

  test("a failing migration: the others still run, exit 1 naming it and its exit code", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0, exitCodes: [0, 1, 0] });
    expect(await migrate(["prod"], t.d)).toBe(1);
    expect(runTasks(t.fake.calls)).toHaveLength(3);
    expect(t.lines.at(-1)).toBe(
      "migrate prod: FAILED for healthtech_experiment (exit code 1); migrated: startupwebapp_prod, fintech_experiment",
    );
  });

  test("a timeout is a failure that says the task was left running", async () => {
    const t = deps({ pollsUntilStopped: Infinity, exitCode: 0 });
    expect(await migrate(["prod", "startupwebapp_prod", "--timeout", "1"], t.d)).toBe(1);
    expect(t.lines.at(-1)).toBe(
      "migrate prod: FAILED for startupwebapp_prod (timed out after 1 min, task 0123456789abcdef0123456789abcdef left running)",
    );
  });

  test("Ctrl-C stops the running task, starts no further tenant, exit 130", async () => {
    const signals = new EventEmitter();
    const t = deps({ pollsUntilStopped: 3, exitCode: 0, onDescribe: (n) => n === 4 && signals.emit("SIGINT") }, { signals });
    expect(await migrate(["prod"], t.d)).toBe(130);
    expect(runTasks(t.fake.calls)).toHaveLength(2);
    expect(t.fake.calls.filter((c) => c.args[1] === "stop-task").map((c) => c.args[c.args.indexOf("--task") + 1])).toEqual([TASK_ARN]);
    expect(t.lines.at(-1)).toBe("migrate prod: interrupted during healthtech_experiment; not run: fintech_experiment");
    expect(signals.listenerCount("SIGINT")).toBe(0);
  });

  test("a tenant without a service in the web stack is refused before anything runs", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 }, { webOutputs: async () => webOutputs(["startupwebapp_prod"]) });
    expect(await migrate(["prod", "healthtech_experiment"], t.d)).toBe(1);
    expect(t.text()).toContain("database: healthtech_experiment has no service in prod-web (its tenant_services: startupwebapp_prod)");
    expect(t.fake.calls).toEqual([]);
  });

  test("a SafeBucket environment is refused naming the environment", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 });
    expect(await migrate(["safebucket-prod"], t.d)).toBe(1);
    expect(t.text()).toMatch(/^environment: safebucket-prod is a safebucket environment/);
  });
});

describe("npm run manage", () => {
  test("a plain command is a one-off task: its arguments reach the container, never the output", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 });
    expect(await manage(["prod", "startupwebapp_prod", "clearsessions", "--database-password-not-really=s3cr3t"], t.d)).toBe(0);
    const run = runTasks(t.fake.calls)[0] as { args: string[]; input?: string };
    expect(JSON.parse(run.input!).containerOverrides[0].command).toEqual([
      "python",
      "manage.py",
      "clearsessions",
      "--database-password-not-really=s3cr3t",
    ]);
    expect(t.text()).toContain("python manage.py clearsessions (arguments not shown)");
    expect(t.text()).not.toContain("s3cr3t");
    expect(JSON.stringify(t.fake.calls.map((c) => c.args))).not.toContain("s3cr3t");
  });

  test("a poll that fails ends the wait with where the task is and how to stop it, exit 1", async () => {
    const t = deps({ pollsUntilStopped: 3, exitCode: 0 });
    const aws = t.d.aws!;
    const failing = deps(
      { pollsUntilStopped: 3, exitCode: 0 },
      {
        aws: async (args, input) =>
          args[1] === "describe-tasks"
            ? { code: 255, stdout: "", stderr: "An error occurred (ThrottlingException): Rate exceeded" }
            : aws(args, input),
      },
    );
    expect(await manage(["prod", "startupwebapp_prod", "check"], failing.d)).toBe(1);
    expect(failing.text()).toContain(
      "startupwebapp_prod: lost track of task 0123456789abcdef0123456789abcdef, which may still be running:",
    );
    expect(failing.text()).toContain(`  stop it:   aws ecs stop-task --region us-east-1 --cluster startupwebapp-prod --task ${TASK_ARN}`);
    expect(failing.text()).toContain("aws ecs describe-tasks failed (exit 255): An error occurred (ThrottlingException): Rate exceeded");
  });

  test("a failing command exits 1; Ctrl-C stops its task and exits 130", async () => {
    const failing = deps({ pollsUntilStopped: 1, exitCode: 2 });
    expect(await manage(["prod", "startupwebapp_prod", "check", "--deploy"], failing.d)).toBe(1);
    const signals = new EventEmitter();
    const t = deps({ pollsUntilStopped: Infinity, exitCode: 0, onDescribe: (n) => n === 1 && signals.emit("SIGINT") }, { signals });
    expect(await manage(["prod", "startupwebapp_prod", "check"], t.d)).toBe(130);
    expect(t.fake.calls.filter((c) => c.args[1] === "stop-task")).toHaveLength(1);
  });

  test("createsuperuser goes through ECS Exec in a running task of the tenant's service", async () => {
    const sessions: (readonly string[])[] = [];
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 }, { interactive: async (argv) => (sessions.push(argv), 0) });
    expect(await manage(["prod", "healthtech_experiment", "createsuperuser"], t.d)).toBe(0);
    expect(t.fake.calls.map((c) => c.args.slice(0, 2).join(" "))).toEqual(["ecs list-tasks"]);
    expect(t.fake.calls[0].args).toEqual([
      "ecs",
      "list-tasks",
      "--region",
      "us-east-1",
      "--cluster",
      "startupwebapp-prod",
      "--service-name",
      "startupwebapp-prod-healthtech_experiment",
      "--desired-status",
      "RUNNING",
      "--output",
      "json",
    ]);
    expect(sessions).toEqual([
      [
        "aws",
        "ecs",
        "execute-command",
        "--region",
        "us-east-1",
        "--cluster",
        "startupwebapp-prod",
        "--task",
        TASK_ARN,
        "--container",
        "django",
        "--interactive",
        "--command",
        "python manage.py createsuperuser",
      ],
    ]);
  });

  test("without the session-manager-plugin it stops first, says how to install it, and touches nothing", async () => {
    const outputs = jest.fn(async () => webOutputs());
    const t = deps(
      { pollsUntilStopped: 1, exitCode: 0 },
      { webOutputs: outputs, findExecutable: (name) => (name === "session-manager-plugin" ? undefined : `/usr/bin/${name}`) },
    );
    expect(await manage(["prod", "startupwebapp_prod", "createsuperuser"], t.d)).toBe(1);
    expect(t.text()).toContain("manage prod: cannot open an ECS Exec session:");
    expect(t.text()).toContain(
      "session-manager-plugin: not found on PATH; the aws CLI needs it for ECS Exec sessions (https://docs.aws.amazon.com/",
    );
    expect(outputs).not.toHaveBeenCalled();
    expect(t.fake.calls).toEqual([]);
  });

  test("no running task to open a session in: exit 1 saying so", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0, runningTasks: [] });
    expect(await manage(["prod", "startupwebapp_prod", "--interactive", "showmigrations"], t.d)).toBe(1);
    expect(t.text()).toContain("service startupwebapp-prod-startupwebapp_prod has no running task to open a session in");
  });

  test("a failed session exits 1", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 }, { interactive: async () => 255 });
    expect(await manage(["prod", "startupwebapp_prod", "shell"], t.d)).toBe(1);
    expect(t.text()).toContain("the session ended with exit code 255");
  });

  test("usage errors name the field and print the usage", async () => {
    const t = deps({ pollsUntilStopped: 1, exitCode: 0 });
    expect(await manage(["prod", "startupwebapp_prod"], t.d)).toBe(1);
    expect(t.text()).toMatch(/^command: name the management command, such as migrate or createsuperuser\nusage: npm run manage -- /);
  });
});
