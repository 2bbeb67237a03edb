import { Network, type NetworkProps } from "../../constructs/network";
import { type Json, onlyResource, resourceAt, resourcesOf, synth, synthWithHandles, testConfig, testStack } from "../helpers";

const THREE_AZS: NetworkProps = {
  cidr: "10.20.0.0/16",
  availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
  publicSubnetCidrs: ["10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24"],
  privateSubnetCidrs: ["10.20.100.0/24", "10.20.101.0/24", "10.20.102.0/24"],
};

function network(props: Partial<NetworkProps> = {}): Json {
  const stack = testStack(testConfig({ region: "eu-west-1" }), "network");
  new Network(stack, "network", { ...THREE_AZS, ...props });
  return synth(stack);
}

function build(props: Partial<NetworkProps>): () => void {
  return () => new Network(testStack(testConfig({ region: "eu-west-1" }), "network"), "network", { ...THREE_AZS, ...props });
}

/** The network's subnets of `kind`, in AZ order, found through its typed fields. */
function subnets(props: Partial<NetworkProps> = {}) {
  const stack = testStack(testConfig({ region: "eu-west-1" }), "network");
  const built = new Network(stack, "network", { ...THREE_AZS, ...props });
  const { json, refs } = synthWithHandles(stack, { public: built.publicSubnetIds, private: built.privateSubnetIds });
  return { public: refs.public.map((r) => resourceAt(json, r)), private: refs.private.map((r) => resourceAt(json, r)) };
}

