/**
 * One-off ECS Fargate tasks for Django management commands (`npm run migrate`, `npm run manage`): a
 * task from a tenant service's own task definition, in the service's cluster, subnets and security
 * groups, with the container's command overridden; the wait for it to stop (bounded), its exit code,
 * and its log lines from CloudWatch Logs. Interactive commands (`createsuperuser`, `shell`) go through
 * ECS Exec into a running task of the service instead.
 *
 * Everything AWS is the `aws` CLI through an injectable runner (the AwsCli shape of
 * ses-credentials.ts), so tests need no AWS. In emulator mode (INFRA_AWS_ENDPOINT) synthesize() has
 * already exported the endpoint, CA bundle and placeholder credentials into process.env, which the
 * runner passes on.
 *
 * Nothing here prints a secret: a task's environment holds only names (the secret is read by the
 * task role), and the command override is never echoed (a management command's arguments could hold
 * one); it reaches the AWS CLI through a private temp file, not its arguments, which `ps` shows.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EventEmitter } from "node:events";
import { ConfigError } from "../../config/load";
import type { StartupWebAppConfig } from "../../config/schema";
import { WEB_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import { loadEnvironment, UsageError } from "./operator/cli";
import { OutputsUnavailable, readOutputs, type StackOutputs } from "./outputs";
import { AwsCliError, awsJson, realAwsCli, type AwsCli } from "./ses-credentials";
import { synthesize } from "./synth";
import { prepareTerraform } from "./terraform";
import { abortableDelay, missingSessionTools } from "./tunnel";

// ---------------------------------------------------------------- the web stack's outputs

/** The `<env>-web` outputs these commands read are the stack's declared names (stacks/startupwebapp/outputs.ts). */
export { WEB_OUTPUTS };

/** One tenant's Fargate service, as the web stack outputs it. */
export interface TenantService {
  readonly serviceName: string;
  readonly taskDefinitionFamily: string;
  readonly containerName: string;
  readonly logGroupName: string;
  /** The awslogs stream of a task is `<logStreamPrefix>/<containerName>/<task id>`. */
  readonly logStreamPrefix: string;
}

/** Where and how a tenant's one-off tasks run: the service's own cluster and network settings. */
export interface WebTarget {
  readonly region: string;
  readonly clusterName: string;
  /** By tenant database, in the order the web stack lists them. */
  readonly services: ReadonlyMap<string, TenantService>;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: boolean;
}

/** An output of the web stack that is missing or not of its contract's shape. */
export class WebOutputsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
    this.name = "WebOutputsError";
  }
}

/** The web stack's outputs checked against the contract; every problem is reported at once, each naming its output. */
export function webTarget(stack: string, region: string, outputs: StackOutputs): WebTarget {
  const problems: string[] = [];
  const got = (value: unknown): string => (value === undefined ? "nothing" : JSON.stringify(value));
  const str = (path: string, value: unknown): string => {
    if (typeof value === "string" && value !== "") return value;
    problems.push(`${stack} output ${path}: must be a non-empty string (got ${got(value)})`);
    return "";
  };
  const strings = (path: string, value: unknown): string[] => {
    if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "string" && v !== "")) return value as string[];
    problems.push(`${stack} output ${path}: must be a non-empty list of strings (got ${got(value)})`);
    return [];
  };

  const clusterName = str(WEB_OUTPUTS.clusterName, outputs[WEB_OUTPUTS.clusterName]);
  const subnetIds = strings(WEB_OUTPUTS.taskSubnetIds, outputs[WEB_OUTPUTS.taskSubnetIds]);
  const securityGroupIds = strings(WEB_OUTPUTS.taskSecurityGroupIds, outputs[WEB_OUTPUTS.taskSecurityGroupIds]);
  const assign = outputs[WEB_OUTPUTS.taskAssignPublicIp];
  if (typeof assign !== "boolean")
    problems.push(`${stack} output ${WEB_OUTPUTS.taskAssignPublicIp}: must be true or false (got ${got(assign)})`);

  const services = new Map<string, TenantService>();
  const raw = outputs[WEB_OUTPUTS.tenantServices];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    problems.push(`${stack} output ${WEB_OUTPUTS.tenantServices}: must be an object of tenant database -> service (got ${got(raw)})`);
  } else {
    for (const [database, value] of Object.entries(raw as Record<string, unknown>)) {
      const path = `${WEB_OUTPUTS.tenantServices}.${database}`;
      const service = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
      services.set(database, {
        serviceName: str(`${path}.service_name`, service.service_name),
        taskDefinitionFamily: str(`${path}.task_definition_family`, service.task_definition_family),
        containerName: str(`${path}.container_name`, service.container_name),
        logGroupName: str(`${path}.log_group_name`, service.log_group_name),
        logStreamPrefix: str(`${path}.log_stream_prefix`, service.log_stream_prefix),
      });
    }
  }
  if (problems.length > 0) throw new WebOutputsError(problems);
  return { region, clusterName, services, subnetIds, securityGroupIds, assignPublicIp: assign === true };
}

