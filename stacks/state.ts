import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { StateBucket } from "../constructs/state-bucket";
import { EnvironmentStack } from "./environment-stack";

export interface StateStackProps {
  readonly config: EnvironmentConfig;
}

/** `<env>-state`: the bucket every other stack keeps its state in. Bootstraps on a local backend. */
export class StateStack extends EnvironmentStack {
  readonly stateBucket: StateBucket;

  constructor(scope: Construct, props: StateStackProps) {
    const { config } = props;
    super(scope, { config, layer: "state", backend: config.state.stateStackBackend });
    this.stateBucket = new StateBucket(this, "state-bucket", {
      bucketName: config.state.bucket,
      noncurrentVersionExpirationDays: config.state.noncurrentVersionExpirationDays,
      protect: config.protect,
    });
  }
}
