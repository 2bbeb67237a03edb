/**
 * The cdktf app: every config/*.json (or the one file named by INFRA_CONFIG) becomes an
 * environment of six stacks. A config error stops here, listed in full, before anything is written;
 * a construct that rejects its props or a guardrail violation stops synthesis with its message.
 */
import { App } from "cdktf";
import { ConfigError, configFiles, loadConfigs } from "./config/load";
import { buildEnvironment } from "./stacks";

function main(): void {
  // cdktf records a full stack trace for every token it creates, only to quote it if that token is
  // misused; formatting them (and, with tsx's source maps, mapping them back to TypeScript) took
  // over a third of the synth time. INFRA_DEBUG=1 keeps them, and readable traces for every error.
  const debug = process.env.INFRA_DEBUG === "1";
  process.setSourceMapsEnabled(debug);
  if (!debug) Error.prepareStackTrace = () => "";
  const configs = loadConfigs(configFiles());
  const app = new App({ stackTraces: debug });
  for (const config of configs) buildEnvironment(app, config);
  app.synth();
}

try {
  main();
} catch (err) {
  // Every error we raise is written for a person (the field or prop, what is allowed, how to fix);
  // a stack trace only buries it. INFRA_DEBUG=1 shows it for bugs in this code itself.
  const error = err as Error;
  const debug = process.env.INFRA_DEBUG === "1";
  process.stderr.write(`${debug || !(error instanceof Error) ? String(error.stack ?? error) : error.message}\n`);
  if (!(error instanceof ConfigError) && !debug) process.stderr.write("(INFRA_DEBUG=1 shows where it was raised)\n");
  process.exit(1);
}
