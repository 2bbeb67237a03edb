import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { AccessStack } from "./access";
import { DataStack } from "./data";
import { NetworkStack } from "./network";
import { ObservabilityStack } from "./observability";
import { ServicesStack } from "./services";
import { StateStack } from "./state";
import { TenantsStack } from "./tenants";

export { LAYERS, type Layer } from "./environment-stack";

/** The stacks of one environment, in deploy order. */
export interface EnvironmentStacks {
  readonly state: StateStack;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly access: AccessStack;
  readonly observability: ObservabilityStack;
  readonly tenants: TenantsStack;
  /** Only with `components.services`. */
  readonly services?: ServicesStack;
}

/**
 * Creates one environment's six stacks and wires them: later stacks take earlier stacks' typed
 * fields, and cdktf turns those references into outputs and remote state. The explicit
 * dependencies only order stacks that share no reference.
 */
export function buildEnvironment(scope: Construct, config: EnvironmentConfig): EnvironmentStacks {
  const state = new StateStack(scope, { config });
  const network = new NetworkStack(scope, { config });
  const data = new DataStack(scope, { config, network });
  const access = new AccessStack(scope, { config, network, data });
  const observability = new ObservabilityStack(scope, { config, data });
  const tenants = new TenantsStack(scope, { config, data, access });

  network.addDependency(state);
  data.addDependency(network);
  access.addDependency(data);
  observability.addDependency(data);
  tenants.addDependency(access);
  if (!config.components.services) return { state, network, data, access, observability, tenants };

  // Created last: security group rules that name earlier stacks' groups are placed in the later stack.
  const services = new ServicesStack(scope, { config, network, data, access, observability });
  services.addDependency(access);
  services.addDependency(observability);
  return { state, network, data, access, observability, tenants, services };
}
