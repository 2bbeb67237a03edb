import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { GitHubCiRoles } from "../constructs/github-ci-roles";
import { StateBucket } from "../constructs/state-bucket";
import { EnvironmentStack } from "./environment-stack";

export interface StateStackProps {
  readonly config: EnvironmentConfig;
}

/**
 * `<env>-state`: the bucket every other stack keeps its state in, and the CI identities when
 * `ci.githubRepository` is set. Bootstraps on a local backend.
 */
export class StateStack extends EnvironmentStack {
  readonly stateBucket: StateBucket;
  /** Set when `ci.githubRepository` is. */
  readonly ciRoles?: GitHubCiRoles;

  constructor(scope: Construct, props: StateStackProps) {
    const { config } = props;
    super(scope, { config, layer: "state", backend: config.state.stateStackBackend });
    this.stateBucket = new StateBucket(this, "state-bucket", {
      bucketName: config.state.bucket,
      noncurrentVersionExpirationDays: config.state.noncurrentVersionExpirationDays,
      protect: config.protect,
    });

    if (config.ci.githubRepository) {
      this.ciRoles = new GitHubCiRoles(this, "github-ci", {
        repository: config.ci.githubRepository,
        stateBucketArn: this.stateBucket.bucketArn,
        oidcProviderArn: config.ci.oidcProviderArn,
      });
      // The workflows read these from repository variables (README, plan).
      new TerraformOutput(this, "github_oidc_provider_arn", { value: this.ciRoles.oidcProviderArn });
      new TerraformOutput(this, "ci_plan_role_arn", { value: this.ciRoles.planRole.roleArn });
      new TerraformOutput(this, "ci_drift_role_arn", { value: this.ciRoles.driftRole.roleArn });
      new TerraformOutput(this, "ci_apply_role_arn", { value: this.ciRoles.applyRole.roleArn });
    }
  }
}
