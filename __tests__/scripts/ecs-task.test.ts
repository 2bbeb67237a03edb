/**
 * One-off ECS tasks and ECS Exec for `npm run migrate` / `npm run manage` (scripts/lib/ecs-task.ts),
 * against a fake AWS CLI that answers with canned JSON: the exact calls, the bounded wait, log paging,
 * stop-task on Ctrl-C, and the checks of the web stack's outputs and of the command line.
 */
import {
  execCommandArgs,
  logReader,
  missingExecTools,
  parseManageArgs,
  parseMigrateArgs,
  runOneOffTask,
  selectDatabases,
  webTarget,
  WEB_OUTPUTS,
  WebOutputsError,
  type OneOffTaskOptions,
  type WebTarget,
} from "../../scripts/lib/ecs-task";
import { UsageError } from "../../scripts/lib/operator/cli";
import { fakeAws, fakeClock, TASK_ARN, webOutputs } from "./fake-ecs";

const target = (): WebTarget => webTarget("prod-web", "us-east-1", webOutputs());

describe("webTarget: the web stack's outputs against the contract", () => {
  test("reads cluster, tenant services, subnets, security groups and the public IP setting", () => {
    const t = target();
    expect(t.clusterName).toBe("startupwebapp-prod");
    expect([...t.services.keys()]).toEqual(["startupwebapp_prod", "healthtech_experiment"]);
    expect(t.services.get("healthtech_experiment")).toEqual({
      serviceName: "startupwebapp-prod-healthtech_experiment",
      taskDefinitionFamily: "startupwebapp-prod-healthtech_experiment",
      containerName: "django",
      logGroupName: "/ecs/startupwebapp-prod-healthtech_experiment",
      logStreamPrefix: "web",
    });
    expect(t.subnetIds).toEqual(["subnet-0a", "subnet-0b"]);
    expect(t.securityGroupIds).toEqual(["sg-0backend"]);
    expect(t.assignPublicIp).toBe(true);
  });

  test("every missing or misshapen output is reported at once, each by its name", () => {
    const outputs = webOutputs();
    delete outputs[WEB_OUTPUTS.clusterName];
    outputs[WEB_OUTPUTS.taskAssignPublicIp] = "yes";
    (outputs[WEB_OUTPUTS.tenantServices] as Record<string, Record<string, unknown>>).startupwebapp_prod.container_name = "";
    let error: unknown;
    try {
      webTarget("prod-web", "us-east-1", outputs);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WebOutputsError);
    expect((error as WebOutputsError).problems).toEqual([
      "prod-web output cluster_name: must be a non-empty string (got nothing)",
      'prod-web output task_assign_public_ip: must be true or false (got "yes")',
      'prod-web output tenant_services.startupwebapp_prod.container_name: must be a non-empty string (got "")',
    ]);
  });
});

