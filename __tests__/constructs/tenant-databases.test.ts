import { Lazy, TerraformVariable } from "cdktf";
import { TenantDatabases, type TenantDatabasesProps } from "../../constructs/tenant-databases";
import { type Json, onlyResource, resourcesOf, synth, testStack } from "../helpers";

type Overrides = Partial<Omit<TenantDatabasesProps, "connection">> & { connection?: Partial<TenantDatabasesProps["connection"]> };

/** Stand-ins for ephemeral references: any unresolved token will do for the construct. */
function secretRef(stack: ReturnType<typeof testStack>, name: string): string {
  return new TerraformVariable(stack, name, { type: "string", sensitive: true }).stringValue;
}

function tenantDatabases(overrides: Overrides = {}): Json {
  const stack = testStack(undefined, "tenants");
  const password = secretRef(stack, "master_password");
  new TenantDatabases(stack, "tenants", {
    logins: overrides.logins ?? [{ name: "django_app", password: secretRef(stack, "app_password"), passwordVersion: "v1" }],
    databases: overrides.databases ?? [
      { name: "startupwebapp_prod", owner: "django_app" },
      { name: "healthtech_experiment", owner: "django_app" },
    ],
    protect: overrides.protect,
    connection: { host: "127.0.0.1", port: 15432, username: "postgres", password, ...overrides.connection },
  });
  return synth(stack);
}

const grants = (json: Json, role: string): Json[] => resourcesOf(json, "postgresql_grant").filter((g) => g.role === role);

describe("TenantDatabases", () => {
  test("connects as a non-superuser over TLS with a bounded connect timeout", () => {
    expect(tenantDatabases().provider.postgresql[0]).toMatchObject({
      host: "127.0.0.1",
      port: 15432,
      database: "postgres",
      superuser: false,
      sslmode: "require",
      connect_timeout: 15,
    });
  });

  test("a literal master password is rejected naming the prop", () => {
    expect(() => tenantDatabases({ connection: { password: "not-a-reference" } })).toThrow(/connection\.password must be a reference/);
  });

  test("the login role's password goes only through the write-only argument", () => {
    const role = onlyResource(tenantDatabases(), "postgresql_role");
    expect(role).toMatchObject({ name: "django_app", login: true, password_wo_version: "v1", create_database: false, create_role: false });
    expect(role.password_wo).toBe("${var.app_password}");
    expect(role).not.toHaveProperty("password");
  });

  test("each database is owned by its role, from template0, UTF8 with en_US.UTF-8", () => {
    const databases = resourcesOf(tenantDatabases(), "postgresql_database");
    expect(databases.map((d) => d.name).sort()).toEqual(["healthtech_experiment", "startupwebapp_prod"]);
    for (const database of databases) {
      expect(database).toMatchObject({ template: "template0", encoding: "UTF8", lc_collate: "en_US.UTF-8", lc_ctype: "en_US.UTF-8" });
      expect(database.owner).toMatch(/^\$\{postgresql_role\.[\w-]+\.name\}$/);
    }
  });

  test("PUBLIC loses every privilege (CONNECT, TEMPORARY) on each database", () => {
    const revokes = grants(tenantDatabases(), "public");
    expect(revokes).toHaveLength(2);
    for (const revoke of revokes) expect(revoke).toMatchObject({ object_type: "database", privileges: [] });
  });

  test("the owner is granted CONNECT on each of its databases", () => {
    const ownerGrants = resourcesOf(tenantDatabases(), "postgresql_grant").filter((g) => g.role !== "public");
    expect(ownerGrants).toHaveLength(2);
    for (const grant of ownerGrants) {
      expect(grant.role).toMatch(/^\$\{postgresql_role\.[\w-]+\.name\}$/);
      expect(grant.privileges).toContain("CONNECT");
    }
  });

  test("the master becomes a lasting member of the owner role, without ADMIN OPTION", () => {
    const membership = onlyResource(tenantDatabases(), "postgresql_grant_role");
    expect(membership).toMatchObject({ role: "postgres", with_admin_option: false });
    expect(membership.grant_role).toMatch(/^\$\{postgresql_role\.[\w-]+\.name\}$/);
  });

  test("the membership ignores with_admin_option read back, which on PostgreSQL 16 may be the CREATEROLE ADMIN row", () => {
    const membership = onlyResource(tenantDatabases(), "postgresql_grant_role");
    expect(membership.lifecycle).toEqual({ ignore_changes: ["with_admin_option"] });
  });

  test("each database is created only after the master is a member of its owner", () => {
    const json = tenantDatabases();
    const [membershipId] = Object.keys(json.resource.postgresql_grant_role);
    for (const database of resourcesOf(json, "postgresql_database")) {
      expect(database.depends_on).toEqual([`postgresql_grant_role.${membershipId}`]);
    }
  });

  test("one membership per owner role when each database has its own owner", () => {
    const json = tenantDatabases({
      logins: ["alpha_app", "beta_app"].map((name) => ({
        name,
        password: Lazy.stringValue({ produce: () => "${var.app_password}" }),
        passwordVersion: "1",
      })),
      databases: [
        { name: "alpha", owner: "alpha_app" },
        { name: "beta", owner: "beta_app" },
      ],
    });
    const memberships = resourcesOf(json, "postgresql_grant_role");
    expect(memberships).toHaveLength(2);
    expect(new Set(memberships.map((m) => m.grant_role)).size).toBe(2);
  });

  test("a master username that is no role name is rejected naming the prop", () => {
    expect(() => tenantDatabases({ connection: { username: "Post Gres" } })).toThrow(/connection\.username must be a PostgreSQL role name/);
  });

  test("databases are protected from destroy by default", () => {
    for (const database of resourcesOf(tenantDatabases(), "postgresql_database")) expect(database.lifecycle.prevent_destroy).toBe(true);
  });

  test("protect: false lets databases be destroyed", () => {
    for (const database of resourcesOf(tenantDatabases({ protect: false }), "postgresql_database")) {
      expect(database.lifecycle.prevent_destroy).toBe(false);
    }
  });

  test("an owner that is not a login is rejected naming the database", () => {
    expect(() => tenantDatabases({ databases: [{ name: "fintech_experiment", owner: "someone" }] })).toThrow(
      /databases\[0\]\.owner must be one of logins \(django_app\) \(got "someone"\)/,
    );
  });

  test("a database listed twice is rejected", () => {
    expect(() =>
      tenantDatabases({
        databases: [
          { name: "fintech_experiment", owner: "django_app" },
          { name: "fintech_experiment", owner: "django_app" },
        ],
      }),
    ).toThrow(/databases\[1\]\.name "fintech_experiment" is listed twice/);
  });

  test("a literal login password is rejected", () => {
    expect(() => tenantDatabases({ logins: [{ name: "django_app", password: "hunter2hunter2", passwordVersion: "1" }] })).toThrow(
      /logins\[0\]\.password must be a reference/,
    );
  });

  test("a zero connect timeout is rejected naming the prop", () => {
    expect(() => tenantDatabases({ connection: { connectTimeoutSeconds: 0 } })).toThrow(/connection\.connectTimeoutSeconds/);
  });
});