/** Something an operator can act on (a service with no task, a stack not deployed): printed without a stack trace. */
export class EcsTaskError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EcsTaskError";
  }
}

// ---------------------------------------------------------------- the AWS CLI

/** The real AWS CLI, each call in a process group of its own: a Ctrl-C never kills a run-task half-way. */
export const detachedAwsCli: AwsCli = realAwsCli({ detached: true });

// ---------------------------------------------------------------- one-off tasks

/** `python manage.py <command...>`: how the image runs Django's management commands. */
export const manageCommand = (command: readonly string[]): string[] => ["python", "manage.py", ...command];

/** The task id: the last part of its ARN (`arn:aws:ecs:...:task/<cluster>/<id>`). */
export const taskId = (taskArn: string): string => taskArn.slice(taskArn.lastIndexOf("/") + 1);

/** The awslogs stream of the task's container. */
export const logStreamName = (service: TenantService, taskArn: string): string =>
  `${service.logStreamPrefix}/${service.containerName}/${taskId(taskArn)}`;

export interface OneOffTaskOptions {
  readonly target: WebTarget;
  /** The tenant database, for messages. */
  readonly database: string;
  readonly service: TenantService;
  /** The container's command (`python manage.py migrate`); never printed. */
  readonly command: readonly string[];
  /** What the task is for, in ECS's startedBy (at most 36 characters) and in the stop reason. */
  readonly startedBy: string;
  readonly aws: AwsCli;
  /** Progress for the operator. */
  readonly log: (line: string) => void;
  /** Each line the container wrote, as it arrives. */
  readonly onLogLine: (line: string) => void;
  /** Upper bound on the wait for the task to stop. */
  readonly timeoutMs: number;
  /** @default 6000 */
  readonly pollIntervalMs?: number;
  /** Aborted on Ctrl-C: the task is stopped (`aws ecs stop-task`) and the outcome is `interrupted`. */
  readonly signal?: AbortSignal;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout that resolves early when `signal` aborts */
  readonly delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export type TaskOutcome =
  | { readonly kind: "exited"; readonly taskArn: string; readonly exitCode: number }
  /** The container never ran to an exit code (image pull failed, out of memory, stopped by someone). */
  | { readonly kind: "failed"; readonly taskArn?: string; readonly reason: string }
  /** Still running after the bound; left running on purpose (see runOneOffTask). */
  | { readonly kind: "timeout"; readonly taskArn: string }
  | { readonly kind: "interrupted"; readonly taskArn?: string };

interface EcsTask {
  readonly taskArn: string;
  readonly lastStatus?: string;
  readonly stopCode?: string;
  readonly stoppedReason?: string;
  readonly containers?: readonly { name?: string; exitCode?: number; reason?: string }[];
}

interface EcsFailure {
  readonly arn?: string;
  readonly reason?: string;
  readonly detail?: string;
}

/** The service's current task definition (its deployed revision, not the family's newest, which a rolled-back deployment may have left). */
export async function serviceTaskDefinition(aws: AwsCli, target: WebTarget, service: TenantService): Promise<string> {
  const described = await awsJson<{ services?: { taskDefinition?: string; status?: string }[]; failures?: EcsFailure[] }>(aws, [
    "ecs",
    "describe-services",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--services",
    service.serviceName,
  ]);
  const found = described.services?.find((s) => s.status !== "INACTIVE");
  if (!found?.taskDefinition) {
    const why = described.failures?.[0]?.reason ?? "not found";
    throw new EcsTaskError(`service ${service.serviceName} in cluster ${target.clusterName}: ${why}; deploy the web stack first`);
  }
  return found.taskDefinition;
}

/** The run-task arguments; the overrides (the command) come through `@input`. */
export function runTaskArgs(target: WebTarget, taskDefinition: string, startedBy: string): string[] {
  const network = {
    awsvpcConfiguration: {
      subnets: target.subnetIds,
      securityGroups: target.securityGroupIds,
      // Without a public IP a task in a public subnet (no NAT) cannot pull its image or read its secret.
      assignPublicIp: target.assignPublicIp ? "ENABLED" : "DISABLED",
    },
  };
  return [
    "ecs",
    "run-task",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--task-definition",
    taskDefinition,
    "--launch-type",
    "FARGATE",
    "--count",
    "1",
    "--started-by",
    startedBy,
    "--network-configuration",
    JSON.stringify(network),
    "--overrides",
    "@input",
  ];
}

/** The container override: only the command changes; environment, secrets and role stay the service's. */
export const commandOverride = (service: TenantService, command: readonly string[]): string =>
  JSON.stringify({ containerOverrides: [{ name: service.containerName, command }] });

/**
 * Runs `command` as a one-off task of the tenant's service and waits for it to stop, passing on its
 * log lines as they arrive. Ctrl-C (signal) stops the task. On timeout the task is left running: a
 * migration stopped half-way leaves a database between two states, while the wait is only ours; the
 * log says how to follow and how to stop it.
 */
export async function runOneOffTask(opts: OneOffTaskOptions): Promise<TaskOutcome> {
  const { target, service, aws, log, signal } = opts;
  if (signal?.aborted) return { kind: "interrupted" };

  const taskDefinition = await serviceTaskDefinition(aws, target, service);
  log(`${opts.database}: starting a one-off task of ${service.serviceName} (${taskDefinition.slice(taskDefinition.lastIndexOf("/") + 1)})`);
  const started = await awsJson<{ tasks?: EcsTask[]; failures?: EcsFailure[] }>(
    aws,
    runTaskArgs(target, taskDefinition, opts.startedBy),
    commandOverride(service, opts.command),
  );
  const taskArn = started.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const failure = started.failures?.[0];
    return {
      kind: "failed",
      reason: `ECS did not start the task: ${failure?.reason ?? "no task and no reason given"}${failure?.detail ? ` (${failure.detail})` : ""}`,
    };
  }
  const logs = logReader(aws, target.region, service.logGroupName, logStreamName(service, taskArn));
  log(`${opts.database}: task ${taskId(taskArn)} started; logs: ${service.logGroupName} ${logStreamName(service, taskArn)}`);

