import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CONFIG_DIR, ConfigError, configFiles, formatPath, loadConfigs } from "../../config/load";
import { MINIMAL_DOCUMENT } from "../helpers";

const dir = mkdtempSync(join(tmpdir(), "load-test-"));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problemsOf(files: string[]): string[] {
  try {
    loadConfigs(files);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

test("the environment is named after the file", () => {
  const [config] = loadConfigs([file("qa.json", JSON.stringify(MINIMAL_DOCUMENT))]);
  expect(config.environment).toBe("qa");
  expect(config.database.identifier).toBe("acme-multi-tenant-qa");
});

test("a file that is not JSON is named in the error", () => {
  expect(problemsOf([file("broken.json", "{ project: ")])).toEqual([expect.stringMatching(/^broken\.json: not valid JSON/)]);
});

test("a missing file is named in the error", () => {
  expect(problemsOf([join(dir, "nowhere.json")])).toEqual(["nowhere.json: file not found"]);
});

test("problems of several files are all listed, each prefixed by its file", () => {
  const problems = problemsOf([
    file("a.json", JSON.stringify({ ...MINIMAL_DOCUMENT, region: "mars" })),
    file("b.json", JSON.stringify({ ...MINIMAL_DOCUMENT, extra: 1 })),
  ]);
  expect(problems).toEqual([expect.stringMatching(/^a\.json: region:/), expect.stringMatching(/^b\.json: extra: unknown key/)]);
});

test("the error message lists one problem per line and carries no stack trace", () => {
  let err: Error | undefined;
  try {
    loadConfigs([file("c.json", JSON.stringify({ project: "x" }))]);
  } catch (e) {
    err = e as Error;
  }
  expect(err?.message.split("\n")).toEqual([
    "invalid configuration:",
    "  c.json: project: must be a lowercase DNS-safe slug: 3-32 of a-z, 0-9, '-', starting with a letter (got \"x\")",
    "  c.json: region: is required",
    "  c.json: state: is required",
  ]);
});

test("INFRA_CONFIG selects exactly one file", () => {
  expect(configFiles({ INFRA_CONFIG: "/some/where/qa.json" })).toEqual(["/some/where/qa.json"]);
});

test("without INFRA_CONFIG every JSON file of the folder is used, sorted", () => {
  const folder = mkdtempSync(join(tmpdir(), "configs-"));
  writeFileSync(join(folder, "prod.json"), "{}");
  writeFileSync(join(folder, "dev.json"), "{}");
  writeFileSync(join(folder, "schema.ts"), "");
  expect(configFiles({}, folder)).toEqual([join(folder, "dev.json"), join(folder, "prod.json")]);
});

test("paths print as JSON paths", () => {
  expect(formatPath(["network", "publicSubnetCidrs", 1])).toBe("network.publicSubnetCidrs[1]");
});

describe("environments that would collide in one account are rejected together", () => {
  const doc = (env: string, patch: Record<string, unknown> = {}) => ({
    ...MINIMAL_DOCUMENT,
    state: { bucket: `acme-${env}-tfstate` },
    ...patch,
  });
  const load = (docs: Record<string, object>) =>
    problemsOf(Object.entries(docs).map(([name, d]) => file(`${name}.json`, JSON.stringify(d))));

  test("the four shipped environments coexist in one account", () => {
    expect(() => loadConfigs(configFiles({}, CONFIG_DIR))).not.toThrow();
    expect(configFiles({}, CONFIG_DIR).map((f) => f.split("/").pop())).toEqual(
      expect.arrayContaining(["dev.json", "prod.json", "safebucket-dev.json", "safebucket-prod.json"]),
    );
  });

  test("default secret names carry the environment, so two environments of one project do not collide", () => {
    const configs = loadConfigs([file("dev.json", JSON.stringify(doc("dev"))), file("qa.json", JSON.stringify(doc("qa")))]);
    expect(configs.map((c) => c.postgresAccess.appSecretName)).toEqual(["acme/dev/app", "acme/qa/app"]);
  });

  test("a secret name shared by two environments names both files and the other's path", () => {
    const tenants = { secretName: "rds/acme/multi-tenant/master" };
    expect(load({ one: doc("one", { tenants }), two: doc("two", { tenants }) })).toEqual([
      'one.json: tenants.secretName: secret name "rds/acme/multi-tenant/master" is also used by two.json (tenants.secretName); environments in one account and region (us-east-1) must not share it',
      'two.json: tenants.secretName: secret name "rds/acme/multi-tenant/master" is also used by one.json (tenants.secretName); environments in one account and region (us-east-1) must not share it',
    ]);
  });

  test("a per-database secret name counts as a secret name", () => {
    const problems = load({
      one: doc("one", { tenants: { secretName: "acme/shared", isolation: "per-database", databases: ["alpha"] } }),
      two: doc("two", { tenants: { secretName: "acme/shared/alpha" } }),
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^one\.json: tenants\.databases\[0\]: secret name "acme\/shared\/alpha" is also used by two\.json \(tenants\.secretName\)/,
      ),
      expect.stringMatching(
        /^two\.json: tenants\.secretName: secret name "acme\/shared\/alpha" is also used by one\.json \(tenants\.databases\[0\]\)/,
      ),
    ]);
  });

  test("a SafeBucket secret and a StartupWebApp secret of the same name collide", () => {
    const problems = load({
      one: doc("one", { tenants: { secretName: "shared/app" } }),
      two: doc("two", {
        application: "safebucket",
        services: { safebucket: { image: "ghcr.io/safebucket/safebucket:v1.0.0" } },
        credentials: { secretName: "shared/app" },
      }),
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^one\.json: tenants\.secretName: secret name "shared\/app" is also used by two\.json \(credentials\.secretName\)/,
      ),
      expect.stringMatching(
        /^two\.json: credentials\.secretName: secret name "shared\/app" is also used by one\.json \(tenants\.secretName\)/,
      ),
    ]);
  });

  test("secret names and instance identifiers are unique per region only", () => {
    const tenants = { secretName: "acme/app" };
    const database = { identifier: "acme-db" };
    expect(load({ one: doc("one", { tenants, database }), two: doc("two", { tenants, database, region: "eu-west-1" }) })).toEqual([]);
  });

  test("a shared RDS identifier and a shared state bucket are rejected", () => {
    const problems = load({
      one: doc("one", { database: { identifier: "acme-db" } }),
      two: { ...doc("two", { database: { identifier: "acme-db" } }), state: { bucket: "acme-one-tfstate" } },
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^one\.json: state\.bucket: state bucket "acme-one-tfstate" is also used by two\.json/),
        expect.stringMatching(/^two\.json: database\.identifier: RDS instance identifier "acme-db" is also used by one\.json/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  test("two environments whose names start alike are rejected: every resource name would be shared", () => {
    // project acme, environment a-b and project acme-a, environment b both name things acme-a-b-...
    const problems = load({ "a-b": doc("ab"), b: doc("b", { project: "acme-a" }) });
    expect(problems).toEqual([
      expect.stringMatching(/^a-b\.json: project: name prefix "acme-a-b" is also used by b\.json \(project\)/),
      expect.stringMatching(/^b\.json: project: name prefix "acme-a-b" is also used by a-b\.json \(project\)/),
    ]);
  });

  test("two state stacks that would both create the GitHub OIDC provider are rejected until one reuses the other's", () => {
    const ci = { githubRepository: "acme/infra" };
    expect(load({ one: doc("one", { ci }), two: doc("two", { ci }) })).toEqual([
      expect.stringMatching(/^one\.json: ci\.oidcProviderArn: is unset here and in two\.json .*an account holds one per URL/),
      expect.stringMatching(/^two\.json: ci\.oidcProviderArn: is unset here and in one\.json/),
    ]);
    const arn = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com";
    expect(load({ one: doc("one", { ci }), two: doc("two", { ci: { ...ci, oidcProviderArn: arn } }) })).toEqual([]);
  });
});
