import { Database } from "@cdktf/provider-postgresql/lib/database";
import { Grant } from "@cdktf/provider-postgresql/lib/grant";
import { GrantRole } from "@cdktf/provider-postgresql/lib/grant-role";
import { PostgresqlProvider } from "@cdktf/provider-postgresql/lib/provider";
import { Role } from "@cdktf/provider-postgresql/lib/role";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { propError } from "./errors";

/** How Terraform reaches the PostgreSQL server, as its master user. */
export interface PostgresServerConnection {
  /** `127.0.0.1` through the SSM tunnel, or the RDS address from inside the VPC. */
  readonly host: string;
  readonly port: number;
  /**
   * The master username, as a plain value (RDS fixes it at creation; the secret holds the same name):
   * besides logging in as it, the master becomes a lasting member of each owner role through
   * postgresql_grant_role, whose arguments cannot be ephemeral.
   */
  readonly username: string;
  /** The master password: an ephemeral reference, never a literal. */
  readonly password: string;
  /**
   * Seconds to wait for a connection before failing.
   * @default 15
   */
  readonly connectTimeoutSeconds?: number;
  /**
   * The server's PostgreSQL major version, so the provider need not guess which features it has.
   * @default - asked from the server
   */
  readonly expectedVersion?: string;
}

/** A login role whose password is set through the write-only `password_wo`. */
export interface TenantLogin {
  readonly name: string;
  /** An ephemeral reference: the value never reaches the plan or the state. */
  readonly password: string;
  /**
   * Any string that changes whenever `password` must be written to the server again; the provider
   * writes `password_wo` only when it changes.
   */
  readonly passwordVersion: string;
}

export interface TenantDatabase {
  readonly name: string;
  /** Name of one of `logins`: it owns the database and is the only role that may connect. */
  readonly owner: string;
}

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const TENANT_DATABASES_DEFAULTS = {
  connectTimeoutSeconds: 15,
} as const;

export interface TenantDatabasesProps {
  readonly connection: PostgresServerConnection;
  readonly logins: readonly TenantLogin[];
  readonly databases: readonly TenantDatabase[];
  /**
   * `prevent_destroy` on every database: dropping one drops a tenant's data.
   * @default true
   */
  readonly protect?: boolean;
  /**
   * Collation and character classification of every database.
   * @default "en_US.UTF-8"
   */
  readonly locale?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
/** Every privilege a database has: CONNECT, CREATE (schemas), TEMPORARY. */
const ALL_DATABASE_PRIVILEGES = ["CONNECT", "CREATE", "TEMPORARY"];

/**
 * Tenant databases on an RDS PostgreSQL server, created by Terraform through the cyrilgdn/postgresql
 * provider as the master user: login roles, one database per tenant owned by its role, and the grants
 * that make each database reachable by its owner only.
 *
 * PostgreSQL grants CONNECT and TEMPORARY on every new database to PUBLIC; only the owner (or a role
 * holding the owner's privileges) can take them back. RDS's master is not a superuser, and the
 * provider's own membership in the owner lasts only for CREATE DATABASE, so a REVOKE run by the bare
 * master does nothing (PostgreSQL only warns). Hence the master is made a lasting member of every
 * owner role, before any database exists: the REVOKE and GRANT then run with the owner's rights, and
 * the master keeps CONNECT through the owner, which the provider's refresh needs (it connects to each
 * database). Proven on a real server by `npm run test:tenants`.
 */
export class TenantDatabases extends Construct {
  /** Database names, in the order given. */
  readonly databaseNames: readonly string[];
  /** Owner role of each database, by database name. */
  readonly ownerOf: Readonly<Record<string, string>>;
  /** The roles the master is a lasting member of (each database owner). */
  readonly masterMemberOf: readonly string[];