describe("Network", () => {
  test("VPC has the given range with DNS support and hostnames on", () => {
    expect(onlyResource(network(), "aws_vpc")).toMatchObject({
      cidr_block: "10.20.0.0/16",
      enable_dns_support: true,
      enable_dns_hostnames: true,
      tags: { Name: "acme-test-vpc" },
    });
  });

  test("one public and one private subnet per AZ, CIDRs in AZ order", () => {
    const found = subnets();
    expect(found.public.map((s) => [s.availability_zone, s.cidr_block])).toEqual([
      ["eu-west-1a", "10.20.0.0/24"],
      ["eu-west-1b", "10.20.1.0/24"],
      ["eu-west-1c", "10.20.2.0/24"],
    ]);
    expect(found.private.map((s) => [s.availability_zone, s.cidr_block])).toEqual([
      ["eu-west-1a", "10.20.100.0/24"],
      ["eu-west-1b", "10.20.101.0/24"],
      ["eu-west-1c", "10.20.102.0/24"],
    ]);
  });

  test("no subnet hands out public IPs on its own", () => {
    for (const subnet of resourcesOf(network(), "aws_subnet")) expect(subnet.map_public_ip_on_launch).toBe(false);
  });

  test("every public subnet routes 0.0.0.0/0 to the internet gateway through one table", () => {
    const json = network();
    const publicRoutes = resourcesOf(json, "aws_route").filter((r) => r.gateway_id);
    expect(publicRoutes).toHaveLength(1);
    expect(publicRoutes[0].destination_cidr_block).toBe("0.0.0.0/0");
    expect(resourceAt(json, publicRoutes[0].gateway_id)).toBe(onlyResource(json, "aws_internet_gateway"));
    const associated = resourcesOf(json, "aws_route_table_association")
      .filter((a) => a.route_table_id === publicRoutes[0].route_table_id)
      .map((a) => resourceAt(json, a.subnet_id).cidr_block);
    expect(associated).toEqual(THREE_AZS.publicSubnetCidrs);
  });

  test("without NAT, private subnets share one table with no route out and there is no NAT or EIP", () => {
    const json = network();
    expect(resourcesOf(json, "aws_nat_gateway")).toHaveLength(0);
    expect(resourcesOf(json, "aws_eip")).toHaveLength(0);
    expect(resourcesOf(json, "aws_route").filter((r) => r.nat_gateway_id)).toHaveLength(0);
    const tables = new Set(
      resourcesOf(json, "aws_route_table_association")
        .filter((a) => resourceAt(json, a.subnet_id).tags.Name.includes("-private-"))
        .map((a) => a.route_table_id),
    );
    expect(tables.size).toBe(1);
    expect(resourcesOf(json, "aws_route_table")).toHaveLength(2);
  });

  test("natGateway adds one NAT with its Elastic IP in the first public subnet, routed from the private table", () => {
    const json = network({ natGateway: true });
    const nat = onlyResource(json, "aws_nat_gateway");
    expect(resourceAt(json, nat.subnet_id)).toMatchObject({ availability_zone: "eu-west-1a", cidr_block: "10.20.0.0/24" });
    expect(resourceAt(json, nat.allocation_id)).toBe(onlyResource(json, "aws_eip"));
    expect(onlyResource(json, "aws_eip").domain).toBe("vpc");
    const natRoute = resourcesOf(json, "aws_route").filter((r) => r.nat_gateway_id);
    expect(natRoute).toHaveLength(1);
    expect(natRoute[0].destination_cidr_block).toBe("0.0.0.0/0");
    const privateTables = resourcesOf(json, "aws_route_table_association")
      .filter((a) => resourceAt(json, a.subnet_id).tags.Name.includes("-private-"))
      .map((a) => a.route_table_id);
    expect(new Set(privateTables)).toEqual(new Set([natRoute[0].route_table_id]));
  });

  test("natGatewayPerAz gives each AZ its own NAT, in its own public subnet, and its own private table", () => {
    const json = network({ natGateway: true, natGatewayPerAz: true });
    const nats = resourcesOf(json, "aws_nat_gateway");
    expect(nats.map((n) => resourceAt(json, n.subnet_id).availability_zone)).toEqual(THREE_AZS.availabilityZones);
    expect(resourcesOf(json, "aws_eip")).toHaveLength(3);
    const routes = resourcesOf(json, "aws_route").filter((r) => r.nat_gateway_id);
    for (const association of resourcesOf(json, "aws_route_table_association")) {
      const subnet = resourceAt(json, association.subnet_id);
      if (!subnet.tags.Name.includes("-private-")) continue;
      const route = routes.find((r) => r.route_table_id === association.route_table_id);
      expect(resourceAt(json, route!.nat_gateway_id).tags.Name).toBe(`acme-test-nat-${subnet.availability_zone}`);
    }
    expect(resourcesOf(json, "aws_route_table")).toHaveLength(4);
  });

  test("DB subnet group covers every private subnet", () => {
    const json = network();
    const group = onlyResource(json, "aws_db_subnet_group");
    expect(group.name).toBe("acme-test-db");
    expect(group.subnet_ids.map((id: string) => resourceAt(json, id).cidr_block)).toEqual(THREE_AZS.privateSubnetCidrs);
  });

  test("the default security group is managed with no rules at all", () => {
    const group = onlyResource(network(), "aws_default_security_group");
    expect(group.ingress).toEqual([]);
    expect(group.egress).toEqual([]);
  });

  test("flow logs record all traffic into a log group kept for the configured days", () => {
    const json = network({ flowLogsRetentionDays: 90 });
    const logGroup = onlyResource(json, "aws_cloudwatch_log_group");
    expect(logGroup).toMatchObject({ name: "/aws/vpc/acme-test-flow-logs", retention_in_days: 90 });
    const flowLog = onlyResource(json, "aws_flow_log");
    expect(flowLog).toMatchObject({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    expect(resourceAt(json, flowLog.log_destination)).toBe(logGroup);
    expect(resourceAt(json, flowLog.vpc_id)).toBe(onlyResource(json, "aws_vpc"));
  });

  test("the flow log role is trusted by VPC Flow Logs and may write only to its log group", () => {
    const json = network();
    const role = onlyResource(json, "aws_iam_role");
    expect(role.assume_role_policy).toContain('"vpc-flow-logs.amazonaws.com"');
    expect(role.assume_role_policy).toMatch(/"aws:SourceAccount" = aws_vpc\.[\w-]+\.owner_id/);
    expect(role.assume_role_policy).toMatch(
      /"aws:SourceArn" = "\$\{join\(":", slice\(split\(":", aws_vpc\.[\w-]+\.arn\), 0, 5\)\)\}:vpc-flow-log\/\*"/,
    );
    expect(resourceAt(json, onlyResource(json, "aws_flow_log").iam_role_arn)).toBe(role);
    const policy = onlyResource(json, "aws_iam_role_policy").policy as string;
    expect(policy).toMatch(/"Action" = \["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"\]/);
    expect(policy).toMatch(/"Resource" = \[aws_cloudwatch_log_group\.[\w-]+\.arn, "\$\{aws_cloudwatch_log_group\.[\w-]+\.arn\}:\*"\]/);
  });

  test("flowLogs: false creates no flow log, log group or role", () => {
    const json = network({ flowLogs: false });
    for (const type of ["aws_flow_log", "aws_cloudwatch_log_group", "aws_iam_role", "aws_iam_role_policy"]) {
      expect(resourcesOf(json, type)).toHaveLength(0);
    }
  });

  test("fewer than two AZs is rejected naming the prop", () => {
    expect(
      build({ availabilityZones: ["eu-west-1a"], publicSubnetCidrs: ["10.20.0.0/24"], privateSubnetCidrs: ["10.20.100.0/24"] }),
    ).toThrow(/availabilityZones needs at least 2 AZs.*\(got 1\)/);
  });

  test("a subnet list that does not match the AZs is rejected naming the prop", () => {
    expect(build({ privateSubnetCidrs: ["10.20.100.0/24"] })).toThrow(/privateSubnetCidrs needs one CIDR per AZ: 3 AZs \(got 1 CIDRs\)/);
  });

  test("natGatewayPerAz without natGateway is rejected", () => {
    expect(build({ natGatewayPerAz: true })).toThrow(/natGatewayPerAz needs natGateway: true/);
  });

  test("a retention CloudWatch does not offer is rejected", () => {
    expect(build({ flowLogsRetentionDays: 10 })).toThrow(/flowLogsRetentionDays must be one of .* \(got 10\)/);
  });
});
