/**
 * npm run upgrade-check -- --from <git-ref> [env...] [--parallel N]
 *
 * Proves that this release upgrades a deployed environment without replacing what holds its data:
 * the previous release (`--from`, checked out into a temporary git worktree) is synthesized with its
 * own code and config files and applied to a local AWS emulator (moto, as `npm run e2e` starts it);
 * then this checkout's code and config are synthesized and planned against the state it left. Per
 * stack, every action other than no-op is printed (updates with attribute names, creates, deletes,
 * replacements, `moved` addresses); a stateful resource deleted or replaced fails the check
 * (scripts/lib/upgrade-plan.ts lists the types). Ends with `N passed, M failed`; exit 0 only when
 * nothing failed. Environments (default: every config/*.json here) run side by side, at most
 * `--parallel` (default 2) at once, in one emulated account.
 *
 * The SQL layer's postgresql resources cannot run on the emulator (the provider is not mirrored, and
 * there is no database server behind moto's RDS): they are left out and listed; the rest of that
 * stack (the application secret's value) is applied and planned like any other.
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { Ledger, seconds } from "./lib/e2e-checks";
import { applyEmulatorMode } from "./lib/emulator";
import { startMoto, type Emulator } from "./lib/moto";
import type { SynthesizedStack } from "./lib/synth";
import { inParallel, prepareTerraform, type TerraformSetup } from "./lib/terraform";
import { parseUpgradeArgs, UPGRADE_USAGE, UpgradeUsageError } from "./lib/upgrade-args";
import { formatChanges, stateLosses, summarize } from "./lib/upgrade-plan";
import { checkoutRelease, releaseConfig, synthesizeRelease, synthFolder, type ReleaseCheckout } from "./lib/upgrade-release";
import { applyStack, planUpgrade, resourceCount, stackStateLocation, withoutUnavailableProviders } from "./lib/upgrade-stacks";

const ROOT = join(__dirname, "..");

interface Environment {
  readonly name: string;
  readonly old: SynthesizedStack[];
  readonly current: SynthesizedStack[];
  /** Addresses left out per stack folder (providers not mirrored), and those providers. */
  readonly stubbed: Map<string, { stubbed: string[]; missingProviders: string[] }>;
}

interface Context {
  readonly ref: string;
  readonly ledger: Ledger;
  readonly write: (line: string) => void;
  readonly setup: TerraformSetup;
  readonly signal: AbortSignal;
  readonly planOnly: boolean;
  readonly accept: readonly string[];
  /** The --accept entries a plan met. */
  readonly matched: Set<string>;
}

const short = (stack: SynthesizedStack, env: string): string => stack.name.slice(env.length + 1);

/** Leaves out what the mirror cannot run, says so once per stack. */
function prepare(ctx: Context, env: Environment, stacks: readonly SynthesizedStack[], release: string): void {
  for (const stack of stacks) {
    const result = withoutUnavailableProviders(stack, ctx.setup.available);
    env.stubbed.set(stack.dir, result);
    if (result.stubbed.length > 0) {
      ctx.ledger.skip(
        `${stack.name} (${release}): ${result.stubbed.length} resource(s) of ${result.missingProviders.join(", ")} left out`,
        `the provider is not in the mirror and the emulator has no database server behind RDS (${result.stubbed.join(", ")}); ` +
          `the stack's AWS resources are applied and planned`,
      );
    }
  }
}

/** Applies the previous release's stacks in deploy order; a failure stops the environment (later stacks read its outputs). */
async function deployPrevious(ctx: Context, env: Environment): Promise<boolean> {
  const timings: string[] = [];
  const started = Date.now();
  for (const stack of env.old) {
    ctx.write(`upgrade-check: ${stack.name}: apply (${ctx.ref}) ...`);
    const result = await applyStack(stack, ctx.setup, ctx.signal);
    timings.push(`${short(stack, env.name)} ${(result.ms / 1000).toFixed(0)} s`);
    if (!result.ok) {
      ctx.ledger.fail(`deploy ${ctx.ref} ${env.name}: ${stack.name}`, result.problem ?? "failed");
      return false;
    }
  }
  ctx.ledger.pass(`deploy ${ctx.ref} ${env.name} on the emulator (${seconds(Date.now() - started)}: ${timings.join(", ")})`);
  return true;
}

