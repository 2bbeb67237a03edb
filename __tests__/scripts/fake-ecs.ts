/**
 * A fake AWS CLI for the ECS one-off task tests: answers describe-services, run-task, describe-tasks,
 * stop-task, list-tasks and logs get-log-events with canned JSON and records every call. Also the web
 * stack's outputs as its contract describes them, and a clock that moves only when waited on.
 */
import type { AwsCli } from "../../scripts/lib/ses-credentials";

export const TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/startupwebapp-prod/0123456789abcdef0123456789abcdef";

/** `<env>-web` outputs for two tenants, as `terraform output -json` values. */
export function webOutputs(databases: readonly string[] = ["startupwebapp_prod", "healthtech_experiment"]): Record<string, unknown> {
  return {
    cluster_name: "startupwebapp-prod",
    tenant_services: Object.fromEntries(
      databases.map((db) => [
        db,
        {
          service_name: `startupwebapp-prod-${db}`,
          task_definition_family: `startupwebapp-prod-${db}`,
          container_name: "django",
          log_group_name: `/ecs/startupwebapp-prod-${db}`,
          log_stream_prefix: "web",
        },
      ]),
    ),
    task_subnet_ids: ["subnet-0a", "subnet-0b"],
    task_security_group_ids: ["sg-0backend"],
    task_assign_public_ip: true,
  };
}

/** now() and a delay that advances it at once (resolving early, without advancing, once `signal` is aborted). */
export function fakeClock(): { now: () => number; delay: (ms: number, signal?: AbortSignal) => Promise<void> } {
  let t = 0;
  return {
    now: () => t,
    delay: async (ms, signal) => {
      if (!signal?.aborted) t += ms;
    },
  };
}

export interface FakeEcsOptions {
  /** The describe-tasks call (1-based, counted over the whole fake) that first answers STOPPED. */
  readonly pollsUntilStopped: number;
  /** The container's exit code once stopped; undefined: it never ran (CannotPullContainerError). */
  readonly exitCode: number | undefined;
  /** Exit code per task, in run-task order, instead of `exitCode`. */
  readonly exitCodes?: readonly (number | undefined)[];
  /** run-task answers with this failure and no task. */
  readonly runTaskFailure?: string;
  /** Pages get-log-events returns in turn; after the last, the token it was given (the end). */
  readonly logPages?: readonly { events: readonly string[]; token: string }[];
  /** This many first get-log-events calls fail with ResourceNotFoundException (no stream yet). */
  readonly streamMissingReads?: number;
  /** Called with the number of each describe-tasks call, before it answers (e.g. to press Ctrl-C). */
  readonly onDescribe?: (n: number) => void;
  /** list-tasks' answer. @default [TASK_ARN] */
  readonly runningTasks?: readonly string[];
}

export interface FakeEcs {
  readonly aws: AwsCli;
  readonly calls: { args: string[]; input?: string }[];
}

export function fakeAws(options: FakeEcsOptions): FakeEcs {
  const calls: FakeEcs["calls"] = [];
  let describes = 0;
  let sinceStart = 0;
  let runs = 0;
  let reads = 0;
  let page = 0;
  const ok = (body: unknown) => ({ code: 0, stdout: JSON.stringify(body), stderr: "" });
  const value = (args: readonly string[], flag: string) => args[args.indexOf(flag) + 1];
  const aws: AwsCli = async (args, input) => {
    calls.push({ args: [...args], ...(input === undefined ? {} : { input }) });
    const command = `${args[0]} ${args[1]}`;
    switch (command) {
      case "ecs describe-services": {
        const name = value(args, "--services");
        return ok({
          services: [
            { serviceName: name, status: "ACTIVE", taskDefinition: `arn:aws:ecs:us-east-1:123456789012:task-definition/${name}:7` },
          ],
          failures: [],
        });
      }
      case "ecs run-task":
        runs++;
        sinceStart = 0;
        if (options.runTaskFailure) return ok({ tasks: [], failures: [{ reason: options.runTaskFailure }] });
        return ok({ tasks: [{ taskArn: TASK_ARN, lastStatus: "PROVISIONING" }], failures: [] });
      case "ecs describe-tasks": {
        describes++;
        sinceStart++;
        options.onDescribe?.(describes);
        if (sinceStart < options.pollsUntilStopped)
          return ok({ tasks: [{ taskArn: TASK_ARN, lastStatus: "RUNNING", containers: [{ name: "django" }] }] });
        const exitCode = options.exitCodes ? options.exitCodes[runs - 1] : options.exitCode;
        return ok({
          tasks: [
            exitCode === undefined
              ? {
                  taskArn: TASK_ARN,
                  lastStatus: "STOPPED",
                  stopCode: "TaskFailedToStart",
                  stoppedReason: "Task failed to start",
                  containers: [{ name: "django", reason: "CannotPullContainerError: pull access denied" }],
                }
              : {
                  taskArn: TASK_ARN,
                  lastStatus: "STOPPED",
                  stopCode: "EssentialContainerExited",
                  containers: [{ name: "django", exitCode }],
                },
          ],
        });
      }
      case "ecs stop-task":
        return ok({ task: { taskArn: value(args, "--task"), desiredStatus: "STOPPED" } });
      case "ecs list-tasks":
        return ok({ taskArns: options.runningTasks ?? [TASK_ARN] });
      case "logs get-log-events": {
        reads++;
        if (reads <= (options.streamMissingReads ?? 0)) {
          return {
            code: 254,
            stdout: "",
            stderr:
              "An error occurred (ResourceNotFoundException) when calling the GetLogEvents operation: The specified log stream does not exist.",
          };
        }
        const given = args.includes("--next-token") ? value(args, "--next-token") : undefined;
        const next = options.logPages?.[page];
        if (next === undefined) return ok({ events: [], nextForwardToken: given ?? "f/0", nextBackwardToken: "b/0" });
        page++;
        return ok({
          events: next.events.map((message, i) => ({ timestamp: i, message, ingestionTime: i })),
          nextForwardToken: next.token,
          nextBackwardToken: "b/0",
        });
      }
      default:
        return { code: 2, stdout: "", stderr: `fake aws: no answer for ${command}` };
    }
  };
  return { aws, calls };
}
