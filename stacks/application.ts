import type { Construct } from "constructs";
import type { ApplicationSecret } from "../constructs/application-secret";
import type { AccessStack } from "./access";
import type { DataStack } from "./data";
import type { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";
import type { ObservabilityStack } from "./observability";
import type { StateStack } from "./state";

/** The platform core's stacks of one environment, as an application's own stacks receive them. */
export interface CoreStacks {
  readonly state: StateStack;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly access: AccessStack;
  readonly observability: ObservabilityStack;
}

/** What an application puts into the core data stack that the core itself needs. */
export interface ApplicationData {
  /** The secret the application reads its credentials from (its DB_SECRET_NAME). */
  readonly appSecret: ApplicationSecret;
  /** Every secret the application's credentials live in: operators on the bastion may read them. */
  readonly appSecrets: readonly ApplicationSecret[];
}

/**
 * One application on the platform core. The core stacks call the hooks while they are built, in
 * deploy order (network, data, access, observability), so the application's resources land in the
 * core stack they belong to with the addresses they always had; then `addStacks` builds the
 * application's own layers. An instance holds one environment's handles between the hooks.
 *
 * A new application is a new module folder under stacks/ plus one line in stacks/index.ts (`MODULES`) and its layers in
 * stacks/layers.ts (`APPLICATION_LAYERS`).
 */
export interface ApplicationModule {
  /** The alert topic every alarm of the environment notifies: its construct id and name suffix. */
  readonly alertTopic: { readonly id: string; readonly nameParts: readonly string[] };
  /** What the network must provide beyond the core: an ElastiCache subnet group, an SMTP relay port. */
  readonly network: { readonly cacheSubnetGroup: boolean; readonly smtpPort?: number };
  /** Security groups and outputs of the application in the network stack. */
  addNetwork?(stack: NetworkStack): void;
  /** The application's secret containers and data stores, in the data stack. */
  addData(stack: DataStack): ApplicationData;
  /** Roles and grants of the application in the access stack. */
  addAccess?(stack: AccessStack): void;
  /** The application's alarms on the core topic; returns their names. */
  addObservability?(stack: ObservabilityStack): string[];
  /** The application's own layers, after the core, in deploy order. */
  addStacks(scope: Construct, core: CoreStacks): Readonly<Record<string, EnvironmentStack>>;
}
