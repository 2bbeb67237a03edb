import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";

export interface NetworkStackProps {
  readonly config: EnvironmentConfig;
}

/** `<env>-network`: filled by its own issue. */
export class NetworkStack extends EnvironmentStack {
  constructor(scope: Construct, props: NetworkStackProps) {
    super(scope, { config: props.config, layer: "network" });
  }
}
