/**
 * The deploy/destroy step plan (scripts/lib/operator/plan.ts): order, exact terraform arguments, the
 * tunnel around tenants, refusals, next steps, and which stacks wait for which.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EnvironmentConfig } from "../../../config/schema";
import { deployPlan, destroyPlan, operatorVariables } from "../../../scripts/lib/operator/plan";
import { configProblems, MINIMAL_DOCUMENT, safeBucketTestConfig, testConfig } from "../../helpers";
import { kinds, OUT, stackNames, stacksOf } from "./support";

describe("deploy plan", () => {
  const config = testConfig();
  const plan = deployPlan(config, stacksOf(config));

  test("deploys state, network, data, access, observability, then tenants inside the tunnel", () => {
    expect(kinds(plan)).toEqual([
      "test-state",
      "test-network",
      "test-data",
      "test-access",
      "test-observability",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
    ]);
  });

  test("each stack is initialised, planned to a file with a lock timeout, and applied from that file", () => {
    const data = plan.steps.find((s) => s.kind === "stack" && s.stack === "test-data");
    expect(data).toMatchObject({
      dir: join(OUT, "stacks", "test-data"),
      init: ["init", "-input=false", "-no-color"],
      plan: ["plan", "-input=false", "-no-color", "-detailed-exitcode", "-lock-timeout=120s", "-out=deploy.tfplan"],
      apply: ["apply", "-input=false", "-no-color", "-lock-timeout=120s", "deploy.tfplan"],
    });
  });

  test("the tunnel is opened on the configured port with the deployed bastion and database", () => {
    expect(plan.steps.find((s) => s.kind === "open-tunnel")).toEqual({
      kind: "open-tunnel",
      bastionInstanceId: "<test-access.bastion_instance_id>",
      host: "<test-data.db_instance_address>",
      remotePort: "<test-data.db_instance_port>",
      localPort: 15432,
      region: "us-east-1",
    });
  });

  test("a stopped bastion is started before the tunnel and stopped again after it", () => {
    const stopped = testConfig({ bastion: { running: false } });
    expect(kinds(deployPlan(stopped, stacksOf(stopped)))).toEqual([
      "test-state",
      "test-network",
      "test-data",
      "test-access",
      "test-observability",
      "start-bastion",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
      "stop-bastion",
    ]);
  });

  test("a direct connection needs no tunnel", () => {
    const direct = testConfig({ tenants: { connection: "direct" } });
    expect(kinds(deployPlan(direct, stacksOf(direct)))).not.toContain("open-tunnel");
  });

  test("naming layers deploys only those, still in deploy order", () => {
    expect(kinds(deployPlan(config, stacksOf(config), { only: ["tenants", "network"] }))).toEqual([
      "test-network",
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
    ]);
  });

  test("tenants over a tunnel with no bastion is refused by the config, with both ways out", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, bastion: { enabled: false } })).toEqual([
      expect.stringMatching(/^tenants\.connection: "tunnel" needs the bastion \(bastion\.enabled: true\); use "direct"/),
    ]);
  });

  test("next steps name the alarm recipients and every operator variable, never a value", () => {
    const withEmail = testConfig({ monitoring: { alarmEmails: ["ops@example.com"] } });
    const next = deployPlan(withEmail, stacksOf(withEmail), { operatorVariables: ["stripe_secret_key", "email_password"] }).nextSteps.join(
      "\n",
    );
    expect(next).toContain("ops@example.com");
    expect(next).toContain("<test-observability.sns_topic_arn>");
    expect(next).toContain("export TF_VAR_stripe_secret_key=...");
    expect(next).toContain("export TF_VAR_email_password=...");
    expect(next).toContain("raise tenants.operatorValuesVersion in the config");
    expect(next).not.toContain("raise tenants.credentialsVersion");
    expect(next).not.toContain("regenerated");
  });

  test("next steps name npm run ses:credentials when the config has an email section, and only then", () => {
    const withSes = testConfig({ email: { domain: "example.com" } });
    const next = (config: EnvironmentConfig): string =>
      deployPlan(config, stacksOf(config), { operatorVariables: ["stripe_secret_key"] }).nextSteps.join("\n");
    expect(next(withSes)).toContain("npm run ses:credentials -- test");
    expect(next(config)).not.toContain("ses:credentials");
  });

  test("SafeBucket's next steps raise credentials.version, which writes its SMTP login with the generated credentials", () => {
    const safeBucket = safeBucketTestConfig({ mail: { smtpHost: "smtp.example.com" } });
    const stacks = stacksOf(safeBucket).map((s) => (s.name === "test-tenants" ? { ...s, name: "test-database" } : s));
    const next = deployPlan(safeBucket, stacks, { operatorVariables: ["smtp_password", "smtp_username"] }).nextSteps.join("\n");
    expect(next).toContain("raise credentials.version in the config, then deploy the database stack");
    expect(next).toContain("export TF_VAR_smtp_password=...");
    expect(next).not.toContain("operatorValuesVersion");
    expect(next).not.toContain("ses:credentials");
  });
});

describe("destroy plan", () => {
  const config = testConfig();

  test("destroys in reverse order, tenants first inside the tunnel, and keeps the state bucket", () => {
    const plan = destroyPlan(config, stacksOf(config));
    expect(kinds(plan)).toEqual([
      "open-tunnel",
      "test-tenants",
      "close-tunnel",
      "test-observability",
      "test-access",
      "test-data",
      "test-network",
    ]);
    const tenants = plan.steps.find((s) => s.kind === "stack" && s.stack === "test-tenants");
    expect(tenants).toMatchObject({ plan: expect.arrayContaining(["-destroy", "-out=destroy.tfplan"]) });
    expect(plan.nextSteps.join("\n")).toContain("empty the bucket, old versions included, then npm run destroy -- test state");
  });

  test("the state stack is destroyed when named", () => {
    expect(kinds(destroyPlan(config, stacksOf(config), { only: ["state"] }))).toEqual(["test-state"]);
  });

  test("a protected environment is refused with the guardrails' message", () => {
    const plan = destroyPlan(config, stacksOf(config), { destroyRefusal: () => "test is protected: set protect: false first" });
    expect(plan.refusal).toBe("test is protected: set protect: false first");
  });

  test("a state stack kept in its own bucket is left alone, with the way to move it back", () => {
    const migrated = testConfig({ state: { stateStackBackend: "s3" } });
    const plan = destroyPlan(migrated, stacksOf(migrated), { only: ["state"] });
    expect(stackNames(plan)).toEqual([]);
    expect(plan.nextSteps.join("\n")).toMatch(/stateStackBackend: "local".*-migrate-state/);
  });
});

describe("operator variables", () => {
  test("operator variables are the sensitive or ephemeral variables of the synthesized stack", () => {
    const dir = mkdtempSync(join(tmpdir(), "operator-"));
    try {
      const variable = {
        stripe_secret_key: { ephemeral: true, sensitive: true },
        region: { type: "string" },
        email_user: { sensitive: true },
      };
      writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify({ variable }));
      expect(operatorVariables({ name: "x-tenants", dir, dependencies: [] })).toEqual(["email_user", "stripe_secret_key"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stacks side by side", () => {
  const config = testConfig();

  test("deploy waits for the synthesized dependencies: access and observability together after data", () => {
    const plan = deployPlan(config, stacksOf(config));
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-state", []],
      ["test-network", ["test-state"]],
      ["test-data", ["test-network", "test-state"]],
      ["test-access", ["test-data", "test-network", "test-state"]],
      ["test-observability", ["test-data", "test-network", "test-state"]],
      ["test-tenants", ["test-access", "test-data", "test-network", "test-state"]],
    ]);
    // the tunnel belongs to the tenants group only
    expect(plan.groups.at(-1)!.steps.map((s) => s.kind)).toEqual(["open-tunnel", "stack", "close-tunnel"]);
  });

  test("named layers still wait for each other through the layers left out", () => {
    const plan = deployPlan(config, stacksOf(config), { only: ["tenants", "network"] });
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-network", []],
      ["test-tenants", ["test-network"]],
    ]);
  });

  test("destroy waits for the stacks that depend on a stack: tenants and observability go first, together", () => {
    const plan = destroyPlan(config, stacksOf(config));
    expect(plan.groups.map((g) => [g.id, g.after])).toEqual([
      ["test-tenants", []],
      ["test-observability", []],
      ["test-access", ["test-tenants"]],
      ["test-data", ["test-tenants", "test-observability", "test-access"]],
      ["test-network", ["test-tenants", "test-observability", "test-access", "test-data"]],
    ]);
  });
});
