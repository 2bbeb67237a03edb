import { TerraformOutput } from "cdktf";
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
  /** Undefined when `bastion.enabled` is false. */
  readonly bastionInstanceId?: string;
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
            subnetId: network.publicSubnetIds[0],
            securityGroupIds: [network.bastionSecurityGroupId],
            instanceType: settings.instanceType,
            running: settings.running,
            userData: bastionUserData({
              name,
              database: {
                region,
                address: data.address,
                port: data.port,
                masterSecretArn: data.masterSecretArn,
                appSecretArn: data.appSecretArn,
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
      this.bastionInstanceId = bastion.instanceId;

      new TerraformOutput(this, "bastion_instance_id", { value: bastion.instanceId, description: "ID of the SSM bastion instance" });
      new TerraformOutput(this, "ssm_tunnel_command", {
        value: portForwardingCommand({
          target: bastion.instanceId,
          host: data.address,
          port: data.port,
          localPort: postgresAccess.tunnelPort,
          region,
        }),
        description: `Forwards localhost:${postgresAccess.tunnelPort} to PostgreSQL through the bastion (needs the session-manager-plugin)`,
      });
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

    new TerraformOutput(this, "backend_role_arn", { value: this.backendRole.roleArn, description: "ARN of the backend role" });
    new TerraformOutput(this, "backend_role_name", { value: this.backendRole.roleName, description: "Name of the backend role" });
    new TerraformOutput(this, "backend_instance_profile_name", {
      value: this.backendRole.instanceProfileName,
      description: "Instance profile of the backend role, for EC2",
    });
  }
}
