/**
 * npm run manage -- <env> <database> [--interactive] [--timeout MINUTES] <command...>
 *
 * Runs `python manage.py <command...>` for one tenant database. Commands that ask questions
 * (createsuperuser, changepassword, shell, dbshell) and any command with --interactive run through
 * ECS Exec in a running task of the tenant's service, on this terminal (needs the
 * session-manager-plugin, checked first as the tunnel checks it). Every other command runs as a
 * one-off Fargate task like `npm run migrate`'s: its log lines, its exit code, Ctrl-C stops it.
 * Exit 0 when the command exited 0, 1 otherwise, 130 on Ctrl-C of a one-off task. Only the command's
 * name is ever printed, never its arguments (they could hold a secret).
 */
import {
  DEFAULT_TIMEOUT_MINUTES,
  describeOutcome,
  detachedAwsCli,
  execCommandArgs,
  interruptOn,
  isOperatorError,
  loadWebContext,
  manageCommand,
  missingExecTools,
  parseManageArgs,
  runningTask,
  runOneOffTask,
  spawnInteractive,
  taskId,
  type ManageArgs,
  type TaskCommandDeps,
  type TaskOutcome,
  type WebContext,
} from "./lib/ecs-task";
import { UsageError } from "./lib/operator/cli";

const USAGE =
  "usage: npm run manage -- <env> <database> [--interactive] [--timeout MINUTES] <command...>\n" +
  `  e.g. npm run manage -- prod <database> createsuperuser   (interactive, ECS Exec); one-off tasks wait ${DEFAULT_TIMEOUT_MINUTES} min at most`;

export const STARTED_BY = "npm-run-manage";

export async function manage(argv: readonly string[], deps: TaskCommandDeps): Promise<number> {
  const { write } = deps;
  let args: ManageArgs;
  let context: WebContext;
  try {
    args = parseManageArgs(argv);
    if (args.interactive) {
      const missing = missingExecTools(deps.findExecutable);
      if (missing.length > 0) {
        write(`manage ${args.environment}: cannot open an ECS Exec session:\n${missing.map((m) => `  - ${m}`).join("\n")}`);
        return 1;
      }
    }
    context = await loadWebContext(args.environment, deps);
    if (!context.target.services.has(args.database)) {
      throw new UsageError(
        `database: ${args.database} has no service in ${context.stack} (its tenant_services: ${[...context.target.services.keys()].join(", ")})`,
      );
    }
  } catch (err) {
    if (!isOperatorError(err)) throw err;
    write(err instanceof UsageError ? `${err.message}\n${USAGE}` : err.message);
    return 1;
  }
  // The name only: the arguments after it could hold a secret.
  const shown = `python manage.py ${args.command[0]}${args.command.length > 1 ? " (arguments not shown)" : ""}`;
  try {
    return args.interactive ? await viaExec(args, context, shown, deps) : await asOneOffTask(args, context, shown, deps);
  } catch (err) {
    if (!isOperatorError(err)) throw err;
    write(`manage ${context.config.environment}: ${err.message}`);
    return 1;
  }
}

/** ECS Exec into a running task of the service, attached to this terminal. */
async function viaExec(args: ManageArgs, context: WebContext, shown: string, deps: TaskCommandDeps): Promise<number> {
  const service = context.target.services.get(args.database)!;
  const task = await runningTask(deps.aws ?? detachedAwsCli, context.target, service);
  const argv = execCommandArgs(context.target, service, task, manageCommand(args.command));
  deps.write(
    `${args.database}: ${shown} through ECS Exec in task ${taskId(task)} of ${service.serviceName} (container ${service.containerName})`,
  );
  const code = await (deps.interactive ?? spawnInteractive)(argv);
  deps.write(
    code === 0
      ? `${args.database}: the session ended`
      : `${args.database}: the session ended with exit code ${code} (the aws CLI says why above)`,
  );
  return code === 0 ? 0 : 1;
}

/** A one-off task, as migrate runs them; Ctrl-C stops it. */
async function asOneOffTask(args: ManageArgs, context: WebContext, shown: string, deps: TaskCommandDeps): Promise<number> {
  const { write } = deps;
  const interrupt = interruptOn(deps.signals ?? process, write);
  try {
    write(`==> ${args.database}: ${shown}`);
    const outcome: TaskOutcome = await runOneOffTask({
      target: context.target,
      database: args.database,
      service: context.target.services.get(args.database)!,
      command: manageCommand(args.command),
      startedBy: STARTED_BY,
      aws: deps.aws ?? detachedAwsCli,
      log: write,
      onLogLine: (line) => write(`${args.database} | ${line}`),
      timeoutMs: args.timeoutMinutes * 60_000,
      pollIntervalMs: deps.pollIntervalMs,
      signal: interrupt.signal,
      now: deps.now,
      delay: deps.delay,
    });
    write(`<== ${args.database}: ${describeOutcome(outcome, args.timeoutMinutes)}`);
    if (outcome.kind === "interrupted") return 130;
    return outcome.kind === "exited" && outcome.exitCode === 0 ? 0 : 1;
  } finally {
    interrupt.dispose();
  }
}

if (require.main === module) {
  manage(process.argv.slice(2), { write: (line) => process.stdout.write(`${line}\n`) }).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${process.env.DEBUG === undefined ? err.message : (err.stack ?? err.message)}\n`);
      process.exit(1);
    },
  );
}
