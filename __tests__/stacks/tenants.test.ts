import { placeholder } from "../../stacks/startupwebapp/tenants";
import { allStrings, type Json, onlyResource, resourcesOf, synth, testConfig, preparedEnvironment } from "../helpers";

type Overrides = Parameters<typeof testConfig>[0];

/** The stacks as `cdktf synth` writes them: cross-stack references become remote state first. */
function environment(overrides: Overrides = {}) {
  return preparedEnvironment(testConfig(overrides));
}

function tenants(overrides: Overrides = {}): Json {
  return synth(environment(overrides).tenants!);
}

const postgresProvider = (json: Json): Json => json.provider.postgresql[0];
const ephemeralReads = (json: Json): Json[] => resourcesOf(json, "aws_secretsmanager_secret_version", "ephemeral");
/** The secret writes of the stack: the generated credentials' (the document) and the operator values'. */
function writes(json: Json): { generated: Json[]; operator: Json[] } {
  const all = Object.entries(json.resource.aws_secretsmanager_secret_version as Record<string, Json>);
  return {
    generated: all.filter(([id]) => !id.includes("operator-values")).map(([, w]) => w),
    operator: all.filter(([id]) => id.includes("operator-values")).map(([, w]) => w),
  };
}
const generatedWrite = (json: Json): Json => writes(json).generated[0];

describe("TenantsStack, shared isolation (default)", () => {
  test("one login role owns every tenant database", () => {
    const json = tenants();
    expect(onlyResource(json, "postgresql_role").name).toBe("django_app");
    const databases = resourcesOf(json, "postgresql_database");
    expect(databases.map((d) => d.name).sort()).toEqual(["fintech_experiment", "healthtech_experiment", "startupwebapp_prod"]);
    for (const d of databases) expect(d.owner).toMatch(/^\$\{postgresql_role\.[\w-]+\.name\}$/);
  });

  test("the app credentials are written into the data stack's secret, through a local", () => {
    const json = tenants();
    const { generated, operator } = writes(json);
    expect([...generated, ...operator].map((w) => w.secret_id)).toEqual(["${local.app_secret_arn}", "${local.app_secret_arn}"]);
    expect(json.locals.app_secret_arn).toMatch(/^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+\}$/);
    expect(resourcesOf(json, "aws_secretsmanager_secret")).toHaveLength(0);
  });

  test("the role's password is the one stored in the secret, rewritten whenever a secret version is", () => {
    const json = tenants();
    const role = onlyResource(json, "postgresql_role");
    expect(role.password_wo_version).toMatch(/^\$\{aws_secretsmanager_secret_version\.[\w-]+\.version_id\}$/);
    expect(role.password_wo).toMatch(/^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.[\w-]+\.secret_string\)\.password\}$/);
  });

  test("bumping tenants.credentialsVersion rewrites the generated credentials and leaves the operator values' write alone", () => {
    const { generated, operator } = writes(tenants({ tenants: { credentialsVersion: 4 } }));
    expect(generated.map((w) => w.secret_string_wo_version)).toEqual([4]);
    expect(operator.map((w) => w.secret_string_wo_version)).toEqual([1]);
  });

  test("bumping tenants.operatorValuesVersion rewrites only the operator values' write", () => {
    const { generated, operator } = writes(tenants({ tenants: { operatorValuesVersion: 3 } }));
    expect(generated.map((w) => w.secret_string_wo_version)).toEqual([1]);
    expect(operator.map((w) => w.secret_string_wo_version)).toEqual([3]);
  });

  test("the secret's host, port and identifier are the data stack's, through locals", () => {
    const written = generatedWrite(tenants()).secret_string_wo as string;
    expect(written).toContain('"host" = local.db_instance_address');
    expect(written).toContain('"port" = local.db_instance_port');
    expect(written).toContain('"dbClusterIdentifier" = local.db_instance_identifier');
    expect(written).toContain('"email_host", "email-smtp.us-east-1.amazonaws.com")');
    expect(writes(tenants()).operator[0].secret_string_wo).toContain('"email_host" = "email-smtp.us-east-1.amazonaws.com"');
  });
});

