import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lazy, TerraformVariable } from "cdktf";
import { TenantDatabases } from "../../constructs/tenant-databases";
import { expectedIsolation, isNoOpPrivilegeWarning, secretFormPassword, snapshotDifferences } from "../../scripts/lib/tenant-sql/isolation";
import {
  createDatabaseStatement,
  createRoleStatements,
  grantRoleStatements,
  type ModelResource,
  MODELLED_PROVIDER,
  ProviderModel,
  quoteIdentifier,
  quoteLiteral,
  readTenantStack,
  type SqlSession,
  type TenantStackModel,
} from "../../scripts/lib/tenant-sql/provider-model";
import { loadConfigs } from "../../config/load";
import { targetsFor } from "../../scripts/lib/tenant-sql/run";
import { redact, warningsOf } from "../../scripts/lib/tenant-sql/session";
import { type Json, synth, testStack } from "../helpers";

/** A synthesized stack holding one TenantDatabases, as the SQL layers build it. */
function stackJson(perDatabase = false): Json {
  const stack = testStack(undefined, "tenants");
  const ref = (name: string): string => new TerraformVariable(stack, name, { type: "string", sensitive: true }).stringValue;
  const names = ["alpha", "beta"];
  new TenantDatabases(stack, "tenants", {
    connection: { host: "127.0.0.1", port: 15432, username: "postgres", password: ref("master_password") },
    logins: perDatabase
      ? names.map((n) => ({ name: `${n}_app`, password: ref(`${n}_password`), passwordVersion: "1" }))
      : [{ name: "django_app", password: Lazy.stringValue({ produce: () => "${var.app_password}" }), passwordVersion: "1" }],
    databases: names.map((name) => ({ name, owner: perDatabase ? `${name}_app` : "django_app" })),
  });
  return synth(stack);
}

/** Records what the model sends (and which resource it was creating); keeps role memberships as GRANT and REVOKE leave them. */
class RecordingSession implements SqlSession {
  readonly sent: { database: string; sql: string }[] = [];
  private readonly members = new Set<string>();
  readonly log = (line: string): void => void this.sent.push({ database: "-", sql: `-- ${line}` });
  async exec(database: string, statements: readonly string[]): Promise<void> {
    for (const sql of statements) {
      this.sent.push({ database, sql });
      const grant = /^GRANT ("[^"]+") TO ("[^"]+")$/.exec(sql);
      const revoke = /^REVOKE ("[^"]+") FROM ("[^"]+")$/.exec(sql);
      if (grant) this.members.add(`${grant[1]}>${grant[2]}`);
      if (revoke) this.members.delete(`${revoke[1]}>${revoke[2]}`);
    }
  }
  async query(database: string, sql: string): Promise<Record<string, unknown>[]> {
    this.sent.push({ database, sql });
    const member =
      /^SELECT 1 FROM pg_auth_members WHERE pg_get_userbyid\(roleid\) = '([^']+)' AND pg_get_userbyid\(member\) = '([^']+)'/.exec(sql);
    if (member) return this.members.has(`"${member[1]}">"${member[2]}"`) ? [{ "?column?": 1 }] : [];
    return [];
  }
  /** The statements (not queries) sent while creating the resource whose address starts with `prefix`. */
  createOf(prefix: string): string[] {
    const start = this.sent.findIndex((s) => s.sql.startsWith(`-- create ${prefix}`));
    const end = this.sent.findIndex((s, i) => i > start && s.sql.startsWith("-- "));
    return this.sent
      .slice(start + 1, end < 0 ? undefined : end)
      .map((s) => s.sql)
      .filter((sql) => !sql.startsWith("SELECT"));
  }
}

const inputs = { masterUsername: "postgres", passwords: { django_app: "A".repeat(32) } };

interface Membership {
  readonly role: string;
  readonly member: string;
  readonly grantor: string;
  readonly admin: boolean;
  readonly set: boolean;
}

/**
 * pg_auth_members as PostgreSQL 16 keeps it under an RDS-like CREATEROLE master `postgres` (only 15 runs
 * here): one row per grantor, returned in insertion order as a heap scan would. CREATE ROLE by the master
 * adds the ADMIN row granted by the bootstrap superuser (INHERIT and SET off: createrole_self_grant is
 * empty); GRANT and REVOKE without GRANTED BY act on the master's own row; CREATE DATABASE ... OWNER needs
 * a row with SET.
 */