describe("command line", () => {
  test("migrate takes the environment, any tenant databases and --timeout in minutes", () => {
    expect(parseMigrateArgs(["prod"])).toEqual({ environment: "prod", databases: [], timeoutMinutes: 30 });
    expect(parseMigrateArgs(["prod", "healthtech_experiment", "--timeout", "5"])).toEqual({
      environment: "prod",
      databases: ["healthtech_experiment"],
      timeoutMinutes: 5,
    });
    expect(parseMigrateArgs(["--timeout=90", "dev"]).timeoutMinutes).toBe(90);
  });

  test.each([
    [[], /^environment: name it first/],
    [["prod", "--timeout", "0"], /^--timeout: must be a whole number of minutes from 1 to 720 \(got 0\)/],
    [["prod", "--timeout"], /^--timeout: .*\(got nothing\)/],
    [["prod", "--yes"], /^unknown option --yes \(allowed: --timeout MINUTES\)/],
    [["prod", "Shop-DB"], /^database: must be a tenant database name, .* \(got Shop-DB\)/],
    [["prod", "shop", "shop"], /^database: shop is named twice/],
  ])("migrate %j is refused naming the field", (argv, message) => {
    expect(() => parseMigrateArgs(argv)).toThrow(UsageError);
    expect(() => parseMigrateArgs(argv)).toThrow(message);
  });

  test("manage: every word from the command's name on is the command's, flags included", () => {
    expect(parseManageArgs(["prod", "shop", "clearsessions", "--verbosity", "2"])).toEqual({
      environment: "prod",
      database: "shop",
      command: ["clearsessions", "--verbosity", "2"],
      interactive: false,
      timeoutMinutes: 30,
    });
    expect(parseManageArgs(["prod", "--interactive", "shop", "--timeout", "3", "showmigrations", "--interactive"])).toMatchObject({
      command: ["showmigrations", "--interactive"],
      interactive: true,
      timeoutMinutes: 3,
    });
  });

  test.each(["createsuperuser", "changepassword", "shell", "dbshell"])("manage %s is interactive without --interactive", (command) => {
    expect(parseManageArgs(["prod", "shop", command]).interactive).toBe(true);
  });

  test.each([
    [["prod"], /^database: name the tenant database/],
    [["prod", "shop"], /^command: name the management command/],
    [["prod", "shop", "--noinput"], /^unknown option --noinput/],
    [["prod", "shop", "Migrate"], /^command: must start with a management command's name/],
  ])("manage %j is refused naming the field", (argv, message) => {
    expect(() => parseManageArgs(argv)).toThrow(message);
  });

  test("the default tenants are the web stack's services in the config's order; a named one without a service is refused", () => {
    const t = target();
    expect(selectDatabases(t, "prod-web", [], ["healthtech_experiment", "startupwebapp_prod"])).toEqual([
      "healthtech_experiment",
      "startupwebapp_prod",
    ]);
    expect(selectDatabases(t, "prod-web", ["startupwebapp_prod"], [])).toEqual(["startupwebapp_prod"]);
    expect(() => selectDatabases(t, "prod-web", ["fintech_experiment"], [])).toThrow(
      "database: fintech_experiment has no service in prod-web (its tenant_services: startupwebapp_prod, healthtech_experiment)",
    );
  });
});

function options(
  overrides: Partial<OneOffTaskOptions> & Pick<OneOffTaskOptions, "aws">,
): OneOffTaskOptions & { lines: string[]; logs: string[] } {
  const lines: string[] = [];
  const logs: string[] = [];
  const clock = fakeClock();
  const t = target();
  return {
    target: t,
    database: "healthtech_experiment",
    service: t.services.get("healthtech_experiment")!,
    command: ["python", "manage.py", "migrate"],
    startedBy: "npm-run-migrate",
    log: (l) => lines.push(l),
    onLogLine: (l) => logs.push(l),
    timeoutMs: 60_000,
    pollIntervalMs: 6000,
    now: clock.now,
    delay: clock.delay,
    lines,
    logs,
    ...overrides,
  };
}

describe("runOneOffTask", () => {
  test("runs the service's task definition with the command override and the service's network, then polls until STOPPED", async () => {
    const fake = fakeAws({ pollsUntilStopped: 2, exitCode: 0 });
    const opts = options({ aws: fake.aws });
    expect(await runOneOffTask(opts)).toEqual({ kind: "exited", taskArn: TASK_ARN, exitCode: 0 });

    expect(fake.calls[0].args).toEqual([
      "ecs",
      "describe-services",
      "--region",
      "us-east-1",
      "--cluster",
      "startupwebapp-prod",
      "--services",
      "startupwebapp-prod-healthtech_experiment",
      "--output",
      "json",
    ]);
    const run = fake.calls[1];
    expect(run.args).toEqual([
      "ecs",
      "run-task",
      "--region",
      "us-east-1",
      "--cluster",
      "startupwebapp-prod",
      "--task-definition",
      "arn:aws:ecs:us-east-1:123456789012:task-definition/startupwebapp-prod-healthtech_experiment:7",
      "--launch-type",
      "FARGATE",
      "--count",
      "1",
      "--started-by",
      "npm-run-migrate",
      "--network-configuration",
      JSON.stringify({
        awsvpcConfiguration: { subnets: ["subnet-0a", "subnet-0b"], securityGroups: ["sg-0backend"], assignPublicIp: "ENABLED" },
      }),
      "--overrides",
      "@input",
      "--output",
      "json",
    ]);
    // The command goes through a private file, never the arguments `ps` shows.
    expect(JSON.parse(run.input!)).toEqual({ containerOverrides: [{ name: "django", command: ["python", "manage.py", "migrate"] }] });
    const polls = fake.calls.filter((c) => c.args[1] === "describe-tasks");
    expect(polls).toHaveLength(2);
    expect(polls[0].args).toEqual([
      "ecs",
      "describe-tasks",
      "--region",
      "us-east-1",
      "--cluster",
      "startupwebapp-prod",
      "--tasks",
      TASK_ARN,
      "--output",
      "json",
    ]);
    expect(fake.calls.some((c) => c.args[1] === "stop-task")).toBe(false);
  });

  test("a task without a public IP setting asks ECS for none", async () => {
    const fake = fakeAws({ pollsUntilStopped: 1, exitCode: 0 });
    const outputs = webOutputs();
    outputs[WEB_OUTPUTS.taskAssignPublicIp] = false;
    const t = webTarget("dev-web", "us-east-1", outputs);
    await runOneOffTask(options({ aws: fake.aws, target: t }));
    const run = fake.calls.find((c) => c.args[1] === "run-task")!;
    expect(run.args[run.args.indexOf("--network-configuration") + 1]).toContain('"assignPublicIp":"DISABLED"');
  });

  test("the container's non-zero exit code is the outcome", async () => {
    const fake = fakeAws({ pollsUntilStopped: 1, exitCode: 1 });
    expect(await runOneOffTask(options({ aws: fake.aws }))).toEqual({ kind: "exited", taskArn: TASK_ARN, exitCode: 1 });
  });

  test("a container that never ran says why (no exit code)", async () => {
    const fake = fakeAws({ pollsUntilStopped: 1, exitCode: undefined });
    expect(await runOneOffTask(options({ aws: fake.aws }))).toEqual({
      kind: "failed",
      taskArn: TASK_ARN,
      reason: "the container django has no exit code (TaskFailedToStart: CannotPullContainerError: pull access denied)",
    });
  });

  test("ECS refusing the task (run-task failures) is a failure with ECS's reason", async () => {
    const fake = fakeAws({ pollsUntilStopped: 1, exitCode: 0, runTaskFailure: "RESOURCE:ENI" });
    expect(await runOneOffTask(options({ aws: fake.aws }))).toEqual({ kind: "failed", reason: "ECS did not start the task: RESOURCE:ENI" });
  });

  test("the wait is bounded: a task still running after the timeout is reported and left running", async () => {
    const fake = fakeAws({ pollsUntilStopped: Infinity, exitCode: 0 });
    const opts = options({ aws: fake.aws, timeoutMs: 60_000, pollIntervalMs: 6000 });
    expect(await runOneOffTask(opts)).toEqual({ kind: "timeout", taskArn: TASK_ARN });
    // Polls at 0, 6, ..., 60 s: eleven, then no more.
    expect(fake.calls.filter((c) => c.args[1] === "describe-tasks")).toHaveLength(11);
    expect(fake.calls.some((c) => c.args[1] === "stop-task")).toBe(false);
    expect(opts.lines.join("\n")).toMatch(/still RUNNING after 1 min; it is left running/);
    expect(opts.lines.join("\n")).toContain(
      `stop it:   aws ecs stop-task --region us-east-1 --cluster startupwebapp-prod --task ${TASK_ARN}`,
    );
  });

  test("Ctrl-C while waiting stops the task (stop-task) and the outcome is interrupted", async () => {
    const controller = new AbortController();
    const fake = fakeAws({ pollsUntilStopped: Infinity, exitCode: 0, onDescribe: (n) => n === 2 && controller.abort() });
    const opts = options({ aws: fake.aws, signal: controller.signal });
    expect(await runOneOffTask(opts)).toEqual({ kind: "interrupted", taskArn: TASK_ARN });
    const stop = fake.calls.filter((c) => c.args[1] === "stop-task");
    expect(stop.map((c) => c.args)).toEqual([
      [
        "ecs",
        "stop-task",
        "--region",
        "us-east-1",
        "--cluster",
        "startupwebapp-prod",
        "--task",
        TASK_ARN,
        "--reason",
        "interrupted by the operator (npm-run-migrate)",
        "--output",
        "json",
      ],
    ]);
    expect(fake.calls.filter((c) => c.args[1] === "describe-tasks")).toHaveLength(2);
  });

  test("Ctrl-C before the task starts starts nothing", async () => {
    const controller = new AbortController();
    controller.abort();
    const fake = fakeAws({ pollsUntilStopped: 1, exitCode: 0 });
    expect(await runOneOffTask(options({ aws: fake.aws, signal: controller.signal }))).toEqual({ kind: "interrupted" });
    expect(fake.calls).toEqual([]);
  });

  test("the container's log lines arrive from the task's awslogs stream, none twice", async () => {
    const fake = fakeAws({
      pollsUntilStopped: 3,
      exitCode: 0,
      logPages: [
        { events: ["Operations to perform:", "  Apply all migrations: admin, auth"], token: "f/1" },
        { events: ["Running migrations:\n  Applying auth.0012... OK"], token: "f/2" },
      ],
    });
    const opts = options({ aws: fake.aws });
    await runOneOffTask(opts);
    expect(opts.logs).toEqual([
      "Operations to perform:",
      "  Apply all migrations: admin, auth",
      "Running migrations:",
      "  Applying auth.0012... OK",
    ]);
    const reads = fake.calls.filter((c) => c.args[1] === "get-log-events");
    expect(reads[0].args).toEqual([
      "logs",
      "get-log-events",
      "--region",
      "us-east-1",
      "--log-group-name",
      "/ecs/startupwebapp-prod-healthtech_experiment",
      "--log-stream-name",
      "web/django/0123456789abcdef0123456789abcdef",
      "--start-from-head",
      "--output",
      "json",
    ]);
    expect(reads.slice(1).every((c) => c.args.includes("--next-token"))).toBe(true);
  });
});

describe("logReader", () => {
  test("pages with nextForwardToken until the token comes back unchanged; a stream not created yet has no lines", async () => {
    const fake = fakeAws({
      pollsUntilStopped: 1,
      exitCode: 0,
      streamMissingReads: 1,
      logPages: [
        { events: ["one"], token: "f/1" },
        { events: ["two", "three"], token: "f/2" },
        { events: [], token: "f/2" },
      ],
    });
    const reader = logReader(fake.aws, "us-east-1", "/ecs/x", "web/django/abc");
    const lines: string[] = [];
    expect(await reader.readNew((l) => lines.push(l))).toBe(0);
    expect(await reader.readNew((l) => lines.push(l))).toBe(3);
    expect(lines).toEqual(["one", "two", "three"]);
    const tokens = fake.calls.map((c) => (c.args.includes("--next-token") ? c.args[c.args.indexOf("--next-token") + 1] : null));
    expect(tokens).toEqual([null, null, "f/1", "f/2"]);
  });
});

describe("ECS Exec", () => {
  test("execute-command targets the task's container, interactive, with the manage.py command", () => {
    const t = target();
    expect(execCommandArgs(t, t.services.get("startupwebapp_prod")!, TASK_ARN, ["python", "manage.py", "createsuperuser"])).toEqual([
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
    ]);
  });

  test("a word ECS Exec would split or quote is refused without showing it", () => {
    const t = target();
    expect(() =>
      execCommandArgs(t, t.services.get("startupwebapp_prod")!, TASK_ARN, ["python", "manage.py", "shell", "-c", "print('x y')"]),
    ).toThrow(/plain words only .*word 5 is not; it is not shown/);
  });

  test("the session-manager-plugin is checked as the tunnel checks it, with where to get it", () => {
    expect(missingExecTools((name) => (name === "aws" ? "/usr/bin/aws" : undefined))).toEqual([
      "session-manager-plugin: not found on PATH; the aws CLI needs it for ECS Exec sessions (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)",
    ]);
    expect(missingExecTools(() => "/bin/x")).toEqual([]);
  });
});
