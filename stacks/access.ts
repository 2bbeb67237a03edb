import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { bastionUserData, portForwardingCommand } from "../constructs/bastion-user-data";
import { Role } from "../constructs/role";
import { SsmBastion } from "../constructs/ssm-bastion";
import type { ApplicationModule } from "./application";
import type { DataStack } from "./data";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";
import { fromConfig } from "./config-errors";
import { ACCESS_OUTPUTS } from "./outputs";

export interface AccessStackProps {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly app: ApplicationModule;
}

/**
 * `<env>-access`: how people and programs reach the data. The SSM bastion (no inbound rules) that
 * operators and the application's SQL layer tunnel through, allowed to read exactly the master and
 * application secrets its login message points at; the backend role compute runs as, allowed to read
 * the application secrets only; then the application's own roles and grants.
 */
export class AccessStack extends EnvironmentStack {
  /** Undefined when `bastion.enabled` is false. */
  readonly bastion?: SsmBastion;
  /** Trusted by EC2 and ECS tasks, with an instance profile; reads the application secret only. */
  readonly backendRole: Role;

  constructor(scope: Construct, props: AccessStackProps) {
    super(scope, { config: props.config, layer: "access" });
    const { network, data, app } = props;
    const { bastion: settings, postgresAccess, database, region } = this.config;

    if (settings.enabled) {
      const name = this.naming.name("bastion");
      const bastion = fromConfig(
        this.config,
        "bastion",
        () =>
          new SsmBastion(this, "bastion", {
            instanceName: name,
            subnetId: network.vpc.publicSubnetIds[0],
            securityGroupIds: [network.securityGroups.bastion.securityGroupId],
            instanceType: settings.instanceType,
            running: settings.running,
            userData: bastionUserData({
              name,
              database: {
                region,
                address: data.database.address,
                port: data.database.port,
                masterSecretArn: data.database.masterSecretArn,
                appSecretArn: data.appSecret.secretArn,
                appDatabases: postgresAccess.databases,
                engineMajorVersion: database.engineVersion,
              },
            }),
          }),
      );
      // The old bastion's role could not read the secret its own login message pointed to.
      data.database.grantMasterSecretRead(bastion.role);
      for (const secret of data.appSecrets) secret.grantRead(bastion.role);
      this.bastion = bastion;
    }

    // "backend" is the S3 backend's construct id in every stack.
    this.backendRole = new Role(this, "backend-role", {
      roleName: this.naming.name("backend"),
      description: "Application backend (EC2 or ECS tasks): reads the application secret only",
      assumedBy: ["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"],
      instanceProfile: true,
    });
    for (const secret of data.appSecrets) secret.grantRead(this.backendRole);
    app.addAccess?.(this);

    const bastion = this.bastion;
    this.declareOutputs(ACCESS_OUTPUTS, {
      bastionInstanceId: bastion && { value: bastion.instanceId, description: "ID of the SSM bastion instance" },
      ssmTunnelCommand: bastion && {
        value: portForwardingCommand({
          target: bastion.instanceId,
          host: data.database.address,
          port: data.database.port,
          localPort: postgresAccess.tunnelPort,
          region,
        }),
        description: `Forwards localhost:${postgresAccess.tunnelPort} to PostgreSQL through the bastion (needs the session-manager-plugin)`,
      },
      backendRoleArn: { value: this.backendRole.roleArn, description: "ARN of the backend role" },
      backendRoleName: { value: this.backendRole.roleName, description: "Name of the backend role" },
      backendInstanceProfileName: {
        value: this.backendRole.instanceProfileName,
        description: "Instance profile of the backend role, for EC2",
      },
    });
  }
}
