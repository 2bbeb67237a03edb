import { SsmBastion, type SsmBastionProps } from "../../constructs/ssm-bastion";
import { configProblems, MINIMAL_DOCUMENT, onlyResource, resourcesOf, synth, testStack } from "../helpers";

function bastion(props: Partial<SsmBastionProps> = {}) {
  const stack = testStack(undefined, "access");
  const construct = new SsmBastion(stack, "bastion", {
    instanceName: "acme-test-bastion",
    subnetId: "subnet-public-1",
    securityGroupIds: ["sg-bastion"],
    ...props,
  });
  return { construct, json: synth(stack) };
}

const instance = (props: Partial<SsmBastionProps> = {}) => onlyResource(bastion(props).json, "aws_instance");
const amiParameter = (props: Partial<SsmBastionProps> = {}) => onlyResource(bastion(props).json, "aws_ssm_parameter", "data").name;

describe("SsmBastion", () => {
  test("gets a public IP so the SSM agent can register without a NAT gateway", () => {
    expect(instance().associate_public_ip_address).toBe(true);
  });

  test("runs in the given subnet with only the given security groups", () => {
    expect(instance()).toMatchObject({ subnet_id: "subnet-public-1", vpc_security_group_ids: ["sg-bastion"] });
  });

  test("requires IMDSv2 tokens", () => {
    expect(instance().metadata_options).toMatchObject({ http_tokens: "required", http_endpoint: "enabled" });
  });

  test("root volume is encrypted gp3 and goes with the instance", () => {
    expect(instance().root_block_device).toMatchObject({ encrypted: true, volume_type: "gp3", delete_on_termination: true });
  });

  test("has no key pair: Session Manager is the only way in", () => {
    expect(instance().key_name).toBeUndefined();
  });

  test("defaults to a t4g.nano on the arm64 Amazon Linux 2023 image", () => {
    expect(instance().instance_type).toBe("t4g.nano");
    expect(amiParameter()).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64");
  });

  test("an x86 instance type gets the x86_64 image", () => {
    expect(amiParameter({ instanceType: "t3.micro" })).toBe("/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64");
  });

  test("Graviton families other than t4g get the arm64 image", () => {
    expect(amiParameter({ instanceType: "m7gd.large" })).toMatch(/-arm64$/);
    expect(amiParameter({ instanceType: "g4dn.xlarge" })).toMatch(/-x86_64$/);
  });

  test("takes the AMI from the parameter but ignores later AMI releases", () => {
    const json = bastion().json;
    const parameter = Object.keys(json.data.aws_ssm_parameter)[0];
    const ec2 = onlyResource(json, "aws_instance");
    expect(ec2.ami).toBe(`\${data.aws_ssm_parameter.${parameter}.insecure_value}`);
    expect(ec2.lifecycle.ignore_changes).toEqual(["ami"]);
  });

  test("burstable types run in standard credit mode so a busy bastion cannot bill surplus credits", () => {
    expect(instance().credit_specification).toEqual({ cpu_credits: "standard" });
    expect(instance({ instanceType: "m7g.medium" }).credit_specification).toBeUndefined();
    expect(instance({ instanceType: "trn1.2xlarge" }).credit_specification).toBeUndefined();
  });

  test("role is trusted by EC2 only and has the SSM core managed policy and an instance profile", () => {
    const json = bastion().json;
    const role = onlyResource(json, "aws_iam_role");
    expect(role.name).toBe("acme-test-bastion");
    expect(role.assume_role_policy).toContain('"Service" = ["ec2.amazonaws.com"]');
    expect(onlyResource(json, "aws_iam_role_policy_attachment").policy_arn).toMatch(/:iam::aws:policy\/AmazonSSMManagedInstanceCore$/);
    const profile = onlyResource(json, "aws_iam_instance_profile");
    expect(onlyResource(json, "aws_instance").iam_instance_profile).toMatch(/^\$\{aws_iam_instance_profile\.[^.]+\.name\}$/);
    expect(profile.name).toBe("acme-test-bastion");
  });

  test("role has no inline policy until something is granted to it", () => {
    expect(resourcesOf(bastion().json, "aws_iam_role_policy")).toHaveLength(0);
  });

  test("a grant names exactly the granted ARN", () => {
    const stack = testStack(undefined, "access");
    new SsmBastion(stack, "bastion", { instanceName: "acme-test-bastion", subnetId: "subnet-1", securityGroupIds: ["sg-1"] }).role.allow(
      ["secretsmanager:GetSecretValue"],
      ["arn:secret"],
    );
    expect(onlyResource(synth(stack), "aws_iam_role_policy").policy).toContain('"Resource" = ["arn:secret"]');
  });

  test("is running by default", () => {
    expect(onlyResource(bastion().json, "aws_ec2_instance_state").state).toBe("running");
  });

  test("running: false keeps the instance but stopped", () => {
    const json = bastion({ running: false }).json;
    expect(resourcesOf(json, "aws_instance")).toHaveLength(1);
    expect(onlyResource(json, "aws_ec2_instance_state")).toMatchObject({
      state: "stopped",
      instance_id: expect.stringMatching(/^\$\{aws_instance\./),
    });
  });

  test("default user data makes sure the SSM agent runs", () => {
    expect(instance().user_data).toContain("systemctl enable --now amazon-ssm-agent");
  });

  test("a user data change replaces the instance, since cloud-init runs it only on first boot", () => {
    expect(instance({ userData: "#!/bin/bash\ntrue\n" })).toMatchObject({
      user_data: "#!/bin/bash\ntrue\n",
      user_data_replace_on_change: true,
    });
  });

  test("exposes the instance id as a reference", () => {
    expect(bastion().construct.instanceId).toMatch(/TfToken/);
  });

  test("an instance type that is not one is rejected naming the prop", () => {
    expect(() => bastion({ instanceType: "nano" })).toThrow(/instanceType must be an EC2 instance type.*got "nano"/);
  });

  test("a Mac type is refused by the construct and by the config schema, in the same words", () => {
    expect(() => bastion({ instanceType: "mac2.metal" })).toThrow(
      /instanceType must be an EC2 instance type such as t4g.nano \(not a Mac type\)/,
    );
    expect(configProblems({ ...MINIMAL_DOCUMENT, bastion: { instanceType: "mac2.metal" } })).toEqual([
      'bastion.instanceType: must be an EC2 instance type such as t4g.nano (not a Mac type) (got "mac2.metal")',
    ]);
  });

  test("no security group is rejected naming the prop", () => {
    expect(() => bastion({ securityGroupIds: [] })).toThrow(/securityGroupIds/);
  });
});
