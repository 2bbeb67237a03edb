import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";
import type { DataStack } from "./data";

export interface ObservabilityStackProps {
  readonly config: EnvironmentConfig;
  readonly data: DataStack;
}

/** `<env>-observability`: filled by its own issue. */
export class ObservabilityStack extends EnvironmentStack {
  constructor(scope: Construct, props: ObservabilityStackProps) {
    super(scope, { config: props.config, layer: "observability" });
  }
}
