import { allow, policyDocument } from "../../constructs/iam";
import { Role } from "../../constructs/role";
import { resourcesOf, synth, testStack } from "../helpers";

test('"*" actions on "*" resources are refused at construction', () => {
  expect(() => allow(["*"], ["*"], "Everything")).toThrow(/Everything: "\*" actions on "\*" resources is never allowed/);
});

test("a policy needs a statement", () => {
  expect(() => policyDocument([])).toThrow(/at least one statement/);
});

describe("Role", () => {
  test("trusts exactly the named services", () => {
    const stack = testStack();
    new Role(stack, "monitoring", { roleName: "acme-test-monitoring", assumedBy: ["monitoring.rds.amazonaws.com"] });
    const [role] = resourcesOf(synth(stack), "aws_iam_role");
    expect(role.name).toBe("acme-test-monitoring");
    expect(role.assume_role_policy).toContain('"Service" = ["monitoring.rds.amazonaws.com"]');
    expect(role.assume_role_policy).toContain('"Action" = ["sts:AssumeRole"]');
  });

  test("managed policies get partition-aware ARNs", () => {
    const stack = testStack();
    new Role(stack, "monitoring", {
      roleName: "acme-test-monitoring",
      assumedBy: ["monitoring.rds.amazonaws.com"],
      managedPolicies: ["service-role/AmazonRDSEnhancedMonitoringRole"],
    });
    const [attachment] = resourcesOf(synth(stack), "aws_iam_role_policy_attachment");
    expect(attachment.policy_arn).toBe(
      "arn:${data.aws_partition.partition.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
    );
  });

  test("grants collect into one inline policy naming exactly the granted ARNs", () => {
    const stack = testStack();
    const role = new Role(stack, "app", { roleName: "acme-test-app", assumedBy: ["ec2.amazonaws.com"] });
    role.allow(["secretsmanager:GetSecretValue"], ["arn:aws:secretsmanager:us-east-1:111111111111:secret:a"]);
    role.allow(["s3:GetObject"], ["arn:aws:s3:::b/*"]);
    const policies = resourcesOf(synth(stack), "aws_iam_role_policy");
    expect(policies).toHaveLength(1);
    expect(policies[0].policy).toContain('"Resource" = ["arn:aws:secretsmanager:us-east-1:111111111111:secret:a"]');
    expect(policies[0].policy).toContain('"Resource" = ["arn:aws:s3:::b/*"]');
  });

  test("a role with no grants has no inline policy", () => {
    const stack = testStack();
    new Role(stack, "idle", { roleName: "acme-test-idle", assumedBy: ["ec2.amazonaws.com"] });
    expect(resourcesOf(synth(stack), "aws_iam_role_policy")).toHaveLength(0);
  });

  test("an instance profile is created only when asked for", () => {
    const stack = testStack();
    const withProfile = new Role(stack, "bastion", {
      roleName: "acme-test-bastion",
      assumedBy: ["ec2.amazonaws.com"],
      instanceProfile: true,
    });
    new Role(stack, "other", { roleName: "acme-test-other", assumedBy: ["ec2.amazonaws.com"] });
    expect(withProfile.instanceProfileName).toBeDefined();
    expect(resourcesOf(synth(stack), "aws_iam_instance_profile")).toHaveLength(1);
  });

  test("a role nobody may assume is refused", () => {
    expect(() => new Role(testStack(), "nobody", { roleName: "acme-test-nobody", assumedBy: [] })).toThrow(/assumedBy/);
  });
});
