import { TerraformOutput, Testing } from "cdktf";
import type { EnvironmentConfig } from "../../config/schema";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { applicationModule } from "../../stacks";
import { NetworkStack } from "../../stacks/network";
import { allStrings, referenceOf, resourcesOf, shippedStartupWebApp, synth, testConfig, type Json } from "../helpers";

function networkOf(config: EnvironmentConfig): { stack: NetworkStack; json: Json } {
  const stack = new NetworkStack(Testing.app(), { config, app: applicationModule(config) });
  return { stack, json: synth(stack) };
}

const prod = () => networkOf(shippedStartupWebApp("prod"));

/** Another region, three AZs and NAT on: nothing of StartupWebApp may leak into it. */
const elsewhere = (network: Json = {}) =>
  networkOf(
    testConfig({
      region: "eu-central-1",
      network: {
        vpcCidr: "10.40.0.0/16",
        availabilityZones: ["eu-central-1a", "eu-central-1b", "eu-central-1c"],
        publicSubnetCidrs: ["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"],
        privateSubnetCidrs: ["10.40.10.0/24", "10.40.11.0/24", "10.40.12.0/24"],
        natGateway: true,
        ...network,
      },
    }),
  );

type Group = keyof NetworkStack["securityGroups"];
const GROUPS: readonly Group[] = ["database", "bastion", "backend"];

const ref = (stack: NetworkStack, token: string): string => referenceOf(stack, token);

/** The resource block a typed field (`stack.vpc.publicSubnetIds[0]`) refers to. */
function blockOf(stack: NetworkStack, json: Json, token: string): Json {
  const [, type, key] = /^\$\{(\w+)\.([^.]+)\.\w+\}$/.exec(ref(stack, token))!;
  return json.resource[type][key];
}

/** The reference to a security group's id, as rules and outputs write it. */
const groupRef = (stack: NetworkStack, group: Group): string => ref(stack, stack.securityGroups[group].securityGroupId);

/** Every rule that applies to `group`: [direction, port, peer]. */
function rulesOf({ stack, json }: { stack: NetworkStack; json: Json }, group: Group): [string, number, string][] {
  const id = groupRef(stack, group);
  const label = (r: Json) => r.cidr_ipv4 ?? GROUPS.find((g) => groupRef(stack, g) === r.referenced_security_group_id);
  return (["ingress", "egress"] as const)
    .flatMap((direction) =>
      resourcesOf(json, `aws_vpc_security_group_${direction}_rule`)
        .filter((r) => r.security_group_id === id)
        .map((r): [string, number, string] => [direction, r.from_port, label(r)]),
    )
    .sort((a, b) => a.join().localeCompare(b.join()));
}