  constructor(scope: Construct, id: string, props: TenantDatabasesProps) {
    super(scope, id);
    const protect = props.protect ?? true;
    const locale = props.locale ?? "en_US.UTF-8";
    const connectTimeout = props.connection.connectTimeoutSeconds ?? TENANT_DATABASES_DEFAULTS.connectTimeoutSeconds;
    this.check(props, connectTimeout);

    new PostgresqlProvider(this, "postgresql", {
      host: props.connection.host,
      port: props.connection.port,
      database: "postgres",
      username: props.connection.username,
      password: props.connection.password,
      // RDS has no true superuser: the master user is a member of rds_superuser, and the provider must
      // not try superuser-only statements (it grants itself role membership where it needs to act as one).
      superuser: false,
      // `require` encrypts without checking the host name, which is 127.0.0.1 through the tunnel.
      sslmode: "require",
      connectTimeout,
      expectedVersion: props.connection.expectedVersion,
    });

    const roles = new Map<string, Role>();
    for (const login of props.logins) {
      roles.set(
        login.name,
        new Role(this, `role-${login.name}`, {
          name: login.name,
          login: true,
          passwordWo: login.password,
          passwordWoVersion: login.passwordVersion,
          createDatabase: false,
          createRole: false,
        }),
      );
    }

    // The master as a member (with the master's INHERIT) of each owner role. Without ADMIN OPTION: on
    // PostgreSQL 16 the CREATEROLE master already holds ADMIN on roles it created, and granting ADMIN to
    // oneself fails there ("ADMIN option cannot be granted back to your own grantor").
    const memberships = new Map<string, GrantRole>();
    for (const owner of new Set(props.databases.map((d) => d.owner))) {
      memberships.set(
        owner,
        new GrantRole(this, `master-member-of-${owner}`, {
          role: props.connection.username,
          grantRole: roles.get(owner)!.name,
          withAdminOption: false,
          // On 16 pg_auth_members holds two rows for (owner, master): the ADMIN row of the role's
          // creation (grantor the bootstrap superuser) and ours (grantor the master). Provider 1.26 reads
          // whichever the scan returns first (cyrilgdn/terraform-provider-postgresql,
          // postgresql/resource_postgresql_grant_role.go, readGrantRole: no grantor filter, no ORDER BY),
          // so with_admin_option may read true, and as it is ForceNew every plan would replace this;
          // the replacement's REVOKE removes only our row, never the ADMIN one, so it never converges.
          lifecycle: { ignoreChanges: ["with_admin_option"] },
        }),
      );
    }

    for (const spec of props.databases) {
      const owner = roles.get(spec.owner)!;
      const database = new Database(this, `database-${spec.name}`, {
        name: spec.name,
        owner: owner.name,
        // template1 may carry objects someone added; template0 is pristine and allows another locale.
        template: "template0",
        encoding: "UTF8",
        lcCollate: locale,
        lcCtype: locale,
        allowConnections: true,
        lifecycle: { preventDestroy: protect },
        // Created once the master is a member of the owner: the provider's temporary GRANT/REVOKE of the
        // owner around CREATE DATABASE is then skipped, and the membership outlives it.
        dependsOn: [memberships.get(spec.owner)!],
      });
      // An empty privilege list makes the provider revoke everything PUBLIC holds on the database; it
      // takes effect because the master acts with the owner's rights (see memberships above).
      new Grant(this, `revoke-public-${spec.name}`, {
        database: database.name,
        role: "public",
        objectType: "database",
        privileges: [],
      });
      new Grant(this, `grant-owner-${spec.name}`, {
        database: database.name,
        role: owner.name,
        objectType: "database",
        privileges: ALL_DATABASE_PRIVILEGES,
      });
    }

    this.databaseNames = props.databases.map((d) => d.name);
    this.ownerOf = Object.fromEntries(props.databases.map((d) => [d.name, d.owner]));
    this.masterMemberOf = [...memberships.keys()];
  }

  private check(props: TenantDatabasesProps, connectTimeout: number): void {
    const fail = (message: string): never => {
      throw propError(this, message);
    };
    if (!Number.isInteger(connectTimeout) || connectTimeout < 1) {
      fail(`connection.connectTimeoutSeconds must be a whole number of seconds >= 1 (got ${connectTimeout})`);
    }
    if (!Token.isUnresolved(props.connection.username) && !IDENTIFIER.test(props.connection.username)) {
      fail(`connection.username must be a PostgreSQL role name (got "${props.connection.username}")`);
    }
    if (!Token.isUnresolved(props.connection.password)) {
      fail("connection.password must be a reference (an ephemeral secret value), never a literal");
    }
    if (props.databases.length === 0) fail("databases needs at least one database");
    const logins = new Set<string>();
    props.logins.forEach((login, i) => {
      if (!IDENTIFIER.test(login.name)) fail(`logins[${i}].name must be a lowercase PostgreSQL identifier (got "${login.name}")`);
      if (logins.has(login.name)) fail(`logins[${i}].name "${login.name}" is listed twice`);
      if (!Token.isUnresolved(login.password)) fail(`logins[${i}].password must be a reference (an ephemeral value), never a literal`);
      logins.add(login.name);
    });
    const databases = new Set<string>();
    props.databases.forEach((database, i) => {
      if (!IDENTIFIER.test(database.name)) fail(`databases[${i}].name must be a lowercase PostgreSQL identifier (got "${database.name}")`);
      if (databases.has(database.name)) fail(`databases[${i}].name "${database.name}" is listed twice`);
      if (!logins.has(database.owner)) {
        fail(`databases[${i}].owner must be one of logins (${[...logins].join(", ") || "none"}) (got "${database.owner}")`);
      }
      databases.add(database.name);
    });
  }
}
