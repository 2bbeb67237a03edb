/**
 * npm run deploy -- <env> [layer...] [--dry-run] [--yes] [--parallel N]
 *
 * Synthesizes the environment into cdktf.out/, then runs the step plan of scripts/lib/operator/plan.ts:
 * state, network, data, then access and observability side by side, the SSM tunnel, tenants, closing
 * the tunnel, and the next steps. Stacks run side by side wherever the synthesized dependencies allow,
 * at most N at once (default: the core count; --parallel 1 runs one after another). --dry-run prints
 * the exact commands and which run together instead. Exit 0 done, 1 refused or failed, 130
 * interrupted (Ctrl-C). The same path as destroy: scripts/lib/operator/operate.ts.
 *
 * Before each step it prints `==> <step>` and after each stack `<== <stack>: done [i/n]`
 * (scripts/lib/operator/run.ts, STEP_MARK and END_MARK, list them), e.g. `==> prod-network: plan [2/6]`
 * or `==> open-tunnel`; a SIGINT sent once that line is out stops the run before the next step of
 * every stack (cleanup steps still run) and exits 130.
 */
import { operate, TUNNEL } from "./lib/operator/operate";

operate("deploy", process.argv.slice(2), { write: (t) => process.stdout.write(`${t}\n`), ...TUNNEL })
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
