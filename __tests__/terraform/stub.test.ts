import { stubUnavailableProviders } from "../../scripts/lib/stub";
import { findPluginMirror, providerAddress } from "../../scripts/lib/terraform";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const stack = {
  terraform: { required_providers: { aws: { source: "aws" }, postgresql: { source: "cyrilgdn/postgresql" } } },
  provider: { aws: [{ region: "us-east-1" }], postgresql: [{ host: "127.0.0.1" }] },
  resource: {
    aws_secretsmanager_secret: { app: { name: "x" } },
    postgresql_role: { app: { name: "django_app" } },
    postgresql_database: {
      shop: { owner: "${postgresql_role.app.name}", depends_on: ["postgresql_role.app", "aws_secretsmanager_secret.app"] },
    },
    aws_ssm_parameter: {
      note: {
        value: "owner is ${postgresql_role.app.name}, db ${postgresql_database.shop.name}",
        depends_on: ["postgresql_database.shop"],
      },
    },
  },
  ephemeral: { aws_secretsmanager_random_password: { pw: { password_length: 32 } } },
  output: { db: { value: "${postgresql_database.shop.name}" } },
};
const awsOnly = (p: string) => p === "registry.terraform.io/hashicorp/aws";

test("resources of providers that are not available are removed and listed by address", () => {
  const { document, stubbed, missingProviders } = stubUnavailableProviders(stack, awsOnly);
  expect(stubbed.sort()).toEqual(["postgresql_database.shop", "postgresql_role.app"]);
  expect(missingProviders).toEqual(["registry.terraform.io/cyrilgdn/postgresql"]);
  expect(Object.keys(document.resource as object).sort()).toEqual(["aws_secretsmanager_secret", "aws_ssm_parameter"]);
  expect((document.provider as Record<string, unknown>).postgresql).toBeUndefined();
  expect((document.terraform as { required_providers: object }).required_providers).toEqual({ aws: { source: "aws" } });
});

test("references to removed resources become declared variables, attribute path included", () => {
  const { document, variables } = stubUnavailableProviders(stack, awsOnly);
  const note = (document.resource as Record<string, Record<string, { value: string; depends_on: string[] }>>).aws_ssm_parameter.note;
  expect(note.value).toBe("owner is ${var.stub_postgresql_role_app_name}, db ${var.stub_postgresql_database_shop_name}");
  expect(Object.keys(variables).sort()).toEqual(["stub_postgresql_database_shop_name", "stub_postgresql_role_app_name"]);
  expect(document.variable).toEqual(variables);
  expect((document.output as Record<string, { value: string }>).db.value).toBe("${var.stub_postgresql_database_shop_name}");
});

test("depends_on entries naming removed resources are dropped", () => {
  const { document } = stubUnavailableProviders(stack, awsOnly);
  expect((document.resource as Record<string, Record<string, { depends_on: string[] }>>).aws_ssm_parameter.note.depends_on).toEqual([]);
});

test("ephemeral blocks of available providers stay; nothing changes when every provider is available", () => {
  const { document, stubbed } = stubUnavailableProviders(stack, () => true);
  expect(stubbed).toEqual([]);
  expect(document).toEqual(stack);
});

test("a reference to a longer name is not mistaken for a stubbed one", () => {
  const doc = {
    terraform: { required_providers: { postgresql: { source: "cyrilgdn/postgresql" } } },
    resource: { postgresql_role: { app: {} }, terraform_data: { x: { input: "${postgresql_role.app_2.name}" } } },
  };
  const { document } = stubUnavailableProviders(doc, () => false);
  expect((document.resource as Record<string, Record<string, { input: string }>>).terraform_data.x.input).toBe(
    "${postgresql_role.app_2.name}",
  );
});

test("provider sources resolve to registry addresses", () => {
  expect(providerAddress("aws")).toBe("registry.terraform.io/hashicorp/aws");
  expect(providerAddress("cyrilgdn/postgresql")).toBe("registry.terraform.io/cyrilgdn/postgresql");
});

describe("finding the provider mirror", () => {
  const mirror = mkdtempSync(join(tmpdir(), "mirror-"));
  mkdirSync(join(mirror, "registry.terraform.io"));
  const empty = mkdtempSync(join(tmpdir(), "empty-"));
  afterAll(() => {
    for (const dir of [mirror, empty]) rmSync(dir, { recursive: true, force: true });
  });

  test("TF_PLUGIN_MIRROR wins", () => {
    expect(findPluginMirror({ TF_PLUGIN_MIRROR: mirror }, [])).toBe(mirror);
  });

  test("a TF_PLUGIN_MIRROR without registry.terraform.io/ is an error, not a silent fallback", () => {
    expect(() => findPluginMirror({ TF_PLUGIN_MIRROR: empty }, [mirror])).toThrow(/TF_PLUGIN_MIRROR=.*no registry\.terraform\.io\/ folder/);
  });

  test("otherwise the first candidate holding registry.terraform.io/ is used, or none", () => {
    expect(findPluginMirror({}, [empty, mirror])).toBe(mirror);
    expect(findPluginMirror({}, [empty])).toBeUndefined();
  });
});

test("moved blocks of removed resources go with them; the others stay", () => {
  const withMoves = {
    ...stack,
    moved: [
      { from: "postgresql_role.old", to: "postgresql_role.app" },
      { from: "aws_secretsmanager_secret.old", to: "aws_secretsmanager_secret.app" },
    ],
  };
  const { document } = stubUnavailableProviders(withMoves, awsOnly);
  expect(document.moved).toEqual([{ from: "aws_secretsmanager_secret.old", to: "aws_secretsmanager_secret.app" }]);
});
