/**
 * npm run status on canned terraform output: deployed or not per stack, key outputs, the next command,
 * and a plain message when credentials or state are missing. Terraform is a fake; no AWS.
 */
import { bastionState, formatStatus, nextCommand, readStackState, type StackState, type StackTerraform } from "../../scripts/lib/status";
import { layersOf, type Layer } from "../../stacks/layers";
import { ACCESS_OUTPUTS, DATA_OUTPUTS } from "../../stacks/outputs";
import { EMAIL_OUTPUTS, WEB_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import { shippedStartupWebApp, testConfig } from "../helpers";

const ok = (stdout = "") => ({ code: 0, stdout, stderr: "" });
const fail = (stderr: string) => ({ code: 1, stdout: "", stderr });

/** A terraform that answers init, state list and output -json from canned documents. */
function cannedTerraform(answers: {
  init?: ReturnType<typeof ok>;
  list?: ReturnType<typeof ok>;
  output?: ReturnType<typeof ok>;
}): StackTerraform {
  return async (args) => {
    if (args[0] === "init") return answers.init ?? ok();
    if (args[0] === "state") return answers.list ?? ok();
    return answers.output ?? ok("{}");
  };
}

const DATA_OUTPUT_JSON = JSON.stringify({
  [DATA_OUTPUTS.dbInstanceAddress]: {
    value: "acme-multi-tenant-test.abc123.us-east-1.rds.amazonaws.com",
    type: "string",
    sensitive: false,
  },
  [DATA_OUTPUTS.dbInstancePort]: { value: 5432, type: "number", sensitive: false },
  [DATA_OUTPUTS.dbInstanceIdentifier]: { value: "acme-multi-tenant-test", type: "string", sensitive: false },
  [DATA_OUTPUTS.appSecretName]: { value: "rds/acme/multi-tenant/master", type: "string", sensitive: false },
  master_password_hint: { value: "not-a-real-value", type: "string", sensitive: true },
});

describe("reading one stack", () => {
  test("a stack whose state holds resources is deployed, with its outputs and sensitive ones hidden", async () => {
    const state = await readStackState(
      "test-data",
      "data",
      cannedTerraform({ list: ok("aws_db_instance.main\naws_db_parameter_group.main\n"), output: ok(DATA_OUTPUT_JSON) }),
    );
    expect(state).toMatchObject({ status: "deployed", resources: 2 });
    const outputs = (state as Extract<StackState, { status: "deployed" }>).outputs;
    expect(outputs.db_instance_port).toBe(5432);
    expect(JSON.stringify(outputs)).not.toContain("not-a-real-value");
  });

  test("an empty state is not deployed, even without outputs to read", async () => {
    expect(await readStackState("test-state", "state", cannedTerraform({ list: ok("") }))).toEqual({
      stack: "test-state",
      layer: "state",
      status: "not-deployed",
    });
  });

  test("a missing state bucket means not deployed", async () => {
    const state = await readStackState(
      "test-network",
      "network",
      cannedTerraform({ init: fail("Error: Failed to get existing workspaces: S3 bucket does not exist. NoSuchBucket") }),
    );
    expect(state.status).toBe("not-deployed");
  });

  test("missing credentials are reported as such, not as an error dump", async () => {
    const state = await readStackState(
      "test-network",
      "network",
      cannedTerraform({ init: fail("Error: No valid credential sources found\n\nPlease see https://registry.terraform.io/...") }),
    );
    expect(state).toMatchObject({ status: "unavailable", reason: "no-credentials" });
  });

  test("terraform that cannot be run is an error, not a crash", async () => {
    const state = await readStackState("test-data", "data", async () => {
      throw new Error("could not run terraform (spawn terraform ENOENT); install Terraform >= 1.11");
    });
    expect(state).toMatchObject({ status: "unavailable", reason: "terraform-error", detail: expect.stringContaining("install Terraform") });
  });
});

const deployed = (layer: Layer, outputs: Record<string, unknown> = {}): StackState => ({
  stack: `test-${layer}`,
  layer,
  status: "deployed",
  resources: 3,
  outputs,
});
const missing = (layer: Layer): StackState => ({ stack: `test-${layer}`, layer, status: "not-deployed" });

describe("the report", () => {
  const config = testConfig();

  test("shows the RDS address, the bastion id and state, and what to run next", () => {
    const states = layersOf(config).map((layer) =>
      layer === "data"
        ? deployed(layer, {
            [DATA_OUTPUTS.dbInstanceAddress]: "db.internal",
            [DATA_OUTPUTS.dbInstancePort]: 5432,
            [DATA_OUTPUTS.dbInstanceIdentifier]: "acme-multi-tenant-test",
          })
        : layer === "access"
          ? deployed(layer, { [ACCESS_OUTPUTS.bastionInstanceId]: "i-0abc" })
          : deployed(layer),
    );
    const text = formatStatus(config, states);
    expect(text).toContain("6/6 stacks deployed");
    expect(text).toContain("address: db.internal:5432");
    expect(text).toContain("bastion: i-0abc");
    expect(text).toContain("bastion state: running (as configured: bastion.running)");
    expect(text).toContain("next: npm run tunnel -- test");
  });

  test("the email layer shows its SES identity, SMTP user and the credentials command", () => {
    const text = formatStatus(config, [
      deployed("email" as Layer, {
        [EMAIL_OUTPUTS.identity]: "arn:aws:ses:us-east-1:123456789012:identity/example.org",
        [EMAIL_OUTPUTS.smtpUser]: "acme-test-smtp",
      }),
    ]);
    expect(text).toContain("SES identity: arn:aws:ses:us-east-1:123456789012:identity/example.org");
    expect(text).toContain("SMTP user: acme-test-smtp");
    expect(text).toContain("npm run ses:credentials -- test");
  });

  test("the web layer shows its load balancer, CloudFront domain, image repository, tenant services and the migrate command", () => {
    const text = formatStatus(shippedStartupWebApp("prod"), [
      deployed("web", {
        [WEB_OUTPUTS.albDnsName]: "startupwebapp-prod-web-123.us-east-1.elb.amazonaws.com",
        [WEB_OUTPUTS.cloudfrontDomainName]: "d111111abcdef8.cloudfront.net",
        [WEB_OUTPUTS.ecrRepositoryUrl]: "123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-prod-backend",
        [WEB_OUTPUTS.tenantServices]: { startupwebapp_prod: {}, acme_prod: {} },
      }),
    ]);
    expect(text).toContain("load balancer: startupwebapp-prod-web-123.us-east-1.elb.amazonaws.com:443");
    expect(text).toContain("CloudFront: d111111abcdef8.cloudfront.net");
    expect(text).toContain("image repository: 123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-prod-backend");
    expect(text).toContain("tenant services: startupwebapp_prod, acme_prod");
    expect(text).toContain("npm run migrate -- prod");
  });

  test("with nothing deployed the next command is the first deploy", () => {
    const text = formatStatus(config, layersOf(config).map(missing));
    expect(text).toContain("0/6 stacks deployed");
    expect(text).toContain("[ ] test-network  not deployed");
    expect(text).toContain("next: npm run deploy -- test   (first deployment");
  });

  test("a partly deployed environment names what is missing", () => {
    const states = layersOf(config).map((layer) => (layer === "tenants" || layer === "observability" ? missing(layer) : deployed(layer)));
    expect(nextCommand(config, states)).toBe("npm run deploy -- test   (deploys what is missing: observability, tenants)");
  });

  test("without credentials the report says so once and tells how to log in", () => {
    const states: StackState[] = layersOf(config).map((layer) =>
      layer === "state"
        ? deployed(layer)
        : { stack: `test-${layer}`, layer, status: "unavailable", reason: "no-credentials", detail: "no usable AWS credentials" },
    );
    const text = formatStatus(config, states);
    expect(text).toContain("[?] test-data  unknown: no AWS credentials");
    expect(text).toContain("No usable AWS credentials, so the state in s3://acme-test-tfstate could not be read");
    expect(text).toContain("next: aws sso login");
  });

  test("the bastion's state is what the config asks for: no stack outputs the live state", () => {
    expect(bastionState(config)).toBe("running (as configured: bastion.running)");
    expect(bastionState(testConfig({ bastion: { running: false } }))).toBe("stopped (as configured: bastion.running)");
  });

  test("a stopped bastion still makes the tunnel the next command: it starts the bastion and stops it again", () => {
    const stopped = testConfig({ bastion: { running: false } });
    expect(
      nextCommand(
        stopped,
        layersOf(stopped).map((l) => deployed(l)),
      ),
    ).toMatch(/^npm run tunnel -- test \(starts the stopped bastion for the session and stops it again on Ctrl-C\), then psql/);
  });
});
