/**
 * npm run tunnel -- <env>: opens the SSM port-forwarding tunnel from 127.0.0.1:<tenants.tunnelPort>
 * to the environment's RDS instance through its bastion, and keeps it open until Ctrl-C. With
 * bastion.running: false it starts the bastion first and stops it again when the tunnel closes.
 * Reads the bastion id and RDS address from the deployed stacks' outputs; prints no secret.
 */
import { ConfigError, configFiles, loadConfigs } from "../config/load";
import { holdTunnel, readTunnelTarget, TunnelPrerequisitesMissing } from "./lib/tunnel";

const USAGE = "usage: npm run tunnel -- <env>";

async function main(argv: readonly string[]): Promise<number> {
  const configs = loadConfigs(configFiles());
  const environments = configs.map((c) => c.environment);
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    process.stderr.write(`${USAGE}\nenvironments: ${environments.join(", ")}\n`);
    return 2;
  }
  const config = configs.find((c) => c.environment === argv[0]);
  if (!config) {
    process.stderr.write(`no environment "${argv[0]}" (have: ${environments.join(", ")})\n${USAGE}\n`);
    return 2;
  }

  const target = await readTunnelTarget(config, (line) => process.stderr.write(`${line}\n`));
  return holdTunnel(
    {
      ...target,
      localPort: config.postgresAccess.tunnelPort,
      region: config.region,
      bastionKeptStopped: !config.bastion.running,
      environment: config.environment,
    },
    { onOutput: (line) => process.stderr.write(`  ${line}\n`) },
  );
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    // Messages name what is missing or what failed; a stack trace only for the unexpected.
    const known = err instanceof ConfigError || err instanceof TunnelPrerequisitesMissing || process.env.DEBUG === undefined;
    process.stderr.write(`${known ? err.message : (err.stack ?? err.message)}\n`);
    process.exit(1);
  },
);
