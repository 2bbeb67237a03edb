import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { EnvironmentStack } from "./environment-stack";
import type { DataStack } from "./data";
import type { AccessStack } from "./access";

export interface TenantsStackProps {
  readonly config: EnvironmentConfig;
  readonly data: DataStack;
  readonly access: AccessStack;
}

/** `<env>-tenants`: filled by its own issue. */
export class TenantsStack extends EnvironmentStack {
  constructor(scope: Construct, props: TenantsStackProps) {
    super(scope, { config: props.config, layer: "tenants" });
  }
}
