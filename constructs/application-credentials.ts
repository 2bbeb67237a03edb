import { Construct } from "constructs";
import { SecretDocument } from "./secret-document";

/** Values only an operator knows; each an ephemeral variable reference (`var.stripe_secret_key`, ...). */
export interface OperatorValues {
  readonly stripeSecretKey: string;
  readonly stripePublishableKey: string;
  readonly stripeWebhookSecret: string;
  readonly emailUser: string;
  readonly emailPassword: string;
}

export interface ApplicationCredentialsProps {
  /** ARN of the secret container to write into; a token of this stack. */
  readonly secretId: string;
  /** PostgreSQL login role the application connects as. */
  readonly username: string;
  /** Address and port the application connects to (the RDS endpoint, not the tunnel). */
  readonly host: string;
  readonly port: number;
  /** The RDS instance identifier (the Django settings call it dbClusterIdentifier). */
  readonly dbClusterIdentifier: string;
  readonly emailHost: string;
  readonly emailPort: number;
  readonly operatorValues: OperatorValues;
  /**
   * The secret is written when this changes (and at creation), with a freshly generated password and
   * Django key; bump it to rotate them or to publish new host, Stripe or SMTP values.
   * @default 1
   */
  readonly version?: number;
  /**
   * Length of the generated database password (letters and digits).
   * @default 32
   */
  readonly passwordLength?: number;
  /**
   * Length of the generated Django SECRET_KEY (letters and digits).
   * @default 50
   */
  readonly djangoSecretKeyLength?: number;
}

/**
 * StartupWebApp's application secret: one JSON document with exactly the keys its Django settings
 * read, the database password and Django key generated, Stripe and SMTP values from the operator
 * (a SecretDocument: write-only, read back for the role's password).
 */
export class ApplicationCredentials extends SecretDocument {
  /** The password as stored in the secret: an ephemeral reference for a write-only argument. */
  readonly password: string;

  /** The keys of the JSON document, in the order the Django settings list them. */
  static readonly KEYS = [
    "engine",
    "host",
    "port",
    "username",
    "password",
    "dbClusterIdentifier",
    "django_secret_key",
    "stripe_secret_key",
    "stripe_publishable_key",
    "stripe_webhook_secret",
    "email_host",
    "email_port",
    "email_user",
    "email_password",
  ] as const;

  constructor(scope: Construct, id: string, props: ApplicationCredentialsProps) {
    const operator = props.operatorValues;
    super(scope, id, {
      secretId: props.secretId,
      version: props.version,
      keys: ApplicationCredentials.KEYS,
      generated: {
        password: { length: props.passwordLength ?? 32, minLength: 32, prop: "passwordLength" },
        django_secret_key: {
          length: props.djangoSecretKeyLength ?? 50,
          minLength: 50,
          prop: "djangoSecretKeyLength",
          why: ", as Django asks",
        },
      },
      values: {
        engine: "postgresql",
        host: props.host,
        port: props.port,
        username: props.username,
        dbClusterIdentifier: props.dbClusterIdentifier,
        stripe_secret_key: operator.stripeSecretKey,
        stripe_publishable_key: operator.stripePublishableKey,
        stripe_webhook_secret: operator.stripeWebhookSecret,
        email_host: props.emailHost,
        email_port: props.emailPort,
        email_user: operator.emailUser,
        email_password: operator.emailPassword,
      },
      operatorKeys: {
        stripe_secret_key: "operatorValues.stripeSecretKey",
        stripe_publishable_key: "operatorValues.stripePublishableKey",
        stripe_webhook_secret: "operatorValues.stripeWebhookSecret",
        email_user: "operatorValues.emailUser",
        email_password: "operatorValues.emailPassword",
      },
    });
    this.password = this.field("password");
  }
}
