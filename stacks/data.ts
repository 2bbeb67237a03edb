import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import type { ApplicationSecret } from "../constructs/application-secret";
import { PostgresInstance } from "../constructs/postgres-instance";
import type { ApplicationModule } from "./application";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";
import { fromConfig } from "./config-errors";

export interface DataStackProps {
  readonly config: EnvironmentConfig;
  readonly network: NetworkStack;
  readonly app: ApplicationModule;
}

/**
 * `<env>-data`: the PostgreSQL instance (in the network stack's DB subnet group, behind its database
 * security group), then what the application keeps here: the containers of its secrets (whose values
 * its SQL layer writes) and its data stores.
 */
export class DataStack extends EnvironmentStack {
  readonly database: PostgresInstance;
  /** The secret the application reads its credentials from (its DB_SECRET_NAME). */
  readonly appSecret: ApplicationSecret;
  /** Every secret holding application credentials: operators on the bastion may read them. */
  readonly appSecrets: readonly ApplicationSecret[];

  readonly instanceIdentifier: string;
  readonly instanceResourceId: string;
  readonly address: string;
  readonly port: number;
  readonly masterUsername: string;
  readonly masterSecretArn: string;
  readonly appSecretArn: string;
  readonly appSecretName: string;
  /** Undefined when enhanced monitoring is off (`database.monitoringIntervalSeconds: 0`). */
  readonly monitoringRoleArn?: string;

  constructor(scope: Construct, props: DataStackProps) {
    super(scope, { config: props.config, layer: "data" });
    const { database: db, protect } = this.config;
    const { network, app } = props;

    this.database = fromConfig(
      this.config,
      "database",
      () =>
        new PostgresInstance(this, "postgres", {
          identifier: db.identifier,
          subnetGroupName: network.dbSubnetGroupName,
          securityGroupIds: [network.databaseSecurityGroupId],
          engineVersion: db.engineVersion,
          // engineVersion changes only through a reviewed config change; without this AWS rejects it.
          allowMajorVersionUpgrade: true,
          applyImmediately: db.applyImmediately,
          instanceClass: db.instanceClass,
          allocatedStorageGb: db.allocatedStorageGb,
          maxAllocatedStorageGb: db.maxAllocatedStorageGb,
          backupRetentionDays: db.backupRetentionDays,
          backupWindow: db.backupWindow,
          maintenanceWindow: db.maintenanceWindow,
          multiAz: db.multiAz,
          deletionProtection: db.deletionProtection,
          skipFinalSnapshot: db.skipFinalSnapshot,
          performanceInsightsRetentionDays: db.performanceInsightsRetentionDays,
          monitoringIntervalSeconds: db.monitoringIntervalSeconds,
          logRetentionDays: db.logRetentionDays,
          logMinDurationStatementMs: db.logMinDurationStatementMs,
          protect,
        }),
    );
    this.instanceIdentifier = this.database.instanceIdentifier;
    this.instanceResourceId = this.database.instanceResourceId;
    this.address = this.database.address;
    this.port = this.database.port;
    this.masterUsername = this.database.masterUsername;
    this.masterSecretArn = this.database.masterSecretArn;
    this.monitoringRoleArn = this.database.monitoringRoleArn;

    const appData = app.addData(this);
    this.appSecret = appData.appSecret;
    this.appSecrets = appData.appSecrets;
    this.appSecretArn = this.appSecret.secretArn;
    this.appSecretName = this.appSecret.secretName;

    const outputs: Record<string, [string | number, string]> = {
      db_instance_identifier: [this.instanceIdentifier, "RDS instance identifier"],
      db_instance_address: [this.address, "Host name of the instance (private: reach it through the bastion)"],
      db_instance_port: [this.port, "PostgreSQL port"],
      db_instance_resource_id: [this.instanceResourceId, "RDS resource id (db-...) of the instance"],
      db_instance_master_user_secret_arn: [this.masterSecretArn, "ARN of the RDS-managed secret with the master credentials"],
      app_secret_arn: [this.appSecretArn, "ARN of the application secret"],
      app_secret_name: [this.appSecretName, "Name of the application secret (the app's DB_SECRET_NAME)"],
    };
    for (const [name, [value, description]] of Object.entries(outputs)) new TerraformOutput(this, name, { value, description });
  }
}
