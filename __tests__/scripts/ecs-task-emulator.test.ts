/**
 * The one-off task path of `npm run migrate` / `npm run manage` through the real AWS CLI against a
 * throwaway moto on loopback (TLS, as in emulator mode): the service's task definition is read, the
 * task started with the command override (through the CLI's file:// input) and the service's network,
 * polled until STOPPED, its log stream paged, and on Ctrl-C stopped.
 *
 * moto never runs a container: every task it starts "exits" 0 after a few describe-tasks calls and
 * writes no log line. The lines here are put into the task's stream by the test, standing in for the
 * awslogs driver; a failing exit code, a real migration's output and ECS Exec cannot be shown here.
 */
import { spawn } from "node:child_process";
import { emulatorEnv, type EmulatorMode } from "../../scripts/lib/emulator";
import { detachedAwsCli, runOneOffTask, webTarget, type WebTarget } from "../../scripts/lib/ecs-task";
import { startMoto, type Emulator } from "../../scripts/lib/moto";
import type { AwsCli } from "../../scripts/lib/ses-credentials";
import { findOnPath } from "../../scripts/lib/tunnel";

const REGION = "us-east-1";
const DB = "startupwebapp_dev";
let emulator: Emulator;
let target: WebTarget;
const saved: Record<string, string | undefined> = {};

/** boto3 in moto's venv, against the emulator: the test's own setup and checks. */
function py(code: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(emulator.python.python, ["-c", `import boto3, json\n${code}`], {
      env: { ...process.env, AWS_DEFAULT_REGION: REGION },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.on("close", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`python failed (${code}): ${err.trim()}`))));
  });
}

// The real AWS CLI is what the commands run; without it on PATH there is nothing to show.
const withCli = findOnPath("aws") ? describe : describe.skip;

