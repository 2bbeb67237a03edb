/**
 * What tenant isolation means, computed from the model of a synthesized stack (pure), and the
 * catalog snapshot that shows a second apply changed nothing.
 */
import { randomInt } from "node:crypto";
import type { TenantStackModel } from "./provider-model";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A password of the application secret's form: 32 letters and digits, drawn at run time. */
export function secretFormPassword(length = 32): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHABET[randomInt(ALPHABET.length)];
  return out;
}

export interface Expectations {
  /** Every tenant database the stack creates. */
  readonly databases: readonly string[];
  /** Each login role and the databases it must reach (its own); every other tenant database must refuse it. */
  readonly reach: Readonly<Record<string, readonly string[]>>;
}

/**
 * The isolation the stack promises: a login role reaches the databases it owns or is granted CONNECT
 * on, and nothing else; PUBLIC reaches none.
 */
export function expectedIsolation(model: TenantStackModel): Expectations {
  const databases: string[] = [];
  const reach: Record<string, string[]> = {};
  for (const r of model.resources) if (r.type === "postgresql_role" && r.login) reach[r.name] = [];
  for (const r of model.resources) {
    if (r.type === "postgresql_database") {
      databases.push(r.name);
      if (r.owner && reach[r.owner]) reach[r.owner].push(r.name);
    }
  }
  for (const r of model.resources) {
    if (r.type === "postgresql_grant" && r.privileges.includes("CONNECT") && reach[r.role] && !reach[r.role].includes(r.database)) {
      reach[r.role].push(r.database);
    }
  }
  return { databases, reach };
}

/** Roles, memberships (every option column the server has), databases with their ACLs, password hashes. */
export const CATALOG_SNAPSHOT_SQL = `
SELECT json_build_object(
  'roles', (SELECT json_agg(json_build_object('name', r.rolname, 'super', r.rolsuper, 'inherit', r.rolinherit,
              'createrole', r.rolcreaterole, 'createdb', r.rolcreatedb, 'login', r.rolcanlogin, 'connlimit', r.rolconnlimit,
              'validuntil', r.rolvaliduntil::text, 'config', r.rolconfig, 'password', md5(coalesce(a.rolpassword, '')))
              ORDER BY r.rolname)
            FROM pg_roles r JOIN pg_authid a ON a.oid = r.oid WHERE r.rolname !~ '^pg_'),
  'members', (SELECT json_agg(to_jsonb(a) - 'oid' - 'roleid' - 'member' - 'grantor'
              || jsonb_build_object('role', pg_get_userbyid(a.roleid), 'member', pg_get_userbyid(a.member),
                                    'grantor', pg_get_userbyid(a.grantor))
              ORDER BY pg_get_userbyid(a.roleid), pg_get_userbyid(a.member), pg_get_userbyid(a.grantor))
            FROM pg_auth_members a),
  'databases', (SELECT json_agg(json_build_object('name', datname, 'owner', pg_get_userbyid(datdba), 'acl', datacl::text)
              ORDER BY datname) FROM pg_database)
)`;

/** Which parts of two snapshots differ (names only: a snapshot holds password hashes). */
export function snapshotDifferences(before: string, after: string): string[] {
  const a = JSON.parse(before) as Record<string, unknown>;
  const b = JSON.parse(after) as Record<string, unknown>;
  return Object.keys({ ...a, ...b }).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** PUBLIC's privileges on a database, counting the default ACL a never-granted database has. */
export function publicPrivilegesSql(database: string): string {
  const name = database.replace(/'/g, "''");
  return `SELECT coalesce(string_agg(privilege_type, ',' ORDER BY privilege_type), '') FROM (SELECT (aclexplode(coalesce(datacl, acldefault('d', datdba)))).* FROM pg_database WHERE datname = '${name}') p WHERE grantee = 0`;
}

/** Warnings that mean a GRANT or REVOKE did nothing (PostgreSQL only warns when the grantor lacks rights). */
export function isNoOpPrivilegeWarning(message: string): boolean {
  return /no privileges (could be revoked|were granted)|not all privileges (could be revoked|were granted)/.test(message);
}