class Pg16Catalog implements SqlSession {
  readonly rows: Membership[] = [];
  readonly sent: string[] = [];
  private readonly master = "postgres";
  async exec(_database: string, statements: readonly string[]): Promise<void> {
    for (const sql of statements) {
      this.sent.push(sql);
      const role = /^CREATE ROLE "([^"]+)"/.exec(sql);
      const grant = /^GRANT "([^"]+)" TO "([^"]+)"( WITH ADMIN OPTION)?$/.exec(sql);
      const revoke = /^REVOKE "([^"]+)" FROM "([^"]+)"$/.exec(sql);
      const database = /^CREATE DATABASE "[^"]+" OWNER "([^"]+)"/.exec(sql);
      if (role) this.rows.push({ role: role[1], member: this.master, grantor: "rdsadmin", admin: true, set: false });
      if (grant && !this.rows.some((r) => r.role === grant[1] && r.member === grant[2] && r.grantor === this.master)) {
        this.rows.push({ role: grant[1], member: grant[2], grantor: this.master, admin: grant[3] !== undefined, set: true });
      }
      if (revoke) {
        const i = this.rows.findIndex((r) => r.role === revoke[1] && r.member === revoke[2] && r.grantor === this.master);
        if (i >= 0) this.rows.splice(i, 1);
      }
      if (database && !this.rows.some((r) => r.role === database[1] && r.member === this.master && r.set)) {
        throw new Error(`must be able to SET ROLE "${database[1]}"`);
      }
    }
  }
  async query(_database: string, sql: string): Promise<Record<string, unknown>[]> {
    if (sql.includes("column_name = 'set_option'")) return [{ "?column?": 1 }];
    const member = /pg_get_userbyid\(roleid\) = '([^']+)' AND pg_get_userbyid\(member\) = '([^']+)'( AND set_option)?/.exec(sql);
    if (member) {
      return this.rows
        .filter((r) => r.role === member[1] && r.member === member[2] && (!member[3] || r.set))
        .map(() => ({ "?column?": 1 }));
    }
    const read = /FROM pg_auth_members WHERE pg_get_userbyid\(member\) = '([^']+)' AND pg_get_userbyid\(roleid\) = '([^']+)'/.exec(sql);
    if (read) {
      return this.rows
        .filter((r) => r.member === read[1] && r.role === read[2])
        .map((r) => ({ role: r.member, grant_role: r.role, admin_option: r.admin }));
    }
    return [];
  }
  /** The master's rows for `role`, as "grantor:admin/set". */
  masterRows(role: string): string[] {
    return this.rows.filter((r) => r.role === role && r.member === this.master).map((r) => `${r.grantor}:${r.admin}/${r.set}`);
  }
}

const membershipOf = (model: TenantStackModel): ModelResource => model.resources.find((r) => r.type === "postgresql_grant_role")!;

describe("provider model: reading the synthesized stack", () => {
  test("the model is of the provider version the stacks pin", () => {
    expect(stackJson().terraform.required_providers.postgresql.version).toBe(MODELLED_PROVIDER.version);
  });

  test("a stack pinning another provider version is refused", () => {
    const json = stackJson();
    json.terraform.required_providers.postgresql.version = "1.27.0";
    expect(() => readTenantStack(json)).toThrow(/re-derive the model/);
  });

  test("references resolve to names and the master's name is the plain provider username", () => {
    const model = readTenantStack(stackJson());
    expect(model.provider).toMatchObject({ username: "postgres", database: "postgres", superuser: false });
    const database = model.resources.find((r) => r.type === "postgresql_database" && r.name === "alpha");
    expect(database).toMatchObject({ owner: "django_app", template: "template0", lcCollate: "en_US.UTF-8" });
  });

  test("apply order: role, the master's membership, then the database, then its grants", () => {
    const order = readTenantStack(stackJson()).resources.map((r) => r.type);
    expect(order.indexOf("postgresql_role")).toBeLessThan(order.indexOf("postgresql_grant_role"));
    expect(order.indexOf("postgresql_grant_role")).toBeLessThan(order.indexOf("postgresql_database"));
    expect(order.lastIndexOf("postgresql_database")).toBeLessThan(order.lastIndexOf("postgresql_grant"));
  });

  test("an ephemeral master username leaves the name to the caller", () => {
    const json = stackJson();
    json.provider.postgresql[0].username = "${jsondecode(ephemeral.aws_secretsmanager_secret_version.x.secret_string).username}";
    expect(readTenantStack(json).provider.username).toBeUndefined();
  });
});

