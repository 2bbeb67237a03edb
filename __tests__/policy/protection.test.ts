import type { EnvironmentConfig } from "../../config/schema";
import { destroyRefusal } from "../../scripts/lib/protection";
import { onlyResource, resourcesOf, shippedStartupWebApp, synth, testConfig, testEnvironment, type Json } from "../helpers";

/** prevent_destroy of the resources protection covers, by what they are. */
function lifecycles(config: EnvironmentConfig): Record<string, unknown[]> {
  const stacks = testEnvironment(config);
  const state = synth(stacks.state);
  const data = synth(stacks.data);
  const tenants = synth(stacks.tenants!);
  const preventDestroy = (r: Json) => r.lifecycle?.prevent_destroy ?? false;
  return {
    stateBucket: [preventDestroy(onlyResource(state, "aws_s3_bucket"))],
    database: [preventDestroy(onlyResource(data, "aws_db_instance"))],
    secrets: [...resourcesOf(data, "aws_secretsmanager_secret"), ...resourcesOf(tenants, "aws_secretsmanager_secret")].map(preventDestroy),
  };
}

describe("protection against data loss", () => {
  test("protect defaults to production", () => {
    expect(shippedStartupWebApp("prod").protect).toBe(true);
    expect(shippedStartupWebApp("dev").protect).toBe(false);
  });

  test("a protected environment's state bucket, database and application secret carry prevent_destroy", () => {
    expect(lifecycles(shippedStartupWebApp("prod"))).toEqual({ stateBucket: [true], database: [true], secrets: [true] });
  });

  test("an unprotected environment's do not", () => {
    expect(lifecycles(shippedStartupWebApp("dev"))).toEqual({ stateBucket: [false], database: [false], secrets: [false] });
  });

  test("protect follows the config, not the environment's name", () => {
    expect(lifecycles(shippedStartupWebApp("prod", { protect: false }))).toEqual({
      stateBucket: [false],
      database: [false],
      secrets: [false],
    });
    expect(lifecycles(shippedStartupWebApp("dev", { protect: true }))).toEqual({ stateBucket: [true], database: [true], secrets: [true] });
  });

  test("with one secret per tenant database, every tenant secret is protected too", () => {
    const config = shippedStartupWebApp("prod", { tenants: { isolation: "per-database" } });
    expect(lifecycles(config).secrets).toEqual([true, true, true, true]);
  });
});

describe("destroyRefusal", () => {
  test("lets an unprotected environment without deletion protection be destroyed", () => {
    expect(destroyRefusal(shippedStartupWebApp("dev"))).toBeUndefined();
  });

  test("refuses a protected environment, naming what is protected", () => {
    const message = destroyRefusal(shippedStartupWebApp("prod"))!;
    expect(message).toMatch(/^refusing to destroy prod: it is protected/);
    expect(message).toContain('"protect" is true (the default for production)');
    expect(message).toContain("startupwebapp-multi-tenant-prod");
    expect(message).toContain("rds/startupwebapp/multi-tenant/master");
    expect(message).toContain("startupwebapp-prod-tfstate");
  });

  test("says exactly how to unprotect it deliberately, in order", () => {
    const steps = destroyRefusal(shippedStartupWebApp("prod"))!
      .split("\n")
      .filter((line) => /^ {2}\d\. /.test(line));
    expect(steps).toEqual([
      '  1. set "protect": false in config/prod.json (or in the file INFRA_CONFIG names)',
      '  2. set "database": { "deletionProtection": false } in config/prod.json',
      "  3. deploy once (npm run deploy -- prod) so RDS turns deletion protection off on startupwebapp-multi-tenant-prod",
      "  4. destroy (npm run destroy -- prod); RDS still takes a final snapshot of startupwebapp-multi-tenant-prod first",
    ]);
  });

  test("refuses an unprotected environment whose database still has deletion protection, since RDS would stop the destroy", () => {
    const message = destroyRefusal(testConfig({ protect: false, database: { deletionProtection: true } }))!;
    expect(message).toContain("RDS deletion protection is on for acme-multi-tenant-test");
    expect(message).not.toContain('set "protect": false');
    expect(message).toContain("so RDS turns deletion protection off");
  });

  test("a protected environment whose database has no deletion protection needs no deploy before destroy", () => {
    const steps = destroyRefusal(testConfig({ protect: true, database: { deletionProtection: false } }))!
      .split("\n")
      .filter((line) => /^ {2}\d\. /.test(line));
    expect(steps).toEqual([
      '  1. set "protect": false in config/test.json (or in the file INFRA_CONFIG names)',
      "  2. destroy (npm run destroy -- test); RDS still takes a final snapshot of acme-multi-tenant-test first",
    ]);
  });
});