  try {
    return await waitForTask(opts, taskArn, logs);
  } catch (err) {
    // A failed poll (throttling, expired credentials) ends our wait, not the task: say where it is.
    log(`${opts.database}: lost track of task ${taskId(taskArn)}, which may still be running:`);
    followAndStopHints(opts, taskArn).forEach((line) => log(line));
    throw err;
  }
}

function followAndStopHints(opts: OneOffTaskOptions, taskArn: string): string[] {
  const { service, target } = opts;
  return [
    `  follow it: aws logs tail ${service.logGroupName} --region ${target.region} --follow --log-stream-names ${logStreamName(service, taskArn)}`,
    `  stop it:   ${stopTaskArgs(target, taskArn, opts.startedBy).join(" ")}`,
  ];
}

async function waitForTask(opts: OneOffTaskOptions, taskArn: string, logs: ReturnType<typeof logReader>): Promise<TaskOutcome> {
  const { target, service, aws, log, signal } = opts;
  const now = opts.now ?? Date.now;
  const delay = opts.delay ?? abortableDelay;
  const pollIntervalMs = opts.pollIntervalMs ?? 6000;
  const deadline = now() + opts.timeoutMs;
  for (;;) {
    if (signal?.aborted) return interrupt(opts, taskArn);
    const task = await describeTask(aws, target, taskArn);
    await logs.readNew(opts.onLogLine);
    if (task.lastStatus === "STOPPED") {
      // awslogs delivers the last lines shortly after the container exits: read once more.
      await logs.readNew(opts.onLogLine);
      const container = task.containers?.find((c) => c.name === service.containerName);
      if (typeof container?.exitCode === "number") return { kind: "exited", taskArn, exitCode: container.exitCode };
      const reason = [task.stopCode, container?.reason ?? task.stoppedReason].filter(Boolean).join(": ");
      return {
        kind: "failed",
        taskArn,
        reason: `the container ${service.containerName} has no exit code (${reason || "no reason given"})`,
      };
    }
    if (now() >= deadline) {
      log(
        `${opts.database}: task ${taskId(taskArn)} still ${task.lastStatus ?? "running"} after ${Math.round(opts.timeoutMs / 60_000)} min; ` +
          "it is left running (stopping a migration half-way is worse than waiting).",
      );
      followAndStopHints(opts, taskArn).forEach((line) => log(line));
      return { kind: "timeout", taskArn };
    }
    await delay(pollIntervalMs, signal);
  }
}

