import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";

export interface DataStackProps {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
}

/** `<env>-data`: filled by its own issue. */
export class DataStack extends EnvironmentStack {
  constructor(scope: Construct, props: DataStackProps) {
    super(scope, { config: props.config, layer: "data" });
  }
}
