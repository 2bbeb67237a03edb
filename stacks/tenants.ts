import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";

export interface TenantsStackProps {
  readonly config: EnvironmentConfig;
}

/** `<env>-tenants`: filled by its own issue. */
export class TenantsStack extends EnvironmentStack {
  constructor(scope: Construct, props: TenantsStackProps) {
    super(scope, { config: props.config, layer: "tenants" });
  }
}