/**
 * Plans this release's stacks in deploy order over that state, one check per stack with its changes
 * listed under it; unless --plan-only, each plan is applied before the next stack is planned, as deploy
 * does, so a change that reaches a later stack through an output (a new secret ARN) shows there too.
 */
async function planCurrent(ctx: Context, env: Environment): Promise<void> {
  const started = Date.now();
  let applying = !ctx.planOnly;
  for (const stack of env.current) {
    ctx.write(`upgrade-check: ${stack.name}: plan${applying ? " and apply" : ""} (this release) ...`);
    const result = await planUpgrade(stack, ctx.setup, { apply: applying, signal: ctx.signal });
    const check = `plan ${stack.name} over ${ctx.ref}'s state`;
    if (!result.ok && result.changes.length === 0) {
      ctx.ledger.fail(check, result.problem ?? "failed");
      continue;
    }
    const losses = stateLosses(result.changes);
    const accepted = losses.filter((c) => ctx.accept.includes(`${stack.name}:${c.address}`));
    const refused = losses.filter((c) => !accepted.includes(c));
    for (const c of accepted) ctx.matched.add(`${stack.name}:${c.address}`);
    const applied = result.applyMs !== undefined ? `, applied in ${seconds(result.applyMs)}` : "";
    ctx.ledger.expect(
      `${check}: ${summarize(result.changes)} (${seconds(result.ms)}${applied})${accepted.length ? `; ${accepted.length} accepted with --accept` : ""}`,
      refused.length > 0
        ? `${refused.length} stateful resource(s) deleted or replaced: each needs a moved block (constructs/moved.ts), a migration, or --accept ${stack.name}:<address> when intended`
        : undefined,
    );
    for (const line of formatChanges(result.changes)) ctx.write(`       ${line}`);
    if (!result.ok) {
      ctx.ledger.fail(`apply ${stack.name} (this release) on the emulator`, result.problem ?? "failed");
      // Later stacks are still planned, against the previous release's outputs.
      applying = false;
    }
  }
  // A previous stack whose state no stack of this release manages any more: its resources would be orphaned.
  const managed = new Set(env.current.map(stackStateLocation));
  for (const stack of env.old) {
    const location = stackStateLocation(stack);
    if (managed.has(location)) continue;
    const count = resourceCount(stack);
    ctx.ledger.expect(
      `${stack.name} of ${ctx.ref}: its state (${location}) is managed by no stack of this release`,
      count > 0 ? `${count} resource(s) would be left unmanaged (keep the layer, or give its successor stateKey)` : undefined,
    );
  }
  const stacks = new Set([...env.old, ...env.current].map((s) => s.name));
  for (const accepted of ctx.accept.filter((a) => stacks.has(a.split(":")[0]))) {
    ctx.write(
      ctx.matched.has(accepted)
        ? `upgrade-check: accepted (--accept) ${accepted}`
        : `upgrade-check: --accept ${accepted}: not deleted or replaced in this run, nothing to accept`,
    );
  }
  ctx.write(`upgrade-check ${env.name}: this release planned${ctx.planOnly ? "" : " and applied"} in ${seconds(Date.now() - started)}`);
}

