import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import type { ApplicationSecret } from "../constructs/application-secret";
import { PostgresInstance } from "../constructs/postgres-instance";
import type { ApplicationModule } from "./application";
import { EnvironmentStack } from "./environment-stack";
import type { NetworkStack } from "./network";
import { fromConfig } from "./config-errors";
import { DATA_OUTPUTS } from "./outputs";

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
  /** The PostgreSQL instance: later stacks read its `address`, `port`, `masterSecretArn`, `instanceIdentifier`. */
  readonly database: PostgresInstance;
  /** The secret the application reads its credentials from (its DB_SECRET_NAME). */
  readonly appSecret: ApplicationSecret;
  /** Every secret holding application credentials: operators on the bastion may read them. */
  readonly appSecrets: readonly ApplicationSecret[];

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
          subnetGroupName: network.vpc.dbSubnetGroupName,
          securityGroupIds: [network.securityGroups.database.securityGroupId],
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
    const appData = app.addData(this);
    this.appSecret = appData.appSecret;
    this.appSecrets = appData.appSecrets;

    const instance = this.database;
    this.declareOutputs(DATA_OUTPUTS, {
      dbInstanceIdentifier: { value: instance.instanceIdentifier, description: "RDS instance identifier" },
      dbInstanceAddress: { value: instance.address, description: "Host name of the instance (private: reach it through the bastion)" },
      dbInstancePort: { value: instance.port, description: "PostgreSQL port" },
      dbInstanceResourceId: { value: instance.instanceResourceId, description: "RDS resource id (db-...) of the instance" },
      dbInstanceMasterUserSecretArn: {
        value: instance.masterSecretArn,
        description: "ARN of the RDS-managed secret with the master credentials",
      },
      appSecretArn: { value: this.appSecret.secretArn, description: "ARN of the application secret" },
      appSecretName: { value: this.appSecret.secretName, description: "Name of the application secret (the app's DB_SECRET_NAME)" },
    });
  }
}