describe("TenantsStack, per-database isolation", () => {
  const perDatabase = () => tenants({ tenants: { isolation: "per-database", databases: ["alpha", "beta"] } });

  test("each database has its own login role owning it", () => {
    const json = perDatabase();
    expect(
      resourcesOf(json, "postgresql_role")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["alpha_app", "beta_app"]);
    expect(resourcesOf(json, "postgresql_database")).toHaveLength(2);
  });

  test("each role has its own secret, created by the data stack and named after the database", () => {
    const stacks = environment({ tenants: { isolation: "per-database", databases: ["alpha", "beta"] } });
    const secretNames = resourcesOf(synth(stacks.data), "aws_secretsmanager_secret").map((s) => s.name);
    expect(secretNames).toEqual(expect.arrayContaining(["acme/test/app/alpha", "acme/test/app/beta"]));
    const json = synth(stacks.tenants!);
    expect(resourcesOf(json, "aws_secretsmanager_secret")).toHaveLength(0);
    const { generated, operator } = writes(json);
    expect(generated.map((v) => v.secret_id).sort()).toEqual(["${local.secret_arn_alpha}", "${local.secret_arn_beta}"]);
    expect(operator.map((v) => v.secret_id).sort()).toEqual(["${local.secret_arn_alpha}", "${local.secret_arn_beta}"]);
    expect(json.locals.secret_arn_alpha).toMatch(/^\$\{data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+\}$/);
  });

  test("the backend role and the bastion may read every tenant's secret", () => {
    const stacks = environment({ tenants: { isolation: "per-database", databases: ["alpha", "beta"] } });
    const policies = resourcesOf(synth(stacks.access), "aws_iam_role_policy").map((p) => p.policy as string);
    expect(policies).toHaveLength(2);
    // the shared application secret and the two tenant secrets, each by its own remote-state output
    for (const policy of policies)
      expect(policy.match(/data\.terraform_remote_state\.[\w-]+\.outputs\.[\w-]+/g)?.length).toBeGreaterThanOrEqual(3);
  });

  test("each role reads its password back from its own secret", () => {
    const json = perDatabase();
    const readBackSecrets = ephemeralReads(json)
      .filter((r) => r.version_id !== undefined)
      .map((r) => r.secret_id);
    expect(new Set(readBackSecrets).size).toBe(2);
    expect(json.output.tenant_secret_names.value).toEqual({
      alpha: "acme/test/app/alpha",
      beta: "acme/test/app/beta",
    });
  });

  test("a database name too long for its role name is rejected naming the path", () => {
    const name = `t${"x".repeat(59)}`;
    expect(() => tenants({ tenants: { isolation: "per-database", databases: [name] } })).toThrow(
      /tenants\.databases\[0\]: at most 59 characters/,
    );
  });
});

describe("TenantsStack, how Terraform reaches PostgreSQL", () => {
  test("through the SSM tunnel by default: 127.0.0.1 on tenants.tunnelPort", () => {
    expect(postgresProvider(tenants({ tenants: { tunnelPort: 25432 } }))).toMatchObject({ host: "127.0.0.1", port: 25432 });
  });

  test("connection: direct points at the RDS address and port", () => {
    expect(postgresProvider(tenants({ tenants: { connection: "direct" } }))).toMatchObject({
      host: "${local.db_instance_address}",
      port: "${local.db_instance_port}",
    });
  });

  test("as the master user: its password read ephemerally from the RDS-managed secret, its name the data stack's", () => {
    const stacks = environment();
    const json = synth(stacks.tenants!);
    const provider = postgresProvider(json);
    const read = /^\$\{jsondecode\(ephemeral\.aws_secretsmanager_secret_version\.([\w-]+)\.secret_string\)\.(\w+)\}$/;
    const [, block, key] = (provider.password as string).match(read)!;
    expect(key).toBe("password");
    expect(json.ephemeral.aws_secretsmanager_secret_version[block].secret_id).toBe("${local.master_secret_arn}");
    expect(provider.username).toBe(stacks.data.database.masterUsername);
    expect(onlyResource(synth(stacks.data), "aws_db_instance").username).toBe(provider.username);
  });

  test("the master is a lasting member of the owner role, so the revoke from PUBLIC takes effect", () => {
    const membership = onlyResource(tenants(), "postgresql_grant_role");
    expect(membership).toMatchObject({ role: "postgres", with_admin_option: false });
  });

  test("with TLS, a connect timeout, not as superuser", () => {
    expect(postgresProvider(tenants({ tenants: { connectTimeoutSeconds: 30 } }))).toMatchObject({
      sslmode: "require",
      superuser: false,
      connect_timeout: 30,
    });
  });

  test("tunnel without a bastion is rejected naming tenants.connection", () => {
    expect(() => tenants({ bastion: { enabled: false } })).toThrow(/tenants\.connection: "tunnel" needs the bastion/);
  });
});

describe("TenantsStack, no secret in the configuration", () => {
  test("every value inside an ephemeral block is a literal or a reference of this stack", () => {
    const json = tenants();
    const foreign = allStrings(json.ephemeral).filter((s) => s.includes("terraform_remote_state"));
    expect(foreign).toEqual([]);
  });

  test("Stripe and SMTP values are ephemeral variables with obviously fake defaults", () => {
    const variables = tenants().variable as Record<string, Json>;
    const names = ["stripe_secret_key", "stripe_publishable_key", "stripe_webhook_secret", "email_user", "email_password"];
    for (const name of names) {
      expect(variables[name]).toMatchObject({ ephemeral: true, sensitive: true, default: placeholder(name) });
      expect(variables[name].default).not.toMatch(/^(sk|pk|rk)_(live|test)_|^whsec_/);
    }
  });

  test("no password or key argument is written in plain: only write-only arguments carry them", () => {
    const json = tenants();
    expect(onlyResource(json, "postgresql_role")).not.toHaveProperty("password");
    for (const w of resourcesOf(json, "aws_secretsmanager_secret_version")) expect(w).not.toHaveProperty("secret_string");
    expect(resourcesOf(json, "aws_secretsmanager_secret_version", "data")).toHaveLength(0);
  });

  test("outputs name the databases, their roles and secrets", () => {
    const { output } = tenants();
    expect(output.tenant_databases.value).toEqual(["startupwebapp_prod", "healthtech_experiment", "fintech_experiment"]);
    expect(output.tenant_usernames.value.fintech_experiment).toBe("django_app");
    expect(output.tenant_secret_names.value.startupwebapp_prod).toBe("acme/test/app");
  });
});
