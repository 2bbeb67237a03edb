import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { LIMITS } from "./aws-limits";
import { Naming } from "./naming";
import { Role } from "./role";
import { propError } from "./errors";

const ANYWHERE = "0.0.0.0/0";

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const NETWORK_DEFAULTS = {
  natGateway: false,
  natGatewayPerAz: false,
  flowLogsRetentionDays: 30,
} as const;

export interface NetworkProps {
  /** The VPC's IPv4 range. */
  readonly cidr: string;
  /** AZs to spread subnets over, at least 2 (an RDS subnet group must cover two). */
  readonly availabilityZones: readonly string[];
  /** One public subnet per AZ, in AZ order. */
  readonly publicSubnetCidrs: readonly string[];
  /** One private subnet per AZ, in AZ order. */
  readonly privateSubnetCidrs: readonly string[];
  /**
   * Give private subnets internet egress through a NAT gateway (about $32/month each, plus traffic).
   * @default false - private subnets reach nothing outside the VPC
   */
  readonly natGateway?: boolean;
  /**
   * One NAT gateway and private route table per AZ, so losing one AZ does not cut the others off.
   * Needs `natGateway`.
   * @default false - one NAT gateway in the first public subnet, shared by every AZ
   */
  readonly natGatewayPerAz?: boolean;
  /**
   * Send VPC flow logs (all traffic, accepted and rejected) to a CloudWatch log group.
   * @default true
   */
  readonly flowLogs?: boolean;
  /**
   * Days flow logs are kept; one of CloudWatch's retention periods.
   * @default 30
   */
  readonly flowLogsRetentionDays?: number;
  /**
   * Also create an ElastiCache subnet group over the private subnets.
   * @default false
   */
  readonly cacheSubnetGroup?: boolean;
}

/**
 * A VPC with one public and one private subnet per AZ, an internet gateway for the public ones,
 * optional NAT for the private ones, a DB subnet group over the private subnets, its default
 * security group emptied, and optional flow logs.
 */
export class Network extends Construct {
  readonly vpcId: string;
  readonly vpcCidr: string;
  readonly availabilityZones: readonly string[];
  /** In AZ order. */
  readonly publicSubnetIds: string[];
  /** In AZ order. */
  readonly privateSubnetIds: string[];
  readonly publicRouteTableId: string;
  /** One shared table, or one per AZ (in AZ order) with `natGatewayPerAz`. */
  readonly privateRouteTableIds: string[];
  readonly dbSubnetGroupName: string;
  /** Set when `cacheSubnetGroup` is on. */
  readonly cacheSubnetGroupName?: string;
  /** Public addresses private subnets reach the internet from (for allowlists elsewhere); empty without NAT. */
  readonly natPublicIps: string[];
  /** Set when `flowLogs` is on. */
  readonly flowLogGroupName?: string;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const natGateway = props.natGateway ?? NETWORK_DEFAULTS.natGateway;
    const natGatewayPerAz = props.natGatewayPerAz ?? NETWORK_DEFAULTS.natGatewayPerAz;
    const flowLogs = props.flowLogs ?? true;
    const flowLogsRetentionDays = props.flowLogsRetentionDays ?? NETWORK_DEFAULTS.flowLogsRetentionDays;
    const azs = [...props.availabilityZones];
    this.check(props, azs, natGateway, natGatewayPerAz, flowLogsRetentionDays);