async function main(argv: readonly string[]): Promise<number> {
  const write = (line: string): void => void process.stdout.write(`${line}\n`);
  let args;
  try {
    args = parseUpgradeArgs(argv);
  } catch (err) {
    if (!(err instanceof UpgradeUsageError)) throw err;
    write(`${err.message}\n${UPGRADE_USAGE}`);
    return 1;
  }
  if (args.help) {
    write(UPGRADE_USAGE);
    return 0;
  }
  const started = Date.now();
  const ledger = new Ledger(write);
  const environments =
    args.environments.length > 0
      ? args.environments
      : readdirSync(join(ROOT, "config"))
          .filter((f) => f.endsWith(".json"))
          .map((f) => basename(f, ".json"))
          .sort();

  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    write(`upgrade-check: ${signal}: stopping terraform, then the emulator; the temporary checkout is removed`);
    controller.abort();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("SIGHUP", onSignal);

  let checkout: ReleaseCheckout | undefined;
  let emulator: Emulator | undefined;
  const folders: string[] = [];
  try {
    checkout = checkoutRelease(ROOT, args.from);
    const ref = checkout.commit.startsWith(args.from) ? args.from : `${args.from} (${checkout.commit.slice(0, 7)})`;
    write(`upgrade-check: ${ref} -> this checkout, for ${environments.join(", ")}; the previous release checked out in ${checkout.dir}`);

    // Both releases synthesized before the emulator starts: a release that does not synthesize stops here.
    const envs: Environment[] = [];
    for (const name of environments) {
      if (controller.signal.aborted) break;
      const previousConfig = releaseConfig(checkout.dir, name);
      const currentConfig = releaseConfig(ROOT, name);
      if (!currentConfig) {
        ledger.fail(`${name}`, `no config/${name}.json in this checkout`);
        continue;
      }
      if (!previousConfig) {
        ledger.skip(`${name}`, `${args.from} has no config/${name}.json: a new environment, nothing deployed to upgrade`);
        continue;
      }
      const t = Date.now();
      const oldDir = synthFolder(`${name}-previous`);
      const newDir = synthFolder(`${name}-current`);
      folders.push(oldDir, newDir);
      try {
        const old = await synthesizeRelease(checkout.dir, previousConfig, oldDir);
        const current = await synthesizeRelease(ROOT, currentConfig, newDir);
        envs.push({ name, old, current, stubbed: new Map() });
        write(
          `upgrade-check: ${name} synthesized, ${old.length} stacks of ${args.from} and ${current.length} of this checkout (${seconds(Date.now() - t)})`,
        );
      } catch (err) {
        ledger.fail(`synthesize ${name}`, (err as Error).message);
      }
    }
    if (envs.length === 0) throw new Error("no environment to check");
    // Everything of the previous release is synthesized: its checkout is not needed any more.
    checkout.remove();

    if (controller.signal.aborted) throw new Error("stopped before the emulator started");
    emulator = await startMoto({ log: (line) => write(`upgrade-check: ${line}`) });
    write(`upgrade-check: moto ${emulator.endpoint} ready`);
    // Emulator mode for every terraform call of this process (scripts/lib/emulator.ts reads these).
    process.env.INFRA_AWS_ENDPOINT = emulator.endpoint;
    process.env.INFRA_AWS_CA_BUNDLE = emulator.caBundle;
    process.env.INFRA_EMULATOR_STATE_DIR = join(emulator.dir, "state");
    mkdirSync(process.env.INFRA_EMULATOR_STATE_DIR, { recursive: true });
    const ctx: Context = {
      ref: args.from,
      ledger,
      write,
      setup: prepareTerraform(),
      signal: controller.signal,
      planOnly: args.planOnly,
      accept: args.accept,
      matched: new Set(),
    };
    for (const env of envs) {
      prepare(ctx, env, env.old, args.from);
      prepare(ctx, env, env.current, "this release");
      const banner = applyEmulatorMode([...env.old, ...env.current].map((s) => s.dir));
      if (!banner) throw new Error("emulator mode did not start");
    }

    await inParallel(envs, args.parallel, async (env) => {
      if (controller.signal.aborted) return;
      if (await deployPrevious(ctx, env)) await planCurrent(ctx, env);
    });
    write(`upgrade-check: total ${seconds(Date.now() - started)}`);
  } catch (err) {
    ledger.fail("upgrade-check run", err instanceof UpgradeUsageError ? err.message : ((err as Error).stack ?? String(err)));
  } finally {
    await emulator?.stop();
    checkout?.remove();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  }
  write(ledger.summary());
  return ledger.failed === 0 && ledger.passed > 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
