import { join } from "node:path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Aspects, LocalBackend, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import type { Application, EnvironmentConfig } from "../config/schema";
import { Guardrails } from "../constructs/guardrails";
import { Naming } from "../constructs/naming";

/** The platform core's layers, in deploy order: every environment has them. */
export const CORE_LAYERS = ["state", "network", "data", "access", "observability"] as const;

/** Each application's own layers, deployed after the core, in order. */
export const APPLICATION_LAYERS = {
  startupwebapp: ["email", "tenants", "web"],
  safebucket: ["database", "services"],
} as const satisfies Record<Application, readonly string[]>;

/** Every layer any environment can have, core first. */
export const LAYERS = [...CORE_LAYERS, ...new Set(Object.values(APPLICATION_LAYERS).flat())] as readonly Layer[];
export type Layer = (typeof CORE_LAYERS)[number] | (typeof APPLICATION_LAYERS)[Application][number];

/** Layers an environment has only when its config asks for them. */
const OPTIONAL_LAYERS: Partial<Record<Layer, (config: EnvironmentConfig) => boolean>> = {
  // StartupWebApp's SES domain, sender and reputation alarms: only with an `email` section.
  email: (config) => config.application === "startupwebapp" && config.email !== undefined,
  // StartupWebApp's ECR, Fargate services, load balancer and CloudFront: only with a `web` section.
  web: (config) => config.application === "startupwebapp" && config.web !== undefined,
};

/** The layers `config`'s environment has, in deploy order. */
export function layersOf(config: EnvironmentConfig): Layer[] {
  return [...CORE_LAYERS, ...APPLICATION_LAYERS[config.application]].filter((layer) => OPTIONAL_LAYERS[layer]?.(config) ?? true);
}

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
}
