/** The command line of `npm run upgrade-check -- --from <git-ref> [env...] [--parallel N]`. */
import { parseArgs } from "node:util";

export const UPGRADE_USAGE = "usage: npm run upgrade-check -- --from <git-ref> [env...] [--parallel N]";

export interface UpgradeArgs {
  /** The previous release: a tag, branch or commit id. */
  readonly from: string;
  /** Environments to check; empty means every config/*.json of this checkout. */
  readonly environments: readonly string[];
  /** Environments deployed and planned side by side, in one emulator. @default 2 */
  readonly parallel: number;
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
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    throw new UpgradeUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { from: "", environments: [], parallel: 1, help: true };
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
  return { from: values.from, environments: [...new Set(positionals)], parallel, help: false };
}
