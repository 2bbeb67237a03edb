import { TerraformLocal, TerraformResource } from "cdktf";
import type { Construct } from "constructs";
import type { SafeBucketConfig } from "../../config/schema";
import { EphemeralSecretValue, ephemeralVariable, placeholder } from "../../constructs/ephemeral";
import { movedFrom } from "../../constructs/moved";
import { SafeBucketCredentials } from "../../constructs/safebucket-credentials";
import { TenantDatabases } from "../../constructs/tenant-databases";
import type { DataStack } from "../data";
import { EnvironmentStack } from "../environment-stack";
import { DATABASE_OUTPUTS } from "./outputs";

export interface SafeBucketDatabaseStackProps {
  readonly config: SafeBucketConfig;
  readonly data: DataStack;
}

/**
 * `<env>-database`: SafeBucket's one login role and database on the core instance (through the
 * cyrilgdn/postgresql provider as the RDS master user, like StartupWebApp's tenants stack), and its
 * secret's value. The master user is never handed to the application: RDS rotates it.
 */
export class SafeBucketDatabaseStack extends EnvironmentStack {
  declare readonly config: SafeBucketConfig;
  readonly databaseName: string;
  readonly username: string;
  /** Resources that moved here from SafeBucket's former `<env>-tenants` stack, as `moved` blocks record them. */
  readonly moves: readonly { from: string; to: string }[];

  constructor(scope: Construct, props: SafeBucketDatabaseStackProps) {
    // Until SafeBucket had its own module this layer was `<env>-tenants`: it keeps that state file, so
    // the role, the database and the secret's version are the ones already deployed, not new ones.
    super(scope, { config: props.config, layer: "database", stateKey: `${props.config.environment}/tenants.tfstate` });
    const { data } = props;
    const { appDatabase, credentials, mail, database, protect } = this.config;

    // Data-stack values pass through locals of this stack: inside the raw ephemeral blocks a foreign
    // token would not become a cross-stack reference.
    const fromData = {
      masterSecretArn: new TerraformLocal(this, "master_secret_arn", data.database.masterSecretArn).asString,
      appSecretArn: new TerraformLocal(this, "app_secret_arn", data.appSecret.secretArn).asString,
      address: new TerraformLocal(this, "db_instance_address", data.database.address).asString,
      port: new TerraformLocal(this, "db_instance_port", data.database.port).asNumber,
    };
    const master = new EphemeralSecretValue(this, "master-credentials", { secretId: fromData.masterSecretArn });
    const smtp = mail.smtpHost
      ? {
          username: ephemeralVariable(this, "smtp_username", {
            description: `SMTP user name at ${mail.smtpHost}`,
            default: placeholder("smtp_username"),
          }),
          password: ephemeralVariable(this, "smtp_password", {
            description: `SMTP password at ${mail.smtpHost}`,
            default: placeholder("smtp_password"),
          }),
        }
      : undefined;
    const secret = new SafeBucketCredentials(this, "credentials", {
      secretId: fromData.appSecretArn,
      username: appDatabase.username,
      database: appDatabase.name,
      host: fromData.address,
      port: fromData.port,
      smtp,
      version: credentials.version,
    });

    const direct = appDatabase.connection === "direct";
    const databases = new TenantDatabases(this, "database", {
      connection: {
        host: direct ? fromData.address : "127.0.0.1",
        port: direct ? fromData.port : appDatabase.tunnelPort,
        // The name RDS was created with (fixed for the instance's life; the secret holds the same): a
        // plain value, because the master's owner-role memberships cannot take an ephemeral one.
        username: data.database.masterUsername,
        password: master.field("password"),
        connectTimeoutSeconds: appDatabase.connectTimeoutSeconds,
        expectedVersion: database.engineVersion,
      },
      logins: [{ name: appDatabase.username, password: secret.password, passwordVersion: secret.passwordVersion }],
      databases: [{ name: appDatabase.name, owner: appDatabase.username }],
      protect,
    });
    // Only what the former stack had moves: the master's owner-role membership is new, it has no old address.
    const formerResources = databases.node.children.filter(
      (c) => TerraformResource.isTerraformResource(c) && c.terraformResourceType !== "postgresql_grant_role",
    );
    this.moves = [
      ...movedFrom(secret, [`credentials-${appDatabase.username}`]),
      ...formerResources.flatMap((c) => movedFrom(c, ["tenants", c.node.id])),
    ];
    this.databaseName = appDatabase.name;
    this.username = appDatabase.username;

    this.declareOutputs(DATABASE_OUTPUTS, {
      databaseName: { value: this.databaseName, description: "SafeBucket's database" },
      databaseUsername: { value: this.username, description: "The login role SafeBucket connects as" },
    });
  }
}