async function describeTask(aws: AwsCli, target: WebTarget, taskArn: string): Promise<EcsTask> {
  const described = await awsJson<{ tasks?: EcsTask[]; failures?: EcsFailure[] }>(aws, [
    "ecs",
    "describe-tasks",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--tasks",
    taskArn,
  ]);
  const task = described.tasks?.[0];
  if (!task)
    throw new EcsTaskError(`task ${taskId(taskArn)}: ${described.failures?.[0]?.reason ?? "not found"} in cluster ${target.clusterName}`);
  return task;
}

export function stopTaskArgs(target: WebTarget, taskArn: string, startedBy: string): string[] {
  return [
    "aws",
    "ecs",
    "stop-task",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--task",
    taskArn,
    "--reason",
    `interrupted by the operator (${startedBy})`,
  ];
}

/** Ctrl-C: stops the task (never with the abort signal: this is the cleanup it asked for). */
async function interrupt(opts: OneOffTaskOptions, taskArn: string): Promise<TaskOutcome> {
  const args = stopTaskArgs(opts.target, taskArn, opts.startedBy);
  opts.log(`${opts.database}: interrupted; stopping task ${taskId(taskArn)}`);
  const result = await opts
    .aws([...args.slice(1), "--output", "json"])
    .catch((err: Error) => ({ code: 1, stdout: "", stderr: err.message }));
  if (result.code !== 0) opts.log(`could not stop the task: ${(result.stderr || result.stdout).trim()}\n  run: ${args.join(" ")}`);
  return { kind: "interrupted", taskArn };
}

/** At most this many pages per read: a bound on one read, not on the log (the next poll goes on from there). */
const MAX_LOG_PAGES = 50;

/**
 * Reads a log stream forward from its head, page by page (get-log-events returns at most 1 MB or
 * 10,000 events; the end is reached when the forward token comes back unchanged). A stream that does
 * not exist yet (the container has not started) has no lines.
 */
export function logReader(
  aws: AwsCli,
  region: string,
  group: string,
  stream: string,
): { readNew(onLine: (line: string) => void): Promise<number> } {
  let token: string | undefined;
  return {
    async readNew(onLine) {
      let lines = 0;
      for (let page = 0; page < MAX_LOG_PAGES; page++) {
        const args = [
          "logs",
          "get-log-events",
          "--region",
          region,
          "--log-group-name",
          group,
          "--log-stream-name",
          stream,
          "--start-from-head",
        ];
        const result = await aws([...args, ...(token ? ["--next-token", token] : []), "--output", "json"]);
        if (result.code !== 0) {
          if (/ResourceNotFoundException/.test(result.stderr)) return lines;
          throw new AwsCliError(args, result);
        }
        const response = JSON.parse(result.stdout || "{}") as { events?: { message?: string }[]; nextForwardToken?: string };
        for (const event of response.events ?? []) {
          for (const line of (event.message ?? "").replace(/\n$/, "").split("\n")) onLine(line);
          lines++;
        }
        const next = response.nextForwardToken;
        const done = next === undefined || next === token;
        token = next ?? token;
        if (done) return lines;
      }
      return lines;
    },
  };
}

