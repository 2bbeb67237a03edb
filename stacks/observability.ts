import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";

export interface ObservabilityStackProps {
  readonly config: EnvironmentConfig;
}

/** `<env>-observability`: filled by its own issue. */
export class ObservabilityStack extends EnvironmentStack {
  constructor(scope: Construct, props: ObservabilityStackProps) {
    super(scope, { config: props.config, layer: "observability" });
  }
}
