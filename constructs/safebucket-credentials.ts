import type { Construct } from "constructs";
import { SecretDocument } from "./secret-document";

export interface SafeBucketCredentialsProps {
  /** ARN of the secret container to write into; a token of this stack. */
  readonly secretId: string;
  /** PostgreSQL login role SafeBucket connects as, and its database. */
  readonly username: string;
  readonly database: string;
  /** Address and port SafeBucket connects to (the RDS endpoint, not the tunnel). */
  readonly host: string;
  readonly port: number;
  /** The relay's SMTP user name and password: variable references, never literals. Omit when mail goes to Mailpit. */
  readonly smtp?: { readonly username: string; readonly password: string };
  /**
   * The secret is written when this changes (and at creation), with a freshly generated database
   * password, JWT secret and admin password.
   * @default 1
   */
  readonly version?: number;
  /**
   * Length of the generated JWT signing secret (letters and digits).
   * @default 64
   */
  readonly jwtSecretLength?: number;
}

/**
 * SafeBucket's secret: its database login, the JWT signing secret and the first admin's password,
 * all generated, plus the SMTP relay's login in production. Nothing of Django or Stripe. Written
 * write-only (a SecretDocument), so no value is in the synthesized JSON or the state.
 */
export class SafeBucketCredentials extends SecretDocument {
  /** The database password as stored: an ephemeral reference for the role's write-only password. */
  readonly password: string;

  /** The keys of the document; the services stack maps each to a SafeBucket variable. */
  static readonly KEYS = ["engine", "host", "port", "dbname", "username", "password", "jwt_secret", "admin_password"] as const;
  static readonly SMTP_KEYS = ["smtp_username", "smtp_password"] as const;

  constructor(scope: Construct, id: string, props: SafeBucketCredentialsProps) {
    super(scope, id, {
      secretId: props.secretId,
      version: props.version,
      keys: [...SafeBucketCredentials.KEYS, ...(props.smtp ? SafeBucketCredentials.SMTP_KEYS : [])],
      generated: {
        password: { length: 32, minLength: 32 },
        // HS256 wants a key at least as long as its 256-bit output.
        jwt_secret: { length: props.jwtSecretLength ?? 64, minLength: 43, prop: "jwtSecretLength", why: " (256 bits for HS256)" },
        admin_password: { length: 32, minLength: 32 },
      },
      values: {
        engine: "postgresql",
        host: props.host,
        port: props.port,
        dbname: props.database,
        username: props.username,
        ...(props.smtp ? { smtp_username: props.smtp.username, smtp_password: props.smtp.password } : {}),
      },
      operatorKeys: props.smtp ? { smtp_username: "smtp.username", smtp_password: "smtp.password" } : {},
    });
    this.password = this.field("password");
  }
}
