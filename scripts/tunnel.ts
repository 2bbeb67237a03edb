/**
 * npm run tunnel -- <env>: opens the SSM port-forwarding tunnel from 127.0.0.1:<tenants.tunnelPort>
 * to the environment's RDS instance through its bastion, and keeps it open until Ctrl-C.
 * Reads the bastion id and RDS address from the deployed stacks' outputs; prints no secret.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFiles, loadConfigs } from "../config/load";
import { readOutputs, type StackOutputs } from "./lib/outputs";
import { synthesize } from "./lib/synth";
import { prepareTerraform } from "./lib/terraform";
import { checkTunnelPrerequisites, startTunnel, TunnelPrerequisitesMissing } from "./lib/tunnel";

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

  const outdir = mkdtempSync(join(tmpdir(), "infra-tunnel-"));
  try {
    const stacks = synthesize(outdir, [config]);
    const setup = prepareTerraform();
    const read = async (layer: "access" | "data"): Promise<StackOutputs | Error> => {
      const stack = stacks.find((s) => s.name === `${config.environment}-${layer}`);
      if (!stack) return new Error("stack not synthesized");
      return readOutputs(stack, setup).catch((err: Error) => err);
    };
    process.stderr.write(`reading the outputs of ${config.environment}-access and ${config.environment}-data ...\n`);
    const [access, data] = await Promise.all([read("access"), read("data")]);
    const target = checkTunnelPrerequisites({ environment: config.environment, access, data });

    const localPort = config.postgresAccess.tunnelPort;
    const tunnel = await startTunnel(
      { ...target, localPort, region: config.region },
      { onOutput: (line) => process.stderr.write(`  ${line}\n`) },
    );
    process.stdout.write(
      [
        `tunnel open: 127.0.0.1:${localPort} -> ${target.host}:${target.remotePort} via ${target.bastionInstanceId}`,
        `  psql "host=127.0.0.1 port=${localPort} dbname=postgres sslmode=require user=<user>"`,
        `  (master credentials: the secret named by output db_instance_master_user_secret_arn of ${config.environment}-data)`,
        "Ctrl-C closes it.",
        "",
      ].join("\n"),
    );

    const signalled = new Promise<string>((resolve) => {
      process.once("SIGINT", () => resolve("interrupted"));
      process.once("SIGTERM", () => resolve("terminated"));
    });
    const why = await Promise.race([signalled, tunnel.ended.then((code) => `the session ended (exit code ${code})`)]);
    process.stderr.write(`${why}; closing the tunnel\n`);
    await tunnel.close();
    return why.startsWith("the session ended") ? 1 : 0;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
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