// ---------------------------------------------------------------- ECS Exec (interactive)

/** Commands that ask questions (a password, a Python prompt): they need a terminal, so they run through ECS Exec. */
export const INTERACTIVE_COMMANDS: readonly string[] = ["createsuperuser", "changepassword", "shell", "dbshell"];

/** What ECS Exec needs on this machine: the tunnel's check (scripts/lib/tunnel.ts); one line per missing tool. */
export function missingExecTools(find?: (name: string) => string | undefined): string[] {
  return missingSessionTools("ECS Exec sessions", find);
}

/** A running task of the tenant's service, for ECS Exec; throws when the service runs none. */
export async function runningTask(aws: AwsCli, target: WebTarget, service: TenantService): Promise<string> {
  const listed = await awsJson<{ taskArns?: string[] }>(aws, [
    "ecs",
    "list-tasks",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--service-name",
    service.serviceName,
    "--desired-status",
    "RUNNING",
  ]);
  const arn = listed.taskArns?.[0];
  if (!arn) {
    throw new EcsTaskError(
      `service ${service.serviceName} has no running task to open a session in; check its desired count (npm run status) or run the command as a one-off task without --interactive`,
    );
  }
  return arn;
}

/**
 * A word ECS Exec passes on unchanged. Its `--command` is one string the SSM agent splits into words
 * by its own rules, so words that would need quoting are refused rather than guessed at.
 */
export const PLAIN_WORD = /^[\w@%+=:,./-]+$/;

/** `aws ecs execute-command ... --interactive --command "python manage.py ..."` in the task's container. */
export function execCommandArgs(target: WebTarget, service: TenantService, taskArn: string, command: readonly string[]): string[] {
  const odd = command.find((w) => !PLAIN_WORD.test(w));
  if (odd !== undefined) {
    throw new EcsTaskError(
      `an interactive command takes plain words only (letters, digits, @%+=:,./-_), for ECS Exec to pass them unchanged (word ${command.indexOf(odd) + 1} is not; it is not shown, it could hold a secret)`,
    );
  }
  return [
    "aws",
    "ecs",
    "execute-command",
    "--region",
    target.region,
    "--cluster",
    target.clusterName,
    "--task",
    taskArn,
    "--container",
    service.containerName,
    "--interactive",
    "--command",
    command.join(" "),
  ];
}

// ---------------------------------------------------------------- command line

/** Django's database names as the tenants schema allows them. */
const DATABASE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** A Django management command's name (`migrate`, `createsuperuser`, `clearsessions`). */
const COMMAND_NAME = /^[a-z_][a-z0-9_]*$/;
/** @default for --timeout, in minutes: long enough for a large data migration, short enough to notice a hung one. */
export const DEFAULT_TIMEOUT_MINUTES = 30;
const MAX_TIMEOUT_MINUTES = 720;

export interface MigrateArgs {
  readonly environment: string;
  /** Empty: every tenant service of the web stack. */
  readonly databases: readonly string[];
  readonly timeoutMinutes: number;
}

export interface ManageArgs {
  readonly environment: string;
  readonly database: string;
  /** The management command and its arguments, as given (never printed). */
  readonly command: readonly string[];
  /** Through ECS Exec in a running task: `--interactive`, or a command that asks questions. */
  readonly interactive: boolean;
  readonly timeoutMinutes: number;
}

function parseTimeout(value: string | undefined): number {
  const minutes = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || minutes < 1 || minutes > MAX_TIMEOUT_MINUTES) {
    throw new UsageError(`--timeout: must be a whole number of minutes from 1 to ${MAX_TIMEOUT_MINUTES} (got ${value ?? "nothing"})`);
  }
  return minutes;
}

function checkDatabase(name: string): string {
  if (!DATABASE_NAME.test(name)) {
    throw new UsageError(`database: must be a tenant database name, a lowercase identifier of at most 63 characters (got ${name})`);
  }
  return name;
}

