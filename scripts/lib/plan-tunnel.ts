/**
 * `npm run plan -- <env> --include-tenants` (or naming the SQL layer's stack) plans a stack that
 * talks to PostgreSQL through the SSM tunnel. The plan opens that tunnel itself, starting a bastion
 * kept stopped (`bastion.running: false`) and stopping it again afterwards, as deploy does; a tunnel
 * already open on the port (`npm run tunnel` in another terminal) is used as it is.
 */
import { parseArgs } from "node:util";
import type { EnvironmentConfig } from "../../config/schema";
import {
  exitCodeOnInterrupt,
  isPortOpen,
  readTunnelTarget,
  withTunnel,
  type TunnelOptions,
  type TunnelSessionDeps,
  type TunnelSessionOptions,
} from "./tunnel";

/** `npm run plan`'s arguments, read leniently (the review itself rejects bad ones, with its usage). */
export function planArguments(argv: readonly string[]): { environment?: string; requested: string[]; includeTenants: boolean } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: false,
    // Every option that takes a value is named here, or its value would be read as a stack name.
    options: { "include-tenants": { type: "boolean" }, markdown: { type: "string" }, parallel: { type: "string" } },
  });
  return { environment: positionals[0], requested: positionals.slice(1), includeTenants: values["include-tenants"] === true };
}

/** Whether these plan arguments plan the stack that needs the tunnel (StartupWebApp's tenants, SafeBucket's database). */
export function sqlLayerPlanned(config: EnvironmentConfig, argv: readonly string[]): boolean {
  if (config.postgresAccess.connection !== "tunnel") return false;
  const { requested, includeTenants } = planArguments(argv);
  const layer = config.postgresAccess.layer;
  if (requested.length > 0) return requested.some((r) => r === layer || r === `${config.environment}-${layer}`);
  return includeTenants;
}

export interface PlanTunnelDeps extends TunnelSessionDeps {
  /** @default readTunnelTarget (the deployed stacks' outputs) */
  readonly readTarget?: (config: EnvironmentConfig) => Promise<Pick<TunnelOptions, "bastionInstanceId" | "host" | "remotePort">>;
}

/**
 * Runs `review` (the plan) with the tunnel open when `argv` plans the SQL layer; otherwise just runs it.
 * The tunnel is closed and a bastion started for it stopped again however the plan ends.
 */
export async function planWithTunnel(
  config: EnvironmentConfig,
  argv: readonly string[],
  review: () => Promise<number>,
  deps: PlanTunnelDeps = {},
): Promise<number> {
  if (!sqlLayerPlanned(config, argv)) return review();
  const log = deps.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const localPort = config.postgresAccess.tunnelPort;
  if (await (deps.isPortOpen ?? isPortOpen)(localPort)) {
    log(`127.0.0.1:${localPort} is already open (npm run tunnel in another terminal?): planning through it`);
    return review();
  }
  const target = await (deps.readTarget ?? ((c: EnvironmentConfig) => readTunnelTarget(c, log)))(config);
  const options: TunnelSessionOptions = { ...target, localPort, region: config.region, bastionKeptStopped: !config.bastion.running };
  // Ctrl-C must not kill this process while it owns the tunnel and perhaps the bastion: the first
  // one aborts the bastion start or the wait for the port, or (during the plan, whose terraform gets
  // it from the terminal too) lets the review finish; then the tunnel is closed and the bastion stopped.
  return exitCodeOnInterrupt(log, (signal) => withTunnel(options, { ...deps, log, signal }, () => review()), deps.signal);
}
