import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { Guardrails } from "../constructs/guardrails";
import { Naming } from "../constructs/naming";
import type { Layer } from "./layers";
import type { OutputNames } from "./outputs";

export { APPLICATION_LAYERS, CORE_LAYERS, LAYERS, layersOf, type Layer } from "./layers";

/** One output's value and what it is, for `terraform output` readers (every output has a description). */
export interface OutputDefinition {
  readonly value: unknown;
  readonly description: string;
  /**
   * Hides the value from `terraform output` and plan lines (it still reaches the state).
   * @default false
   */
  readonly sensitive?: boolean;
}

/**
 * A value for every output `N` declares, none other: `undefined` where the stack has no such output
 * (a disabled bastion, an application without its own alarms).
 */
export type OutputDefinitions<N extends OutputNames> = { readonly [K in keyof N]: OutputDefinition | undefined };

/** Repository root: where a local backend keeps the bootstrap state (gitignored). */
const REPO_ROOT = join(__dirname, "..");

export interface EnvironmentStackProps {
  readonly config: EnvironmentConfig;
  readonly layer: Layer;
  /**
   * Where this stack keeps its state.
   * @default "s3" - the environment's state bucket, key `<env>/<layer>.tfstate`
   */
  readonly backend?: "s3" | "local";
  /**
   * The S3 backend's key: only for a stack that keeps the state of a layer it replaces.
   * @default `<env>/<layer>.tfstate`
   */
  readonly stateKey?: string;
}

/**
 * A stack of one environment: id `<env>-<layer>`, the AWS provider with the region and default tags,
 * and its backend. Every stack of the project extends this.
 */
export class EnvironmentStack extends TerraformStack {
  readonly config: EnvironmentConfig;
  readonly layer: Layer;
  readonly naming: Naming;

  constructor(scope: Construct, props: EnvironmentStackProps) {
    const { config, layer } = props;
    super(scope, `${config.environment}-${layer}`);
    this.config = config;
    this.layer = layer;
    this.naming = Naming.register(this, config.project, config.environment);
    // Policy rules run at synth and stop it on any violation (constructs/guardrails, README Guardrails).
    Aspects.of(this).add(new Guardrails({ production: config.production, protect: config.protect }));

    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { ...config.tags, Project: config.project, Environment: config.environment, ManagedBy: "cdktf" } }],
    });

    if ((props.backend ?? "s3") === "local") {
      new LocalBackend(this, { path: join(REPO_ROOT, `terraform.${this.node.id}.tfstate`) });
    } else {
      new S3Backend(this, {
        bucket: config.state.bucket,
        key: props.stateKey ?? `${config.environment}/${layer}.tfstate`,
        region: config.region,
        encrypt: true,
      });
      // S3-native locking (Terraform >= 1.10) needs no DynamoDB table; cdktf 0.21 has no prop for it.
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    }
  }

  /**
   * The stack's outputs, named by `names` (stacks/outputs.ts and each application's outputs.ts, which
   * the scripts import): one TerraformOutput per entry that is not `undefined`.
   */
  declareOutputs<N extends OutputNames>(names: N, definitions: OutputDefinitions<N>): void {
    const undeclared = Object.keys(definitions).filter((key) => !(key in names));
    if (undeclared.length > 0) throw new Error(`${this.node.id}: outputs ${undeclared.join(", ")} are not declared in its output names`);
    for (const [key, name] of Object.entries(names)) {
      const output = definitions[key as keyof N];
      if (output === undefined) continue;
      if (output.description.trim() === "") throw new Error(`${this.node.id}: output ${name} needs a description`);
      new TerraformOutput(this, name, {
        value: output.value,
        description: output.description,
        ...(output.sensitive ? { sensitive: true } : {}),
      });
    }
  }
}
