import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import { EphemeralRandomPassword, EphemeralSecretValue } from "./ephemeral";

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
 * The application secret's value: one JSON document with exactly the keys the Django settings read,
 * written through the write-only `secret_string_wo`, so neither the synthesized JSON nor the state
 * holds a credential.
 *
 * The password and Django key are generated ephemerally on every run but only stored when `version`
 * changes. The database role must then get the same password in the same apply, so this construct
 * reads the version it just wrote back (`password`, `passwordVersion`): the role follows whatever the
 * secret holds, and an apply that fails between the two writes heals on the next apply instead of
 * leaving "password authentication failed" behind.
 */
export class ApplicationCredentials extends Construct {
  /** The password as stored in the secret: an ephemeral reference for a write-only argument. */
  readonly password: string;
  /** Changes whenever a new secret version is written: the `password_wo_version` for the role. */
  readonly passwordVersion: string;
  /** The secret version's id. */
  readonly versionId: string;

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
    super(scope, id);
    const version = props.version ?? 1;
    const passwordLength = props.passwordLength ?? 32;
    const djangoSecretKeyLength = props.djangoSecretKeyLength ?? 50;
    if (!Number.isInteger(version) || version < 1) {
      throw new Error(`ApplicationCredentials ${this.node.path}: version must be a whole number >= 1 (got ${version})`);
    }
    if (passwordLength < 32) {
      throw new Error(`ApplicationCredentials ${this.node.path}: passwordLength must be at least 32 (got ${passwordLength})`);
    }
    if (djangoSecretKeyLength < 50) {
      throw new Error(
        `ApplicationCredentials ${this.node.path}: djangoSecretKeyLength must be at least 50, as Django asks (got ${djangoSecretKeyLength})`,
      );
    }
    for (const [name, value] of Object.entries(props.operatorValues)) {
      if (!Token.isUnresolved(value)) {
        throw new Error(`ApplicationCredentials ${this.node.path}: operatorValues.${name} must be a variable reference, never a literal`);
      }
    }

    const password = new EphemeralRandomPassword(this, "password", { length: passwordLength });
    const djangoSecretKey = new EphemeralRandomPassword(this, "django-secret-key", { length: djangoSecretKeyLength });
    const document: Record<(typeof ApplicationCredentials.KEYS)[number], unknown> = {
      engine: "postgresql",
      host: props.host,
      port: props.port,
      username: props.username,
      password: password.value,
      dbClusterIdentifier: props.dbClusterIdentifier,
      django_secret_key: djangoSecretKey.value,
      stripe_secret_key: props.operatorValues.stripeSecretKey,
      stripe_publishable_key: props.operatorValues.stripePublishableKey,
      stripe_webhook_secret: props.operatorValues.stripeWebhookSecret,
      email_host: props.emailHost,
      email_port: props.emailPort,
      email_user: props.operatorValues.emailUser,
      email_password: props.operatorValues.emailPassword,
    };

    const written = new SecretsmanagerSecretVersion(this, "value", {
      secretId: props.secretId,
      secretStringWo: Fn.jsonencode(document),
      secretStringWoVersion: version,
      // A new wo version replaces the resource: write the new version first, so AWSCURRENT moves
      // straight to it and the old one stays readable as AWSPREVIOUS.
      lifecycle: { createBeforeDestroy: true },
    });
    this.versionId = written.versionId;
    this.passwordVersion = written.versionId;

    // Reading exactly the version written above: while that write is pending its id is unknown, so
    // Terraform opens this read during the apply, after the write.
    this.password = new EphemeralSecretValue(this, "written", { secretId: props.secretId, versionId: written.versionId }).field("password");
  }
}
