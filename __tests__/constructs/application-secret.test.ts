import { ApplicationSecret, type ApplicationSecretProps } from "../../constructs/application-secret";
import { Role } from "../../constructs/role";
import { TerraformOutput, type TerraformStack } from "cdktf";
import { onlyResource, resourcesOf, synth, testStack } from "../helpers";

function build(props: Partial<ApplicationSecretProps> = {}) {
  const stack = testStack();
  const secret = new ApplicationSecret(stack, "app-secret", {
    secretName: "rds/acme/multi-tenant/master",
    recoveryWindowDays: 30,
    ...props,
  });
  return { stack, secret };
}

const secretOf = (props: Partial<ApplicationSecretProps> = {}) => onlyResource(synth(build(props).stack), "aws_secretsmanager_secret");

/** The Terraform expression a field stands for, read back through an output. */
function expressionOf(stack: TerraformStack, value: string): string {
  new TerraformOutput(stack, "probe", { value });
  return synth(stack).output.probe.value;
}

describe("ApplicationSecret", () => {
  test("secret has the given name and a description", () => {
    const secret = secretOf();
    expect(secret.name).toBe("rds/acme/multi-tenant/master");
    expect(secret.description).toMatch(/tenants stack/);
  });

  test("recovery window follows the prop, 0 deleting at once", () => {
    expect(secretOf({ recoveryWindowDays: 30 }).recovery_window_in_days).toBe(30);
    expect(secretOf({ recoveryWindowDays: 7 }).recovery_window_in_days).toBe(7);
    expect(secretOf({ recoveryWindowDays: 0 }).recovery_window_in_days).toBe(0);
  });

  test("only the container is created: no version, no value", () => {
    const json = synth(build().stack);
    expect(resourcesOf(json, "aws_secretsmanager_secret_version")).toHaveLength(0);
    expect(Object.keys(onlyResource(json, "aws_secretsmanager_secret"))).not.toContain("secret_string");
  });

  test("secret is protected from destroy by default; protect: false drops it", () => {
    expect(secretOf().lifecycle.prevent_destroy).toBe(true);
    expect(secretOf({ protect: false }).lifecycle.prevent_destroy).toBe(false);
  });

  test("grantRead lets a role read and describe exactly this secret", () => {
    const { stack, secret } = build();
    const role = new Role(stack, "reader", { roleName: "acme-test-reader", assumedBy: ["ec2.amazonaws.com"] });
    secret.grantRead(role);
    const json = synth(stack);
    const policy = onlyResource(json, "aws_iam_role_policy").policy as string;
    const address = `aws_secretsmanager_secret.${Object.keys(json.resource.aws_secretsmanager_secret)[0]}`;
    expect(policy).toContain('"Action" = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]');
    expect(policy).toContain(`"Resource" = [${address}.arn]`);
  });

  test("fields point at the secret's arn, name and id", () => {
    for (const [field, attribute] of [
      ["secretArn", "arn"],
      ["secretName", "name"],
      ["secretId", "id"],
    ] as const) {
      const { stack, secret } = build();
      expect(expressionOf(stack, secret[field])).toMatch(new RegExp(`^\\$\\{aws_secretsmanager_secret\\.[^.]+\\.${attribute}\\}$`));
    }
  });

  test("a recovery window AWS does not accept is rejected naming the prop", () => {
    expect(() => build({ recoveryWindowDays: 5 })).toThrow(/ApplicationSecret .*: recoveryWindowDays must be 0 or 7-30 \(got 5\)/);
  });

  test("a name Secrets Manager does not accept is rejected naming the prop", () => {
    expect(() => build({ secretName: "has spaces" })).toThrow(/ApplicationSecret .*: secretName /);
  });
});
