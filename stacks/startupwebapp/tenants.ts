import { TerraformLocal } from "cdktf";
import type { Construct } from "constructs";
import type { StartupWebAppConfig } from "../../config/schema";
import type { ApplicationSecret } from "../../constructs/application-secret";
import { ApplicationCredentials, type OperatorValues } from "../../constructs/application-credentials";
import { EphemeralSecretValue, ephemeralVariable, placeholder } from "../../constructs/ephemeral";
import { TenantDatabases, type TenantLogin } from "../../constructs/tenant-databases";
import type { DataStack } from "../data";
import { EnvironmentStack } from "../environment-stack";
import { TENANTS_OUTPUTS } from "./outputs";

export interface TenantsStackProps {
  readonly config: StartupWebAppConfig;
  readonly data: DataStack;
  /** The secret each tenant database's credentials go into, by database name (the data stack's). */
  readonly tenantSecrets: Readonly<Record<string, ApplicationSecret>>;
}

export { placeholder } from "../../constructs/ephemeral";

/**
 * `<env>-tenants`: the tenant databases and their login roles (through the cyrilgdn/postgresql
 * provider, as the RDS master user, reached through the SSM tunnel or directly), and the application
 * secret's value. No password is in the synthesized JSON or the state: the master password is read
 * ephemerally, the app password and Django key are generated ephemerally and written only through
 * write-only arguments.
 */
export class TenantsStack extends EnvironmentStack {
  declare readonly config: StartupWebAppConfig;
  readonly databaseNames: readonly string[];
  /** The login role of each database, by database name. */
  readonly usernames: Readonly<Record<string, string>>;
  /** The secret (the app's DB_SECRET_NAME) holding each database's credentials, by database name. */
  readonly secretNames: Readonly<Record<string, string>>;

  constructor(scope: Construct, props: TenantsStackProps) {
    super(scope, { config: props.config, layer: "tenants" });
    const { data } = props;
    const { tenants, database, protect } = this.config;

    // Data-stack values pass through locals of this stack: inside the raw ephemeral blocks a foreign
    // token would not become a cross-stack reference.
    const fromData = {
      masterSecretArn: new TerraformLocal(this, "master_secret_arn", data.database.masterSecretArn).asString,
      appSecretArn: new TerraformLocal(this, "app_secret_arn", data.appSecret.secretArn).asString,
      address: new TerraformLocal(this, "db_instance_address", data.database.address).asString,
      port: new TerraformLocal(this, "db_instance_port", data.database.port).asNumber,
      identifier: new TerraformLocal(this, "db_instance_identifier", data.database.instanceIdentifier).asString,
    };

    const master = new EphemeralSecretValue(this, "master-credentials", { secretId: fromData.masterSecretArn });
    const operatorValues = operatorVariables(this);

    const owners =
      tenants.isolation === "shared" ? [sharedOwner(this.config, fromData.appSecretArn)] : perDatabaseOwners(this, props.tenantSecrets);
    const logins: TenantLogin[] = owners.map((owner) => {
      const credentials = new ApplicationCredentials(this, `credentials-${owner.username}`, {
        secretId: owner.secretArn,
        username: owner.username,
        host: fromData.address,
        port: fromData.port,
        dbClusterIdentifier: fromData.identifier,
        emailHost: tenants.emailHost,
        emailPort: tenants.emailPort,
        operatorValues,
        version: tenants.credentialsVersion,
        operatorValuesVersion: tenants.operatorValuesVersion,
      });
      return { name: owner.username, password: credentials.password, passwordVersion: credentials.passwordVersion };
    });

    const direct = tenants.connection === "direct";
    new TenantDatabases(this, "tenants", {
      connection: {
        host: direct ? fromData.address : "127.0.0.1",
        port: direct ? fromData.port : tenants.tunnelPort,
        // The name RDS was created with (fixed for the instance's life; the secret holds the same): a
        // plain value, because the master's owner-role memberships cannot take an ephemeral one.
        username: data.database.masterUsername,
        password: master.field("password"),
        connectTimeoutSeconds: tenants.connectTimeoutSeconds,
        expectedVersion: database.engineVersion,
      },
      logins,
      databases: owners.flatMap((owner) => owner.databases.map((name) => ({ name, owner: owner.username }))),
      protect,
    });

    this.databaseNames = [...tenants.databases];
    this.usernames = Object.fromEntries(owners.flatMap((o) => o.databases.map((db) => [db, o.username])));
    this.secretNames = Object.fromEntries(owners.flatMap((o) => o.databases.map((db) => [db, o.secretName])));

    this.declareOutputs(TENANTS_OUTPUTS, {
      tenantDatabases: { value: this.databaseNames, description: "Tenant databases (the app's DATABASE_NAME)" },
      tenantUsernames: { value: this.usernames, description: "Login role of each tenant database" },
      tenantSecretNames: {
        value: this.secretNames,
        description: "Secret holding each tenant database's credentials (the app's DB_SECRET_NAME)",
      },
    });
  }
}

interface Owner {
  readonly username: string;
  readonly secretArn: string;
  readonly secretName: string;
  readonly databases: readonly string[];
}

/** `shared`: one role owns every database; its credentials go into the data stack's secret. */
function sharedOwner(config: StartupWebAppConfig, appSecretArn: string): Owner {
  return {
    username: config.tenants.appUser,
    secretArn: appSecretArn,
    secretName: config.tenants.secretName,
    databases: config.tenants.databases,
  };
}

/**
 * `per-database`: role `<database>_app` per database, its credentials in the database's own secret
 * (created by the data stack), so one tenant's leaked credentials open no other tenant's data.
 */
function perDatabaseOwners(stack: TenantsStack, secrets: Readonly<Record<string, ApplicationSecret>>): Owner[] {
  return stack.config.tenants.databases.map((name, i) => {
    const username = `${name}_app`;
    if (username.length > 63) {
      throw new Error(
        `tenants.databases[${i}]: at most 59 characters with isolation "per-database", its role ${username} must fit PostgreSQL's 63 (got ${name.length})`,
      );
    }
    const secret = secrets[name];
    const secretArn = new TerraformLocal(stack, `secret_arn_${name}`, secret.secretArn).asString;
    return { username, secretArn, secretName: `${stack.config.tenants.secretName}/${name}`, databases: [name] };
  });
}

/** Stripe and SMTP values, from `TF_VAR_<name>`; obviously fake until an operator sets them. */
function operatorVariables(stack: TenantsStack): OperatorValues {
  const variable = (name: string, description: string): string =>
    ephemeralVariable(stack, name, { description, default: placeholder(name) });
  return {
    stripeSecretKey: variable("stripe_secret_key", "Stripe secret API key"),
    stripePublishableKey: variable("stripe_publishable_key", "Stripe publishable key"),
    stripeWebhookSecret: variable("stripe_webhook_secret", "Stripe webhook signing secret (the Django settings require it)"),
    emailUser: variable("email_user", "SMTP user name (SES SMTP credentials)"),
    emailPassword: variable("email_password", "SMTP password (SES SMTP credentials)"),
  };
}
