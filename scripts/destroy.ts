/**
 * npm run destroy -- <env> [layer...] [--dry-run] [--yes] [--parallel N]
 *
 * The deploy's reverse: tenants (through the SSM tunnel) and observability side by side, then access,
 * data, network and, while it is on a local backend, the state stack; a stack goes once every stack
 * that depends on it is gone, at most N at once (default: the core count). A protected environment is refused
 * with the way to unprotect it deliberately (scripts/lib/protection.ts). Without --yes it asks for
 * the environment's name first and for each stack's destroy plan. Ctrl-C works as in deploy: no
 * further step starts, the tunnel is closed and a started bastion stopped, exit 130.
 */
import { operate, TUNNEL } from "./lib/operator/operate";
import { destroyRefusal } from "./lib/protection";

operate("destroy", process.argv.slice(2), { write: (t) => process.stdout.write(`${t}\n`), destroyRefusal, ...TUNNEL })
  .then((code) => process.exit(code))
  .catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