describe("provider model: statements", () => {
  test("identifiers and literals are quoted as lib/pq does", () => {
    expect(quoteIdentifier('we"ird')).toBe('"we""ird"');
    expect(quoteLiteral("it's \\ here")).toBe("'it''s \\\\ here'");
  });

  test("a role is created with its write-only password, no superuser, no BYPASSRLS", () => {
    const [create] = createRoleStatements(
      {
        type: "postgresql_role",
        address: "r",
        dependsOn: [],
        name: "django_app",
        login: true,
        createDatabase: false,
        createRole: false,
        writeOnlyPassword: true,
        ignoreChanges: [],
      },
      "pw",
    );
    expect(create).toBe(
      `CREATE ROLE "django_app" WITH ENCRYPTED PASSWORD 'pw' VALID UNTIL 'infinity' CONNECTION LIMIT -1 NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT LOGIN NOBYPASSRLS NOREPLICATION`,
    );
  });

  test("CREATE DATABASE names the owner, template, encoding and locale", () => {
    const model = readTenantStack(stackJson());
    const db = model.resources.find((r) => r.type === "postgresql_database")!;
    expect(createDatabaseStatement(db as never, "postgres")).toMatch(
      /^CREATE DATABASE "alpha" OWNER "django_app" TEMPLATE "template0" ENCODING 'UTF8' LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'/,
    );
  });

  test("with the master already a member, CREATE DATABASE is not wrapped in a temporary GRANT and REVOKE", async () => {
    const session = new RecordingSession();
    await new ProviderModel(readTenantStack(stackJson()), session, inputs, session.log).apply();
    expect(session.createOf("postgresql_grant_role.")).toEqual(['REVOKE "django_app" FROM "postgres"', 'GRANT "django_app" TO "postgres"']);
    expect(session.createOf("postgresql_database.tenants_database-alpha")).toEqual([expect.stringMatching(/^CREATE DATABASE "alpha"/)]);
  });

  test("without the membership the provider grants the owner to itself around CREATE DATABASE and takes it back", async () => {
    const session = new RecordingSession();
    const full = readTenantStack(stackJson());
    const old: TenantStackModel = { ...full, resources: full.resources.filter((r) => r.type !== "postgresql_grant_role") };
    await new ProviderModel(old, session, inputs, session.log).apply();
    expect(session.createOf("postgresql_database.tenants_database-alpha")).toEqual([
      'GRANT "django_app" TO "postgres"',
      expect.stringMatching(/^CREATE DATABASE "alpha"/),
      'REVOKE "django_app" FROM "postgres"',
    ]);
  });

  test("the revoke from PUBLIC runs on a connection to the tenant database itself", async () => {
    const session = new RecordingSession();
    await new ProviderModel(readTenantStack(stackJson()), session, inputs).apply();
    const revoke = session.sent.find((s) => s.sql === 'REVOKE ALL PRIVILEGES ON DATABASE "beta" FROM "public"');
    expect(revoke?.database).toBe("beta");
  });

  test("no recorded statement would hold a password once redacted", () => {
    const [create] = createRoleStatements(
      {
        type: "postgresql_role",
        address: "r",
        dependsOn: [],
        name: "a",
        login: true,
        createDatabase: false,
        createRole: false,
        writeOnlyPassword: true,
        ignoreChanges: [],
      },
      "s3cretS3cret",
    );
    expect(redact(create, ["s3cretS3cret"])).toContain("PASSWORD '***'");
  });
});

