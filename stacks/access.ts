import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";
import type { DataStack } from "./data";

export interface AccessStackProps {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
  readonly data: DataStack;
}

/** `<env>-access`: filled by its own issue. */
export class AccessStack extends EnvironmentStack {
  constructor(scope: Construct, props: AccessStackProps) {
    super(scope, { config: props.config, layer: "access" });
  }
}