withCli("one-off task on moto through the AWS CLI", () => {
  beforeAll(async () => {
    emulator = await startMoto();
    const mode: EmulatorMode = { endpoint: emulator.endpoint, caBundle: emulator.caBundle, stateDir: emulator.dir };
    // What synthesize() does in emulator mode: the endpoint, CA and placeholder keys for every AWS CLI call.
    for (const [key, value] of Object.entries({ ...emulatorEnv(mode), AWS_DEFAULT_REGION: REGION })) {
      saved[key] = process.env[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    const ids = JSON.parse(
      await py(`
ec2 = boto3.client("ec2"); ecs = boto3.client("ecs"); logs = boto3.client("logs")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="backend", Description="backend", VpcId=vpc)["GroupId"]
ecs.create_cluster(clusterName="startupwebapp-dev")
logs.create_log_group(logGroupName="/ecs/startupwebapp-dev-${DB}")
container = {"name": "django", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp:1.0.0", "essential": True,
  "cpu": 256, "memory": 512, "environment": [{"name": "DATABASE_NAME", "value": "${DB}"}],
  "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/startupwebapp-dev-${DB}", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}}
for image in ("startupwebapp:1.0.0", "startupwebapp:1.1.0-rolled-back"):
    ecs.register_task_definition(family="startupwebapp-dev-${DB}", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{**container, "image": container["image"].split("/")[0] + "/" + image}])
# The service runs revision 1; revision 2 (a rolled-back deployment) is the family's newest.
ecs.create_service(cluster="startupwebapp-dev", serviceName="startupwebapp-dev-${DB}", taskDefinition="startupwebapp-dev-${DB}:1",
    desiredCount=0, launchType="FARGATE", networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg], "assignPublicIp": "ENABLED"}})
print(json.dumps({"subnet": subnet, "sg": sg}))
`),
    ) as { subnet: string; sg: string };
    target = webTarget("dev-web", REGION, {
      cluster_name: "startupwebapp-dev",
      tenant_services: {
        [DB]: {
          service_name: `startupwebapp-dev-${DB}`,
          task_definition_family: `startupwebapp-dev-${DB}`,
          container_name: "django",
          log_group_name: `/ecs/startupwebapp-dev-${DB}`,
          log_stream_prefix: "web",
        },
      },
      task_subnet_ids: [ids.subnet],
      task_security_group_ids: [ids.sg],
      task_assign_public_ip: true,
    });
  }, 120_000);

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await emulator?.stop();
  }, 30_000);

  /** The real AWS CLI runner; after run-task, writes two lines into the task's stream as the awslogs driver would. */
  function cliWithContainerLogs(lines: readonly string[]): { aws: AwsCli; commands: string[] } {
    const commands: string[] = [];
    const aws: AwsCli = async (args, input) => {
      commands.push(`${args[0]} ${args[1]}`);
      const result = await detachedAwsCli(args, input);
      if (args[1] === "run-task" && result.code === 0 && lines.length > 0) {
        const arn = (JSON.parse(result.stdout) as { tasks: { taskArn: string }[] }).tasks[0].taskArn;
        const stream = `web/django/${arn.slice(arn.lastIndexOf("/") + 1)}`;
        await py(`
import time
logs = boto3.client("logs")
logs.create_log_stream(logGroupName="/ecs/startupwebapp-dev-${DB}", logStreamName="${stream}")
logs.put_log_events(logGroupName="/ecs/startupwebapp-dev-${DB}", logStreamName="${stream}",
    logEvents=[{"timestamp": int(time.time() * 1000) + i, "message": m} for i, m in enumerate(json.loads('${JSON.stringify(lines)}'))])`);
      }
      return result;
    };
    return { aws, commands };
  }

  test("migrate's task runs the service's revision with the command override and the service's network, and its log lines are read", async () => {
    const { aws, commands } = cliWithContainerLogs(["Operations to perform:", "  No migrations to apply."]);
    const logs: string[] = [];
    const outcome = await runOneOffTask({
      target,
      database: DB,
      service: target.services.get(DB)!,
      command: ["python", "manage.py", "migrate"],
      startedBy: "npm-run-migrate",
      aws,
      log: () => undefined,
      onLogLine: (l) => logs.push(l),
      timeoutMs: 60_000,
      pollIntervalMs: 10,
    });
    expect(outcome).toMatchObject({ kind: "exited", exitCode: 0 });
    expect(logs).toEqual(["Operations to perform:", "  No migrations to apply."]);
    expect(commands.slice(0, 2)).toEqual(["ecs describe-services", "ecs run-task"]);
    // moto moves a task RUNNING -> ... -> STOPPED one step per describe-tasks: four polls.
    expect(commands.filter((c) => c === "ecs describe-tasks")).toHaveLength(4);

    const task = JSON.parse(
      await py(`
ecs = boto3.client("ecs")
t = ecs.describe_tasks(cluster="startupwebapp-dev", tasks=["${outcome.kind === "exited" ? outcome.taskArn : ""}"])["tasks"][0]
net = {d["name"]: d["value"] for d in t["attachments"][0]["details"]}
print(json.dumps({"def": t["taskDefinitionArn"].split("/")[-1], "startedBy": t["startedBy"], "launchType": t["launchType"],
  "overrides": t["overrides"]["containerOverrides"], "subnet": net["subnetId"]}))`),
    );
    expect(task).toEqual({
      def: `startupwebapp-dev-${DB}:1`,
      startedBy: "npm-run-migrate",
      launchType: "FARGATE",
      overrides: [{ name: "django", command: ["python", "manage.py", "migrate"] }],
      subnet: target.subnetIds[0],
    });
  }, 120_000);

  test("Ctrl-C while waiting stops the task in ECS", async () => {
    const { aws, commands } = cliWithContainerLogs([]);
    const controller = new AbortController();
    const counting: AwsCli = async (args, input) => {
      const result = await aws(args, input);
      if (args[1] === "describe-tasks") controller.abort();
      return result;
    };
    const outcome = await runOneOffTask({
      target,
      database: DB,
      service: target.services.get(DB)!,
      command: ["python", "manage.py", "check"],
      startedBy: "npm-run-manage",
      aws: counting,
      log: () => undefined,
      onLogLine: () => undefined,
      timeoutMs: 60_000,
      pollIntervalMs: 10,
      signal: controller.signal,
    });
    expect(outcome.kind).toBe("interrupted");
    expect(commands.at(-1)).toBe("ecs stop-task");
    const stopped = JSON.parse(
      await py(`
t = boto3.client("ecs").describe_tasks(cluster="startupwebapp-dev", tasks=["${outcome.kind === "interrupted" ? outcome.taskArn : ""}"])["tasks"][0]
print(json.dumps({"desired": t["desiredStatus"], "reason": t["stoppedReason"]}))`),
    );
    expect(stopped).toEqual({ desired: "STOPPED", reason: "interrupted by the operator (npm-run-manage)" });
  }, 120_000);
});