describe("provider model: PostgreSQL 16 role membership", () => {
  test("the CREATEROLE ADMIN row alone is no membership: CREATE DATABASE is wrapped in a grant whose revoke leaves that row", async () => {
    const catalog = new Pg16Catalog();
    const full = readTenantStack(stackJson());
    const old: TenantStackModel = { ...full, resources: full.resources.filter((r) => r.type !== "postgresql_grant_role") };
    await new ProviderModel(old, catalog, inputs).apply();
    expect(catalog.sent.filter((sql) => /^(GRANT|REVOKE) "django_app"/.test(sql))).toEqual([
      'GRANT "django_app" TO "postgres"',
      'REVOKE "django_app" FROM "postgres"',
      'GRANT "django_app" TO "postgres"',
      'REVOKE "django_app" FROM "postgres"',
    ]);
    expect(catalog.masterRows("django_app")).toEqual(["rdsadmin:true/false"]);
  });

  test("with our membership CREATE DATABASE runs unwrapped and both the ADMIN row and ours remain", async () => {
    const catalog = new Pg16Catalog();
    await new ProviderModel(readTenantStack(stackJson()), catalog, inputs).apply();
    // The membership's own revoke-then-grant only: nothing around either CREATE DATABASE.
    expect(catalog.sent.filter((sql) => /^(GRANT|REVOKE) "django_app"/.test(sql))).toEqual([
      'REVOKE "django_app" FROM "postgres"',
      'GRANT "django_app" TO "postgres"',
    ]);
    expect(catalog.masterRows("django_app")).toEqual(["rdsadmin:true/false", "postgres:false/true"]);
  });

  test("without ignore_changes 1.26 may read the ADMIN row, and replacing the membership never clears it", async () => {
    const catalog = new Pg16Catalog();
    const full = readTenantStack(stackJson());
    const plain: TenantStackModel = { ...full, resources: full.resources.map((r) => ({ ...r, ignoreChanges: [] })) };
    const model = new ProviderModel(plain, catalog, inputs);
    await model.apply();
    const membership = membershipOf(plain);
    expect(await model.read(membership)).toEqual([
      { address: membership.address, attribute: "with_admin_option", from: "true", to: "false" },
    ]);
    // What the planned replacement sends: Delete's REVOKE, then Create's REVOKE and GRANT.
    await catalog.exec("postgres", ['REVOKE "django_app" FROM "postgres"', ...grantRoleStatements(membership as never)]);
    expect(catalog.masterRows("django_app")).toEqual(["rdsadmin:true/false", "postgres:false/true"]);
    expect(await model.read(membership)).toHaveLength(1);
    // Heap order is not defined (a freed line pointer can put our row first): the plan is not empty either way.
    catalog.rows.reverse();
    expect(await model.read(membership)).toHaveLength(1);
  });

  test("the membership's ignore_changes on with_admin_option leaves its plan empty on 16", async () => {
    const catalog = new Pg16Catalog();
    const full = readTenantStack(stackJson());
    const model = new ProviderModel(full, catalog, inputs);
    await model.apply();
    expect(membershipOf(full).ignoreChanges).toEqual(["with_admin_option"]);
    expect(await model.read(membershipOf(full))).toEqual([]);
  });
});

describe("tenant SQL test: what isolation means", () => {
  test("shared: the one app role reaches every database", () => {
    expect(expectedIsolation(readTenantStack(stackJson()))).toEqual({
      databases: ["alpha", "beta"],
      reach: { django_app: ["alpha", "beta"] },
    });
  });

  test("per-database: each role reaches only its own database", () => {
    expect(expectedIsolation(readTenantStack(stackJson(true))).reach).toEqual({ alpha_app: ["alpha"], beta_app: ["beta"] });
  });

  test("a warning that a GRANT or REVOKE did nothing is recognized; others are not", () => {
    expect(warningsOf('WARNING:  no privileges could be revoked for "x"\nNOTICE: y')).toEqual(['no privileges could be revoked for "x"']);
    expect(isNoOpPrivilegeWarning('no privileges could be revoked for "x"')).toBe(true);
    expect(isNoOpPrivilegeWarning('no privileges were granted for "x"')).toBe(true);
    expect(isNoOpPrivilegeWarning('role "postgres" is not a member of role "django_app"')).toBe(false);
  });

  test("snapshots differ by part name only", () => {
    expect(snapshotDifferences('{"roles":[1],"databases":[2]}', '{"roles":[1],"databases":[3]}')).toEqual(["databases"]);
  });

  test("passwords have the secret's form and are drawn anew", () => {
    const a = secretFormPassword();
    expect(a).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(secretFormPassword()).not.toBe(a);
  });

  test("a shared StartupWebApp config with several databases is also run with per-database isolation", () => {
    const scratch = mkdtempSync(join(tmpdir(), "tenant-sql-test-"));
    try {
      const targets = targetsFor(["config/prod.json", "config/dev.json", "config/safebucket-dev.json"], scratch);
      expect(targets.map((t) => t.label)).toEqual(["prod", "prod (per-database)", "dev", "safebucket-dev"]);
      const variant = JSON.parse(readFileSync(targets[1].file, "utf8"));
      expect(variant.tenants.isolation).toBe("per-database");
      // It validates as a config of its own: the web layer, whose AWS names would outgrow the longer
      // environment name, is left out (it runs no tenant SQL).
      expect(variant.web).toBeUndefined();
      expect(() => loadConfigs([targets[1].file])).not.toThrow();
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
