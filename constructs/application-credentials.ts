import type { Construct } from "constructs";
import { placeholder } from "./ephemeral";
import { SecretDocument, SecretPatch } from "./secret-document";

/**
 * Values only an operator knows; each an ephemeral variable reference (`var.stripe_secret_key`, ...)
 * whose value, until an operator sets it, is `placeholder(<its secret key>)`.
 */
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
   * The generated password and Django key are written when this changes (and at creation); the
   * Stripe and SMTP values stay as the secret holds them.
   * @default 1
   */
  readonly version?: number;
  /**
   * The Stripe and SMTP values (and emailHost, emailPort) are written when this changes (and at
   * creation); the password and Django key stay. A value left at its placeholder keeps what the
   * secret holds (e.g. SMTP credentials written by `npm run ses:credentials`).
   * @default 1
   */
  readonly operatorValuesVersion?: number;
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
 * read, the database password and Django key generated, Stripe and SMTP values from the operator.
 *
 * Two writes, each with its own counter, so publishing one part never rotates the other:
 * - the document (a SecretDocument, `version`): settings and freshly generated credentials, keeping
 *   the operator's keys as the secret holds them; read back for the role's password;
 * - the operator patch (a SecretPatch, `operatorValuesVersion`), after it: the current value with
 *   only the Stripe and SMTP keys replaced.
 */
export class ApplicationCredentials extends SecretDocument {
  /** The password as stored in the secret: an ephemeral reference for a write-only argument. */
  readonly password: string;
  /** The operator values' write. */
  readonly operatorWrite: SecretPatch;

  /** Keys the operator (or `npm run ses:credentials`) owns: the generated-credentials write keeps them. */
  static readonly OPERATOR_KEYS = [
    "stripe_secret_key",
    "stripe_publishable_key",
    "stripe_webhook_secret",
    "email_host",
    "email_port",
    "email_user",
    "email_password",
  ] as const;

  /** The keys of the JSON document, in the order the Django settings list them. */
  static readonly KEYS = [
    "engine",
    "host",
    "port",
    "username",
    "password",
    "dbClusterIdentifier",
    "django_secret_key",
    ...ApplicationCredentials.OPERATOR_KEYS,
  ] as const;

  constructor(scope: Construct, id: string, props: ApplicationCredentialsProps) {
    const operator = props.operatorValues;
    const operatorValues = {
      stripe_secret_key: operator.stripeSecretKey,
      stripe_publishable_key: operator.stripePublishableKey,
      stripe_webhook_secret: operator.stripeWebhookSecret,
      email_host: props.emailHost,
      email_port: props.emailPort,
      email_user: operator.emailUser,
      email_password: operator.emailPassword,
    };
    super(scope, id, {
      secretId: props.secretId,
      version: props.version,
      keep: ApplicationCredentials.OPERATOR_KEYS,
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
        ...operatorValues,
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
    const secretKeys = ["stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret", "email_user", "email_password"];
    this.operatorWrite = new SecretPatch(this, "operator-values", {
      secretId: props.secretId,
      version: props.operatorValuesVersion,
      values: operatorValues,
      placeholders: Object.fromEntries(secretKeys.map((key) => [key, placeholder(key)])),
      after: this,
    });
  }
}
