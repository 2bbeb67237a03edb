/** The command line of `npm run upgrade-check -- --from <git-ref> [env...] [--parallel N]`. */
import { parseArgs } from "node:util";

export const UPGRADE_USAGE =
  "usage: npm run upgrade-check -- --from <git-ref> [env...] [--plan-only] [--accept <stack>:<address>]... [--parallel N]";

export interface UpgradeArgs {
  /** The previous release: a tag, branch or commit id. */
  readonly from: string;
  /** Environments to check; empty means every config/*.json of this checkout. */
  readonly environments: readonly string[];
  /** Environments deployed and planned side by side, in one emulator. @default 2 */
  readonly parallel: number;
  /** Plan every stack against the previous release's state only; by default each stack's plan is applied before the next is planned, as deploy does. */
  readonly planOnly: boolean;
  /**
   * Deletions or replacements of stateful resources that are intended, as `<stack>:<address>`: shown
   * as accepted instead of failing. Each is a decision to write in the release notes.
   */
  readonly accept: readonly string[];
  readonly help: boolean;
}

/** A mistake on the command line: printed with the usage, exit 1. */
export class UpgradeUsageError extends Error {}

/** Environment names are config file base names: letters, digits and dashes. */
const ENVIRONMENT = /^[a-z0-9][a-z0-9-]*$/;

export function parseUpgradeArgs(argv: readonly string[]): UpgradeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        from: { type: "string" },
        parallel: { type: "string" },
        "plan-only": { type: "boolean", default: false },
        accept: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UpgradeUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { from: "", environments: [], parallel: 1, planOnly: false, accept: [], help: true };
  if (values.from === undefined || values.from.trim() === "") {
    throw new UpgradeUsageError("--from: name the previous release (a tag, branch or commit id), e.g. --from v1.4.0");
  }
  if (values.from.startsWith("-")) throw new UpgradeUsageError(`--from: a git ref, not an option (got ${values.from})`);
  let parallel = 2;
  if (values.parallel !== undefined) {
    if (!/^\d+$/.test(values.parallel) || Number(values.parallel) < 1) {
      throw new UpgradeUsageError(`--parallel: must be a whole number of at least 1 (got ${values.parallel})`);
    }
    parallel = Number(values.parallel);
  }
  const bad = positionals.filter((p) => !ENVIRONMENT.test(p));
  if (bad.length > 0) throw new UpgradeUsageError(`environment: a config file's base name such as dev (got ${bad.join(", ")})`);
  const accept = values.accept ?? [];
  const malformed = accept.filter((a) => !/^[a-z0-9-]+:[\w-]+\.[\w-]+(\[[^\]]+\])?$/.test(a));
  if (malformed.length > 0) {
    throw new UpgradeUsageError(
      `--accept: <stack>:<address>, e.g. dev-data:aws_secretsmanager_secret.app-secret_99D6BEB7 (got ${malformed.join(", ")})`,
    );
  }
  return { from: values.from, environments: [...new Set(positionals)], parallel, planOnly: values["plan-only"], accept, help: false };
}