describe("NetworkStack", () => {
  test("prod synthesizes StartupWebApp's network", () => {
    const { stack, json } = prod();
    const vpc = resourcesOf(json, "aws_vpc");
    expect(vpc.map((v) => v.cidr_block)).toEqual(["10.0.0.0/16"]);
    const subnets = (ids: string[]) => ids.map((id) => blockOf(stack, json, id)).map((s) => [s.cidr_block, s.availability_zone]);
    expect(subnets(stack.vpc.publicSubnetIds)).toEqual([
      ["10.0.1.0/24", "us-east-1a"],
      ["10.0.2.0/24", "us-east-1b"],
    ]);
    expect(subnets(stack.vpc.privateSubnetIds)).toEqual([
      ["10.0.10.0/24", "us-east-1a"],
      ["10.0.11.0/24", "us-east-1b"],
    ]);
    expect(resourcesOf(json, "aws_nat_gateway")).toHaveLength(0);
    expect(resourcesOf(json, "aws_internet_gateway")).toHaveLength(1);
    expect(resourcesOf(json, "aws_db_subnet_group")).toHaveLength(1);
  });

  test("everything that takes a Name tag is named <project>-<env>-...", () => {
    const { json } = prod();
    const names = Object.values(json.resource as Record<string, Record<string, Json>>)
      .flatMap((blocks) => Object.values(blocks))
      .filter((r) => r.tags)
      .map((r) => r.tags.Name);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(name).toMatch(/^startupwebapp-prod-/);
  });

  test("another region with three AZs and NAT gets six subnets, one NAT with its EIP and a route out", () => {
    const { json } = elsewhere();
    expect(resourcesOf(json, "aws_subnet").map((s) => s.availability_zone)).toEqual([
      "eu-central-1a",
      "eu-central-1b",
      "eu-central-1c",
      "eu-central-1a",
      "eu-central-1b",
      "eu-central-1c",
    ]);
    expect(resourcesOf(json, "aws_nat_gateway")).toHaveLength(1);
    expect(resourcesOf(json, "aws_eip")).toHaveLength(1);
    expect(resourcesOf(json, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(1);
  });

  test("natGatewayPerAz in that region gives three NATs, EIPs and NAT routes", () => {
    const { json } = elsewhere({ natGatewayPerAz: true });
    for (const type of ["aws_nat_gateway", "aws_eip"]) expect(resourcesOf(json, type)).toHaveLength(3);
    expect(resourcesOf(json, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(3);
  });

  test("no value of StartupWebApp appears in another environment's network", () => {
    const strings = allStrings(elsewhere().json);
    for (const value of ["startupwebapp", "us-east-1", "10.0."]) expect(strings.filter((s) => s.includes(value))).toEqual([]);
  });

  test("flow logs are on in prod and off in dev by default", () => {
    expect(resourcesOf(prod().json, "aws_flow_log")).toHaveLength(1);
    expect(resourcesOf(prod().json, "aws_cloudwatch_log_group")[0].retention_in_days).toBe(30);
    expect(resourcesOf(networkOf(shippedStartupWebApp("dev")).json, "aws_flow_log")).toHaveLength(0);
  });

  test("network.flowLogs overrides the production default", () => {
    expect(resourcesOf(networkOf(shippedStartupWebApp("dev", { network: { flowLogs: true } })).json, "aws_flow_log")).toHaveLength(1);
    expect(resourcesOf(networkOf(shippedStartupWebApp("prod", { network: { flowLogs: false } })).json, "aws_flow_log")).toHaveLength(0);
  });

  test("the database takes PostgreSQL from the backend and bastion groups and nothing else", () => {
    expect(rulesOf(prod(), "database")).toEqual([
      ["ingress", 5432, "backend"],
      ["ingress", 5432, "bastion"],
    ]);
  });

  test("the bastion accepts no inbound traffic and reaches only HTTPS and the database", () => {
    expect(rulesOf(prod(), "bastion")).toEqual([
      ["egress", 443, "0.0.0.0/0"],
      ["egress", 5432, "database"],
    ]);
  });

  test("the backend accepts no inbound traffic yet and reaches the database, HTTPS and the SMTP relay", () => {
    expect(rulesOf(prod(), "backend")).toEqual([
      ["egress", 443, "0.0.0.0/0"],
      ["egress", 5432, "database"],
      ["egress", 587, "0.0.0.0/0"],
    ]);
  });

  test("every rule is TCP on one port", () => {
    const { json } = prod();
    const rules = [...resourcesOf(json, "aws_vpc_security_group_ingress_rule"), ...resourcesOf(json, "aws_vpc_security_group_egress_rule")];
    expect(rules).toHaveLength(7);
    for (const rule of rules) {
      expect(rule.ip_protocol).toBe("tcp");
      expect(rule.to_port).toBe(rule.from_port);
    }
  });

  test("every group and every rule has a description", () => {
    const { json } = prod();
    const described = ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"].flatMap((t) =>
      resourcesOf(json, t),
    );
    expect(described).toHaveLength(10);
    for (const r of described) expect(r.description).toMatch(/\w{3,}/);
  });

  test("outputs carry terraform-aws-modules names and point at the right resources", () => {
    const { stack, json } = prod();
    const value = (name: string) => json.output[name].value;
    expect(
      Object.keys(json.output)
        .filter((k) => !k.startsWith("cross-stack"))
        .sort(),
    ).toEqual([
      "backend_security_group_id",
      "bastion_security_group_id",
      "database_security_group_id",
      "database_subnet_group_name",
      "private_subnets",
      "public_subnets",
      "vpc_id",
    ]);
    expect(value("vpc_id")).toMatch(/^\$\{aws_vpc\.[\w-]+\.id\}$/);
    expect(value("public_subnets")).toEqual(stack.vpc.publicSubnetIds.map((id) => ref(stack, id)));
    expect(value("private_subnets")).toEqual(stack.vpc.privateSubnetIds.map((id) => ref(stack, id)));
    expect(stack.vpc.publicSubnetIds.map((id) => blockOf(stack, json, id).availability_zone)).toEqual(["us-east-1a", "us-east-1b"]);
    expect(value("database_subnet_group_name")).toMatch(/^\$\{aws_db_subnet_group\.[\w-]+\.name\}$/);
    for (const group of GROUPS) expect(value(`${group}_security_group_id`)).toBe(groupRef(stack, group));
  });

  test("typed fields resolve to what the outputs publish", () => {
    const stack = new NetworkStack(Testing.app(), {
      config: shippedStartupWebApp("prod"),
      app: applicationModule(shippedStartupWebApp("prod")),
    });
    const fields: Record<string, unknown> = {
      vpc_id: stack.vpc.vpcId,
      public_subnets: stack.vpc.publicSubnetIds,
      private_subnets: stack.vpc.privateSubnetIds,
      database_subnet_group_name: stack.vpc.dbSubnetGroupName,
      database_security_group_id: stack.securityGroups.database.securityGroupId,
      bastion_security_group_id: stack.securityGroups.bastion.securityGroupId,
      backend_security_group_id: stack.securityGroups.backend.securityGroupId,
    };
    for (const [name, value] of Object.entries(fields)) new TerraformOutput(stack, `probe_${name}`, { value });
    const output = synth(stack).output;
    for (const name of Object.keys(fields)) expect(output[`probe_${name}`].value).toEqual(output[name].value);
  });

  test("a later stack reading the fields gets them through remote state", () => {
    const app = Testing.app();
    const network = new NetworkStack(app, { config: shippedStartupWebApp("prod"), app: applicationModule(shippedStartupWebApp("prod")) });
    const later = new EnvironmentStack(app, { config: network.config, layer: "data" });
    new TerraformOutput(later, "subnet_group", { value: network.vpc.dbSubnetGroupName });
    later.prepareStack();
    const json = synth(later);
    expect(Object.keys(json.data.terraform_remote_state)).toHaveLength(1);
    expect(json.output.subnet_group.value).toMatch(/terraform_remote_state\.[\w-]+\.outputs\./);
  });

  test("reads nothing from AWS at plan time: no data source but the partition", () => {
    const { json } = elsewhere({ natGatewayPerAz: true });
    expect(Object.keys(json.data ?? {}).filter((t) => t !== "aws_partition")).toEqual([]);
  });
});
