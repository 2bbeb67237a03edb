import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { GitHubCiRoles } from "../constructs/github-ci-roles";
import { StateBucket } from "../constructs/state-bucket";
import { EnvironmentStack } from "./environment-stack";
import { STATE_OUTPUTS } from "./outputs";

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
      nameTag: this.naming.name("state-bucket"),
      noncurrentVersionExpirationDays: config.state.noncurrentVersionExpirationDays,
      protect: config.protect,
    });

    if (config.ci.githubRepository) {
      this.ciRoles = new GitHubCiRoles(this, "github-ci", {
        repository: config.ci.githubRepository,
        stateBucketArn: this.stateBucket.bucketArn,
        oidcProviderArn: config.ci.oidcProviderArn,
      });
    }
    // The workflows read the roles from repository variables (README, plan); a second environment of the
    // account points its ci.oidcProviderArn at the first one's provider.
    const ci = this.ciRoles;
    this.declareOutputs(STATE_OUTPUTS, {
      githubOidcProviderArn: ci && {
        value: ci.oidcProviderArn,
        description:
          "ARN of the GitHub OIDC identity provider the CI roles trust (ci.oidcProviderArn of another environment in this account)",
      },
      ciPlanRoleArn: ci && {
        value: ci.planRole.roleArn,
        description: "ARN of the role pull-request plans assume (repository variable PLAN_ROLE_ARNS)",
      },
      ciDriftRoleArn: ci && {
        value: ci.driftRole.roleArn,
        description: "ARN of the role scheduled drift detection assumes (repository variable DRIFT_ROLE_ARNS)",
      },
      ciApplyRoleArn: ci && { value: ci.applyRole.roleArn, description: "ARN of the role workflows on the main branch apply with" },
    });
  }
}
