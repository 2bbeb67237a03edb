/**
 * The platform core's stack outputs, by layer: the key code uses, then the Terraform output name that
 * `terraform output` prints and deployed environments, the operator scripts and the e2e read. A stack
 * gives each declared output its value and description through `EnvironmentStack.declareOutputs`;
 * scripts import these names instead of retyping them.
 *
 * This module imports nothing (no cdktf, no provider bindings): a script that needs an output's name
 * pays nothing for it. Each application declares its own layers' outputs in its folder
 * (stacks/startupwebapp/outputs.ts, stacks/safebucket/outputs.ts).
 *
 * A name is part of the deployed contract: renaming one breaks every environment's readers.
 */

/** One layer's outputs: the key code uses -> the Terraform output name. */
export type OutputNames = Readonly<Record<string, string>>;

/** `<env>-state`: the CI identities, only when `ci.githubRepository` is set (the workflows' repository variables). */
export const STATE_OUTPUTS = {
  githubOidcProviderArn: "github_oidc_provider_arn",
  ciPlanRoleArn: "ci_plan_role_arn",
  ciDriftRoleArn: "ci_drift_role_arn",
  ciApplyRoleArn: "ci_apply_role_arn",
} as const satisfies OutputNames;

/** `<env>-network`, named like terraform-aws-modules/vpc's. */
export const NETWORK_OUTPUTS = {
  vpcId: "vpc_id",
  publicSubnets: "public_subnets",
  privateSubnets: "private_subnets",
  databaseSubnetGroupName: "database_subnet_group_name",
  databaseSecurityGroupId: "database_security_group_id",
  bastionSecurityGroupId: "bastion_security_group_id",
  backendSecurityGroupId: "backend_security_group_id",
} as const satisfies OutputNames;

/** `<env>-data`, named like terraform-aws-modules/rds's. */
export const DATA_OUTPUTS = {
  dbInstanceIdentifier: "db_instance_identifier",
  dbInstanceAddress: "db_instance_address",
  dbInstancePort: "db_instance_port",
  dbInstanceResourceId: "db_instance_resource_id",
  dbInstanceMasterUserSecretArn: "db_instance_master_user_secret_arn",
  appSecretArn: "app_secret_arn",
  appSecretName: "app_secret_name",
} as const satisfies OutputNames;

/** `<env>-access`; the bastion's two only when `bastion.enabled`. */
export const ACCESS_OUTPUTS = {
  bastionInstanceId: "bastion_instance_id",
  ssmTunnelCommand: "ssm_tunnel_command",
  backendRoleArn: "backend_role_arn",
  backendRoleName: "backend_role_name",
  backendInstanceProfileName: "backend_instance_profile_name",
} as const satisfies OutputNames;

/** `<env>-observability`; `componentAlarmNames` only when the application adds alarms. */
export const OBSERVABILITY_OUTPUTS = {
  snsTopicArn: "sns_topic_arn",
  dashboardName: "dashboard_name",
  alarmNames: "alarm_names",
  componentAlarmNames: "component_alarm_names",
} as const satisfies OutputNames;
