import type { Construct } from "constructs";
import type { Application, EnvironmentConfig, SafeBucketConfig, StartupWebAppConfig } from "../config/schema";
import { AccessStack } from "./access";
import type { ApplicationModule } from "./application";
import { DataStack } from "./data";
import { NetworkStack } from "./network";
import { ObservabilityStack } from "./observability";
import { SafeBucket } from "./safebucket";
import type { SafeBucketDatabaseStack } from "./safebucket/database";
import type { ServicesStack } from "./safebucket/services";
import { StartupWebApp } from "./startupwebapp";
import type { EmailStack } from "./startupwebapp/email";
import type { TenantsStack } from "./startupwebapp/tenants";
import type { WebStack } from "./startupwebapp/web";
import { StateStack } from "./state";

export { LAYERS, type Layer } from "./environment-stack";

/** Each application's module, by the config's `application`. */
const MODULES: { readonly [A in Application]: (config: Extract<EnvironmentConfig, { application: A }>) => ApplicationModule } = {
  startupwebapp: (config: StartupWebAppConfig) => new StartupWebApp(config),
  safebucket: (config: SafeBucketConfig) => new SafeBucket(config),
};

/** The module of `config`'s application, for one environment. */
export function applicationModule(config: EnvironmentConfig): ApplicationModule {
  return (MODULES[config.application] as (c: EnvironmentConfig) => ApplicationModule)(config);
}

/** The stacks of one environment: the platform core, then its application's own layers. */
export interface EnvironmentStacks {
  readonly state: StateStack;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly access: AccessStack;
  readonly observability: ObservabilityStack;
  /** StartupWebApp's. */
  readonly tenants?: TenantsStack;
  /** StartupWebApp's, with an `email` section. */
  readonly email?: EmailStack;
  /** StartupWebApp's, with a `web` section. */
  readonly web?: WebStack;
  /** SafeBucket's. */
  readonly database?: SafeBucketDatabaseStack;
  readonly services?: ServicesStack;
}

/**
 * Creates one environment's stacks and wires them: later stacks take earlier stacks' typed fields,
 * and cdktf turns those references into outputs and remote state. The explicit dependencies only
 * order stacks that share no reference.
 */
export function buildEnvironment(scope: Construct, config: EnvironmentConfig): EnvironmentStacks {
  const app = applicationModule(config);
  const state = new StateStack(scope, { config });
  const network = new NetworkStack(scope, { config, app });
  const data = new DataStack(scope, { config, network, app });
  const access = new AccessStack(scope, { config, network, data, app });
  const observability = new ObservabilityStack(scope, { config, data, app });

  network.addDependency(state);
  data.addDependency(network);
  access.addDependency(data);
  observability.addDependency(data);
  const core = { state, network, data, access, observability };
  return { ...core, ...app.addStacks(scope, core) };
}
