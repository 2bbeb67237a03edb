import type { Construct } from "constructs";
import type { StartupWebAppConfig } from "../../config/schema";
import { ApplicationSecret } from "../../constructs/application-secret";
import type { ApplicationData, ApplicationModule, CoreStacks } from "../application";
import type { DataStack } from "../data";
import { EmailStack } from "./email";
import { TenantsStack } from "./tenants";
import { WebStack } from "./web";

/**
 * StartupWebApp: a multi-tenant Django app, one PostgreSQL database per tenant on the core instance.
 * It keeps its Django secret in the data stack (one per tenant with per-database isolation) and adds
 * the `<env>-tenants` layer, which creates the databases and roles and writes the secret's value.
 * Its alarms are the core's RDS alarms, on the topic its runbooks call `rds-alerts`.
 */
export class StartupWebApp implements ApplicationModule {
  readonly alertTopic = { id: "rds-alerts", nameParts: ["rds", "alerts"] } as const;
  readonly network: ApplicationModule["network"];
  /** The secret each tenant database's credentials go into, by database name; set by `addData`. */
  tenantSecrets: Readonly<Record<string, ApplicationSecret>> = {};

  constructor(readonly config: StartupWebAppConfig) {
    // Django sends mail through the SMTP relay (SES or Gmail) named in its secret.
    this.network = { cacheSubnetGroup: false, smtpPort: config.tenants.emailPort };
  }

  /**
   * The application secret and, with `tenants.isolation` "per-database", one `<secretName>/<database>`
   * per tenant; the tenants stack writes their values.
   */
  addData(stack: DataStack): ApplicationData {
    const { tenants, protect } = this.config;
    const appSecret = new ApplicationSecret(stack, "app-secret", {
      secretName: tenants.secretName,
      recoveryWindowDays: tenants.secretRecoveryWindowDays,
      protect,
    });
    this.tenantSecrets = Object.fromEntries(
      tenants.databases.map((name) => [
        name,
        tenants.isolation === "shared"
          ? appSecret
          : new ApplicationSecret(stack, `secret-${name}`, {
              secretName: `${tenants.secretName}/${name}`,
              description: `Credentials of tenant database ${name}; value written by the tenants stack`,
              recoveryWindowDays: tenants.secretRecoveryWindowDays,
              protect,
            }),
      ]),
    );
    return { appSecret, appSecrets: [...new Set([appSecret, ...Object.values(this.tenantSecrets)])] };
  }

  addStacks(scope: Construct, core: CoreStacks): { email?: EmailStack; tenants: TenantsStack; web?: WebStack } {
    // SES before the tenants stack: deploy order is layer order, and npm run ses:credentials reads its outputs.
    const email =
      this.config.email === undefined ? undefined : new EmailStack(scope, { config: this.config, observability: core.observability });
    email?.addDependency(core.observability);
    const tenants = new TenantsStack(scope, { config: this.config, data: core.data, tenantSecrets: this.tenantSecrets });
    // The tunnel to the database runs through the access stack's bastion.
    tenants.addDependency(core.access);
    // The web layer after the tenants: its tasks need the databases and the secrets' values.
    const web =
      this.config.web === undefined
        ? undefined
        : new WebStack(scope, { config: this.config, core, tenantSecrets: this.tenantSecrets, secretNames: tenants.secretNames });
    web?.addDependency(tenants);
    return { ...(email ? { email } : {}), tenants, ...(web ? { web } : {}) };
  }
}