const noEnvironment = () => new UsageError("environment: name it first: the base name of a config file, such as prod for config/prod.json");

/** `<env> [database...] [--timeout MINUTES]`; every error names the field. */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs {
  const positional: string[] = [];
  let timeoutMinutes = DEFAULT_TIMEOUT_MINUTES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--timeout") timeoutMinutes = parseTimeout(argv[++i]);
    else if (arg.startsWith("--timeout=")) timeoutMinutes = parseTimeout(arg.slice("--timeout=".length));
    else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg} (allowed: --timeout MINUTES)`);
    else positional.push(arg);
  }
  const [environment, ...databases] = positional;
  if (!environment) throw noEnvironment();
  const seen = new Set<string>();
  for (const database of databases) {
    checkDatabase(database);
    if (seen.has(database)) throw new UsageError(`database: ${database} is named twice`);
    seen.add(database);
  }
  return { environment, databases, timeoutMinutes };
}

/**
 * `<env> <database> [--interactive] [--timeout MINUTES] <command...>`: our options come before the
 * command's name; from the name on, every word is the management command's (`--noinput` included).
 */
export function parseManageArgs(argv: readonly string[]): ManageArgs {
  const positional: string[] = [];
  let interactive = false;
  let timeoutMinutes = DEFAULT_TIMEOUT_MINUTES;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("-")) {
      if (positional.length === 2) break; // the command's name: the rest is the command's
      positional.push(arg);
    } else if (arg === "--interactive") interactive = true;
    else if (arg === "--timeout") timeoutMinutes = parseTimeout(argv[++i]);
    else if (arg.startsWith("--timeout=")) timeoutMinutes = parseTimeout(arg.slice("--timeout=".length));
    else throw new UsageError(`unknown option ${arg} (allowed before the command: --interactive, --timeout MINUTES)`);
  }
  const [environment, database] = positional;
  if (!environment) throw noEnvironment();
  if (!database) throw new UsageError("database: name the tenant database the command runs against");
  checkDatabase(database);
  const command = argv.slice(i);
  // Only the name is shown: it is a fixed word, while the arguments after it could hold a secret.
  if (command.length === 0) throw new UsageError("command: name the management command, such as migrate or createsuperuser");
  if (!COMMAND_NAME.test(command[0]))
    throw new UsageError(`command: must start with a management command's name, such as migrate or createsuperuser`);
  return { environment, database, command, interactive: interactive || INTERACTIVE_COMMANDS.includes(command[0]), timeoutMinutes };
}

