/**
 * npm run migrate -- <env> [database...] [--timeout MINUTES]
 *
 * Runs `python manage.py migrate` for each tenant database (default: every tenant service of the
 * `<env>-web` stack, in the config's order), one after another so no two migrations of a database
 * overlap: a one-off Fargate task from that tenant service's task definition, in the service's
 * cluster, subnets and security groups; waits for it to stop (at most --timeout minutes, default 30),
 * prints its log lines from CloudWatch Logs as they arrive and its exit code. A failed tenant does not
 * keep the others from running. Exit 0 when every migration exited 0, 1 when any failed, timed out or
 * could not start (each named), 130 on Ctrl-C (the running task is stopped, no further tenant starts).
 * Prints no secret.
 */
import {
  DEFAULT_TIMEOUT_MINUTES,
  describeOutcome,
  detachedAwsCli,
  interruptOn,
  isOperatorError,
  loadWebContext,
  manageCommand,
  parseMigrateArgs,
  runOneOffTask,
  selectDatabases,
  type TaskCommandDeps,
  type TaskOutcome,
} from "./lib/ecs-task";
import { UsageError } from "./lib/operator/cli";

const USAGE = `usage: npm run migrate -- <env> [database...] [--timeout MINUTES]   (default: every tenant, ${DEFAULT_TIMEOUT_MINUTES} min each)`;

/** ECS's startedBy of the tasks, so a person listing tasks sees where one came from. */
export const STARTED_BY = "npm-run-migrate";

export async function migrate(argv: readonly string[], deps: TaskCommandDeps): Promise<number> {
  const { write } = deps;
  const interrupt = interruptOn(deps.signals ?? process, write);
  try {
    let args;
    let context;
    let databases: string[];
    try {
      args = parseMigrateArgs(argv);
      context = await loadWebContext(args.environment, deps);
      databases = selectDatabases(context.target, context.stack, args.databases, context.config.tenants.databases);
    } catch (err) {
      if (!isOperatorError(err)) throw err;
      write(err instanceof UsageError ? `${err.message}\n${USAGE}` : err.message);
      return 1;
    }
    const env = context.config.environment;
    const now = deps.now ?? Date.now;
    write(`migrate ${env}: ${databases.length} tenant database(s), one after another: ${databases.join(", ")}`);

    const results: [string, TaskOutcome][] = [];
    for (const database of databases) {
      if (interrupt.signal.aborted) break;
      write(`==> ${database}: python manage.py migrate`);
      const started = now();
      let outcome: TaskOutcome;
      try {
        outcome = await runOneOffTask({
          target: context.target,
          database,
          service: context.target.services.get(database)!,
          command: manageCommand(["migrate"]),
          startedBy: STARTED_BY,
          aws: deps.aws ?? detachedAwsCli,
          log: write,
          onLogLine: (line) => write(`${database} | ${line}`),
          timeoutMs: args.timeoutMinutes * 60_000,
          pollIntervalMs: deps.pollIntervalMs,
          signal: interrupt.signal,
          now: deps.now,
          delay: deps.delay,
        });
      } catch (err) {
        if (!isOperatorError(err)) throw err;
        outcome = { kind: "failed", reason: err.message };
      }
      write(`<== ${database}: ${describeOutcome(outcome, args.timeoutMinutes)} in ${Math.round((now() - started) / 1000)} s`);
      results.push([database, outcome]);
      if (outcome.kind === "interrupted") break;
    }

    const ran = new Set(results.map(([d]) => d));
    const notRun = databases.filter((d) => !ran.has(d));
    if (interrupt.signal.aborted) {
      const last = results.at(-1)?.[0];
      write(`migrate ${env}: interrupted${last ? ` during ${last}` : ""}${notRun.length > 0 ? `; not run: ${notRun.join(", ")}` : ""}`);
      return 130;
    }
    const failed = results.filter(([, o]) => !(o.kind === "exited" && o.exitCode === 0));
    const ok = results.filter(([, o]) => o.kind === "exited" && o.exitCode === 0).map(([d]) => d);
    if (failed.length > 0) {
      write(
        `migrate ${env}: FAILED for ${failed.map(([d, o]) => `${d} (${describeOutcome(o, args.timeoutMinutes).replace(/^FAILED: /, "")})`).join(", ")}` +
          (ok.length > 0 ? `; migrated: ${ok.join(", ")}` : ""),
      );
      return 1;
    }
    write(`migrate ${env}: every tenant migrated (${ok.join(", ")})`);
    return 0;
  } finally {
    interrupt.dispose();
  }
}

if (require.main === module) {
  migrate(process.argv.slice(2), { write: (line) => process.stdout.write(`${line}\n`) }).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${process.env.DEBUG === undefined ? err.message : (err.stack ?? err.message)}\n`);
      process.exit(1);
    },
  );
}
