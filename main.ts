/**
 * The cdktf app: every config/*.json (or the one file named by INFRA_CONFIG) becomes an
 * environment of six stacks. A config error stops here, listed in full, before anything is written.
 */
import { App } from "cdktf";
import { ConfigError, configFiles, loadConfigs } from "./config/load";
import { buildEnvironment } from "./stacks";

function main(): void {
  let configs;
  try {
    configs = loadConfigs(configFiles());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  const app = new App();
  for (const config of configs) buildEnvironment(app, config);
  app.synth();
}

main();