/** The tenants to migrate: those named (each must have a service), else every tenant service in config order. */
export function selectDatabases(target: WebTarget, stack: string, named: readonly string[], configured: readonly string[]): string[] {
  const have = [...target.services.keys()];
  for (const database of named) {
    if (!target.services.has(database)) {
      throw new UsageError(`database: ${database} has no service in ${stack} (its ${WEB_OUTPUTS.tenantServices}: ${have.join(", ")})`);
    }
  }
  if (named.length > 0) return [...named];
  const rank = (d: string) => (configured.includes(d) ? configured.indexOf(d) : configured.length);
  return [...have].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

// ---------------------------------------------------------------- the commands' shared parts

/** Everything the commands touch outside this module, injected so tests need no AWS, terraform or terminal. */
export interface TaskCommandDeps {
  /** Progress, outcomes and the container's log lines. */
  readonly write: (line: string) => void;
  /** @default detachedAwsCli */
  readonly aws?: AwsCli;
  /** The web stack's deployed outputs. @default readWebOutputs (synthesize, then `terraform output`) */
  readonly webOutputs?: (config: StartupWebAppConfig, stack: string) => Promise<StackOutputs>;
  /** Where SIGINT and SIGTERM arrive. @default process */
  readonly signals?: Pick<EventEmitter, "on" | "off">;
  readonly now?: () => number;
  readonly delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default 6000 */
  readonly pollIntervalMs?: number;
  /** PATH lookup. @default findOnPath */
  readonly findExecutable?: (name: string) => string | undefined;
  /** Runs a command attached to this terminal; resolves with its exit code. @default spawnInteractive */
  readonly interactive?: (argv: readonly string[]) => Promise<number>;
}

export interface WebContext {
  readonly config: StartupWebAppConfig;
  /** `<env>-web` */
  readonly stack: string;
  readonly target: WebTarget;
}

/** The environment's config and its web stack's target; UsageError for a wrong environment. */
export async function loadWebContext(environment: string, deps: TaskCommandDeps): Promise<WebContext> {
  const config = loadEnvironment(environment);
  if (config.application !== "startupwebapp") {
    throw new UsageError(
      `environment: ${environment} is a ${config.application} environment; migrate and manage run StartupWebApp's Django tenants`,
    );
  }
  const stack = `${config.environment}-web`;
  deps.write(`reading the outputs of ${stack} ...`);
  const outputs = await (deps.webOutputs ?? readWebOutputs)(config, stack);
  return { config, stack, target: webTarget(stack, config.region, outputs) };
}

/**
 * The web stack's outputs through its real backend (synthesized into a temp dir, as the tunnel reads
 * its stacks'). In emulator mode synthesize() also exports the endpoint for the AWS CLI calls after it.
 */
export async function readWebOutputs(config: StartupWebAppConfig, stackName: string): Promise<StackOutputs> {
  const outdir = mkdtempSync(join(tmpdir(), "infra-ecs-task-"));
  try {
    const stack = synthesize(outdir, [config]).find((s) => s.name === stackName);
    if (!stack)
      throw new EcsTaskError(`${stackName} was not synthesized: ${config.environment} has no web layer (the web section of its config)`);
    return await readOutputs(stack, prepareTerraform());
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Errors that are an operator's to fix and need no stack trace. */
export function isOperatorError(err: unknown): err is Error {
  return (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof OutputsUnavailable ||
    err instanceof WebOutputsError ||
    err instanceof EcsTaskError ||
    err instanceof AwsCliError
  );
}

/**
 * Ctrl-C (SIGINT, SIGTERM) as an AbortSignal for a one-off task: the first aborts (the task is then
 * stopped); later ones are only acknowledged, since quitting before stop-task would leave it running.
 */
export function interruptOn(
  signals: Pick<EventEmitter, "on" | "off">,
  write: (line: string) => void,
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) write("still stopping the one-off task (one AWS call), please wait");
    else {
      controller.abort();
      write("interrupted: stopping the one-off task, then exiting (no further tenant starts)");
    }
  };
  signals.on("SIGINT", handler);
  signals.on("SIGTERM", handler);
  return {
    signal: controller.signal,
    dispose: () => {
      signals.off("SIGINT", handler);
      signals.off("SIGTERM", handler);
    },
  };
}

/**
 * Runs `argv` on this terminal (stdin, stdout and stderr inherited). The terminal's Ctrl-C belongs to
 * the session then (the session-manager-plugin passes it to the remote command), so this process
 * ignores SIGINT meanwhile instead of dying under it.
 */
export function spawnInteractive(argv: readonly string[]): Promise<number> {
  const ignore = (): void => undefined;
  process.on("SIGINT", ignore);
  return new Promise<number>((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: "inherit", env: { ...process.env, AWS_PAGER: "" } });
    child.once("error", (err) => {
      process.stderr.write(`could not run ${argv[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.once("close", (code) => resolve(code ?? 1));
  }).finally(() => process.off("SIGINT", ignore));
}

/** One line for a task's outcome. */
export function describeOutcome(outcome: TaskOutcome, timeoutMinutes: number): string {
  switch (outcome.kind) {
    case "exited":
      return outcome.exitCode === 0 ? "done (exit code 0)" : `FAILED: exit code ${outcome.exitCode}`;
    case "failed":
      return `FAILED: ${outcome.reason}`;
    case "timeout":
      return `FAILED: timed out after ${timeoutMinutes} min, task ${taskId(outcome.taskArn)} left running`;
    case "interrupted":
      return outcome.taskArn ? `interrupted, task ${taskId(outcome.taskArn)} stopped` : "interrupted before a task started";
  }
}