    const naming = Naming.of(this);
    const vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      // RDS endpoints and the SSM agent resolve through the VPC's DNS; both flags must be on.
      enableDnsSupport: true,
      enableDnsHostnames: true,
      tags: naming.tags("vpc"),
    });
    this.vpcId = vpc.id;
    this.vpcCidr = vpc.cidrBlock;
    this.availabilityZones = azs;

    // Nothing may fall back to the default group by accident: managed with no rules, it allows nothing.
    new DefaultSecurityGroup(this, "default-security-group", {
      vpcId: vpc.id,
      ingress: [],
      egress: [],
      tags: naming.tags("default-do-not-use"),
    });

    const publicSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `public-${az}`, {
          vpcId: vpc.id,
          availabilityZone: az,
          cidrBlock: props.publicSubnetCidrs[i],
          // Instances get a public IP only when they ask for one (the bastion does, for SSM).
          mapPublicIpOnLaunch: false,
          tags: naming.tags("public", az),
        }),
    );
    const privateSubnets = azs.map(
      (az, i) =>
        new Subnet(this, `private-${az}`, {
          vpcId: vpc.id,
          availabilityZone: az,
          cidrBlock: props.privateSubnetCidrs[i],
          mapPublicIpOnLaunch: false,
          tags: naming.tags("private", az),
        }),
    );
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    const gateway = new InternetGateway(this, "internet-gateway", { vpcId: vpc.id, tags: naming.tags("igw") });
    const publicTable = new RouteTable(this, "public-routes", { vpcId: vpc.id, tags: naming.tags("public") });
    new Route(this, "public-internet-route", { routeTableId: publicTable.id, destinationCidrBlock: ANYWHERE, gatewayId: gateway.id });
    publicSubnets.forEach((subnet, i) => {
      new RouteTableAssociation(this, `public-${azs[i]}-routes`, { subnetId: subnet.id, routeTableId: publicTable.id });
    });
    this.publicRouteTableId = publicTable.id;

    const natAzs = !natGateway ? [] : natGatewayPerAz ? azs : [azs[0]];
    const nats = natAzs.map((az) => {
      const suffix = natGatewayPerAz ? [az] : [];
      const ip = new Eip(this, `nat-ip-${az}`, { domain: "vpc", tags: naming.tags("nat", ...suffix) });
      const nat = new NatGateway(this, `nat-${az}`, {
        allocationId: ip.allocationId,
        subnetId: publicSubnets[azs.indexOf(az)].id,
        tags: naming.tags("nat", ...suffix),
        // A NAT gateway forwards nothing until the VPC has its internet gateway attached.
        dependsOn: [gateway],
      });
      return { ip, nat };
    });
    this.natPublicIps = nats.map((n) => n.ip.publicIp);

    const privateTables = (natGatewayPerAz ? azs : [undefined]).map((az, i) => {
      const table = new RouteTable(this, az ? `private-routes-${az}` : "private-routes", {
        vpcId: vpc.id,
        tags: naming.tags("private", ...(az ? [az] : [])),
      });
      const nat = nats[i];
      if (nat) {
        new Route(this, az ? `private-nat-route-${az}` : "private-nat-route", {
          routeTableId: table.id,
          destinationCidrBlock: ANYWHERE,
          natGatewayId: nat.nat.id,
        });
      }
      return table;
    });
    privateSubnets.forEach((subnet, i) => {
      const table = privateTables[natGatewayPerAz ? i : 0];
      new RouteTableAssociation(this, `private-${azs[i]}-routes`, { subnetId: subnet.id, routeTableId: table.id });
    });
    this.privateRouteTableIds = privateTables.map((t) => t.id);

    const subnetGroup = new DbSubnetGroup(this, "db-subnet-group", {
      name: naming.name("db"),
      description: "Private subnets of every AZ; RDS places the instance and any standby here",
      subnetIds: this.privateSubnetIds,
      tags: naming.tags("db"),
    });
    this.dbSubnetGroupName = subnetGroup.name;
    if (props.cacheSubnetGroup ?? false) {
      this.cacheSubnetGroupName = new ElasticacheSubnetGroup(this, "cache-subnet-group", {
        name: naming.name("cache"),
        description: "Private subnets of every AZ; ElastiCache places the primary and replicas here",
        subnetIds: this.privateSubnetIds,
        tags: naming.tags("cache"),
      }).name;
    }

    if (flowLogs) {
      this.flowLogGroupName = this.addFlowLogs(vpc, flowLogsRetentionDays);
    }
  }

  private addFlowLogs(vpc: Vpc, retentionInDays: number): string {
    const naming = Naming.of(this);
    const logGroup = new CloudwatchLogGroup(this, "flow-logs", {
      name: `/aws/vpc/${naming.name("flow-logs")}`,
      retentionInDays,
      tags: naming.tags("flow-logs"),
    });
    // The VPC's ARN gives partition, region and account without a data source that calls AWS.
    const arnPrefix = Fn.join(":", Fn.slice(Fn.split(":", vpc.arn), 0, 5));
    const role = new Role(this, "flow-logs-role", {
      roleName: naming.name("vpc-flow-logs"),
      description: "Lets VPC Flow Logs write to its log group",
      trustStatements: [
        {
          effect: "Allow",
          actions: ["sts:AssumeRole"],
          resources: [],
          principals: { Service: ["vpc-flow-logs.amazonaws.com"] },
          // Confused-deputy guard AWS recommends: only flow logs of this account may use the role.
          conditions: {
            StringEquals: { "aws:SourceAccount": vpc.ownerId },
            ArnLike: { "aws:SourceArn": `${arnPrefix}:vpc-flow-log/*` },
          },
        },
      ],
    });
    // The streams of this one group: the service creates a stream per network interface.
    role.allow(["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"], [logGroup.arn, `${logGroup.arn}:*`]);
    new FlowLog(this, "flow-log", {
      vpcId: vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.roleArn,
      tags: naming.tags("flow-logs"),
    });
    return logGroup.name;
  }

  private check(props: NetworkProps, azs: string[], natGateway: boolean, natGatewayPerAz: boolean, retention: number): void {
    if (azs.length < 2) {
      throw propError(this, "availabilityZones", `needs at least 2 AZs, as RDS subnet groups must cover two (got ${azs.length})`);
    }
    for (const key of ["publicSubnetCidrs", "privateSubnetCidrs"] as const) {
      if (props[key].length !== azs.length) {
        throw propError(this, key, `needs one CIDR per AZ: ${azs.length} AZs (got ${props[key].length} CIDRs)`);
      }
    }
    if (natGatewayPerAz && !natGateway) {
      throw propError(this, "natGatewayPerAz", `needs natGateway: true (got natGateway: false)`);
    }
    if (!LIMITS.logRetentionDays.check(retention)) {
      throw propError(this, "flowLogsRetentionDays", `${LIMITS.logRetentionDays.rule} (got ${retention})`);
    }
  }
}
