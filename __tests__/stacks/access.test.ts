import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../../config/schema";
import {
  allStrings,
  decodePolicy,
  onlyResource,
  resourcesOf,
  resourceUnder,
  shippedStartupWebApp,
  synth,
  testConfig,
  testEnvironment,
  type Json,
} from "../helpers";

function build(config: EnvironmentConfig = testConfig()) {
  const stacks = testEnvironment(config);
  return { stacks, access: synth(stacks.access), network: synth(stacks.network), data: synth(stacks.data) };
}

/** The Terraform reference text (`aws_x.y.attr`) behind one of a stack's outputs. */
const referenceOf = (stack: Json, output: string): string => /^\$\{(.+)\}$/.exec(stack.output[output].value)![1];

/** The inline policy of `role`, decoded. */
const policyOf = (access: Json, role: Construct): Json => decodePolicy(resourceUnder(access, role, "aws_iam_role_policy").policy);

/** The IAM role `role` created. */
const roleOf = (access: Json, role: Construct): Json => resourceUnder(access, role, "aws_iam_role");

describe("AccessStack", () => {
  test("bastion runs in the first public subnet with the network's bastion security group", () => {
    const { access, network } = build();
    const firstPublic = network.output.public_subnets.value[0];
    expect(onlyResource(access, "aws_instance")).toMatchObject({
      subnet_id: firstPublic,
      vpc_security_group_ids: [network.output.bastion_security_group_id.value],
    });
  });

  test("bastion's security group has no inbound rules", () => {
    const { access, network } = build();
    const groupRef = onlyResource(access, "aws_instance").vpc_security_group_ids[0] as string;
    const groupId = /^\$\{aws_security_group\.([^.]+)\.id\}$/.exec(groupRef)![1];
    expect(network.resource.aws_security_group[groupId].ingress ?? []).toEqual([]);
    const ingress = [
      ...resourcesOf(network, "aws_vpc_security_group_ingress_rule"),
      ...resourcesOf(network, "aws_security_group_rule").filter((r) => r.type === "ingress"),
    ];
    expect(ingress.filter((r) => r.security_group_id === groupRef)).toEqual([]);
  });

  test("bastion gets a public IP, requires IMDSv2 and has an encrypted gp3 root volume", () => {
    expect(onlyResource(build().access, "aws_instance")).toMatchObject({
      associate_public_ip_address: true,
      metadata_options: { http_tokens: "required" },
      root_block_device: { encrypted: true, volume_type: "gp3" },
    });
  });

  test("bastion instance type comes from config", () => {
    expect(onlyResource(build(testConfig({ bastion: { instanceType: "t3.micro" } })).access, "aws_instance").instance_type).toBe(
      "t3.micro",
    );
  });

  test("bastion policy names exactly the master secret ARN and the application secret ARN", () => {
    const { stacks, access, data } = build();
    const resources = (policyOf(access, stacks.access.bastion!.role).Statement as Json[]).flatMap((s) => s.Resource);
    expect(resources.sort()).toEqual([referenceOf(data, "db_instance_master_user_secret_arn"), referenceOf(data, "app_secret_arn")].sort());
  });

  test("bastion may only read secrets", () => {
    const { stacks, access } = build();
    const actions = (policyOf(access, stacks.access.bastion!.role).Statement as Json[]).flatMap((s) => s.Action);
    expect(new Set(actions)).toEqual(new Set(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]));
  });

  test("bastion role has the SSM core managed policy", () => {
    expect(onlyResource(build().access, "aws_iam_role_policy_attachment").policy_arn).toMatch(/policy\/AmazonSSMManagedInstanceCore$/);
  });

  test("login message names the real RDS address and port and both secret ARNs", () => {
    const { access, data } = build();
    const userData = onlyResource(access, "aws_instance").user_data as string;
    expect(userData).toContain(`\${${referenceOf(data, "db_instance_address")}}:\${${referenceOf(data, "db_instance_port")}}`);
    expect(userData).toContain(`master secret     \${${referenceOf(data, "db_instance_master_user_secret_arn")}}`);
    expect(userData).toContain(`app secret        \${${referenceOf(data, "app_secret_arn")}}`);
  });

  test("login message uses the configured region and tenant databases", () => {
    const userData = onlyResource(
      build(testConfig({ region: "eu-west-1", tenants: { databases: ["alpha", "beta"] } })).access,
      "aws_instance",
    ).user_data as string;
    expect(userData).toContain("get-secret-value --region eu-west-1 ");
    expect(userData).toContain("app databases     alpha, beta");
    expect(userData).toContain("dbname=alpha ");
  });

  test("user data installs the PostgreSQL client of the configured engine version", () => {
    const userData = onlyResource(build(testConfig({ database: { engineVersion: "17" } })).access, "aws_instance").user_data as string;
    expect(userData).toContain("for pkg in postgresql17 postgresql16 postgresql15; do");
  });

  test("user data carries no secret value, only where to read one", () => {
    const userData = onlyResource(build().access, "aws_instance").user_data as string;
    expect(userData).not.toMatch(/secret_string|random_password|ephemeral\.|master_password|\.password\}/);
  });

  test("bastion runs by default and bastion.running: false keeps it stopped", () => {
    expect(onlyResource(build().access, "aws_ec2_instance_state").state).toBe("running");
    const stopped = build(testConfig({ bastion: { running: false } })).access;
    expect(resourcesOf(stopped, "aws_instance")).toHaveLength(1);
    expect(onlyResource(stopped, "aws_ec2_instance_state").state).toBe("stopped");
  });

  test("tunnel command output forwards the configured local port to the RDS address through the bastion", () => {
    const { access, data } = build(testConfig({ tenants: { tunnelPort: 25432 } }));
    const instance = Object.keys(access.resource.aws_instance)[0];
    expect(access.output.ssm_tunnel_command.value).toBe(
      `aws ssm start-session --target \${aws_instance.${instance}.id} --document-name AWS-StartPortForwardingSessionToRemoteHost ` +
        `--parameters host=\${${referenceOf(data, "db_instance_address")}},portNumber=\${${referenceOf(data, "db_instance_port")}},` +
        "localPortNumber=25432 --region us-east-1",
    );
    expect(access.output.bastion_instance_id.value).toBe(`\${aws_instance.${instance}.id}`);
  });

  test("bastion.enabled: false creates no bastion and no bastion outputs, but keeps the backend role", () => {
    const { stacks, access } = build(testConfig({ bastion: { enabled: false }, tenants: { connection: "direct" } }));
    expect(stacks.access.bastion).toBeUndefined();
    expect(resourcesOf(access, "aws_instance")).toHaveLength(0);
    expect(Object.keys(access.output).sort()).toEqual(["backend_instance_profile_name", "backend_role_arn", "backend_role_name"]);
  });

  test("backend role is trusted by EC2 and ECS tasks and has an instance profile", () => {
    const { stacks, access } = build();
    const trust = decodePolicy(roleOf(access, stacks.access.backendRole).assume_role_policy);
    expect(trust.Statement[0].Principal.Service.sort()).toEqual(["ec2.amazonaws.com", "ecs-tasks.amazonaws.com"]);
    expect(resourcesOf(access, "aws_iam_instance_profile").map((p) => p.name)).toContain("acme-test-backend");
  });

  test("backend role reads the application secret only", () => {
    const { stacks, access, data } = build();
    const statements = policyOf(access, stacks.access.backendRole).Statement as Json[];
    expect(statements.flatMap((s) => s.Resource)).toEqual([referenceOf(data, "app_secret_arn")]);
    expect(statements.flatMap((s) => s.Action)).not.toContain("secretsmanager:*");
  });

  test("exposes the contract fields and outputs later stacks read", () => {
    const { stacks, access } = build();
    expect(stacks.access.bastion?.instanceId).toBeDefined();
    expect(stacks.access.backendRole.instanceProfileName).toBeDefined();
    expect(Object.keys(access.output).sort()).toEqual([
      "backend_instance_profile_name",
      "backend_role_arn",
      "backend_role_name",
      "bastion_instance_id",
      "ssm_tunnel_command",
    ]);
  });

  test("no IAM statement in the stack allows anything on every resource", () => {
    const { access } = build();
    const resources = resourcesOf(access, "aws_iam_role_policy")
      .flatMap((p) => decodePolicy(p.policy).Statement as Json[])
      .flatMap((s) => s.Resource);
    expect(resources).not.toContain("*");
  });

  test("the shipped prod config gets a running t4g.nano bastion on the tunnel port 15432", () => {
    const { access } = build(shippedStartupWebApp("prod"));
    expect(onlyResource(access, "aws_instance").instance_type).toBe("t4g.nano");
    expect(onlyResource(access, "aws_ec2_instance_state").state).toBe("running");
    expect(access.output.ssm_tunnel_command.value).toContain("localPortNumber=15432 ");
    expect(allStrings(access).some((s) => /al2023-ami-kernel-default-arm64$/.test(s))).toBe(true);
  });
});
