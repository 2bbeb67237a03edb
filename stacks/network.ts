import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import type { ApplicationModule } from "./application";
import { Network } from "../constructs/network";
import { Peer, Port, SecurityGroup } from "../constructs/security-group";
import { EnvironmentStack } from "./environment-stack";
import { fromConfig } from "./config-errors";
import { NETWORK_OUTPUTS } from "./outputs";

export interface NetworkStackProps {
  readonly config: EnvironmentConfig;
  readonly app: ApplicationModule;
}

/**
 * `<env>-network`: the VPC over the configured AZs and the three security groups every later stack
 * attaches to. PostgreSQL is reachable only from the backend and bastion groups; neither of those
 * accepts any inbound traffic (SSM needs none, a load balancer will add its own rule).
 */
export class NetworkStack extends EnvironmentStack {
  /** The VPC, its subnets over the configured AZs and their subnet groups (`vpcId`, `publicSubnetIds`, `dbSubnetGroupName`, ...). */
  readonly vpc: Network;
  /** The groups every later stack attaches to (`securityGroupId`), and adds rules to or references from its own groups. */
  readonly securityGroups: {
    readonly database: SecurityGroup;
    readonly bastion: SecurityGroup;
    readonly backend: SecurityGroup;
  };

  constructor(scope: Construct, props: NetworkStackProps) {
    const { config, app } = props;
    super(scope, { config, layer: "network" });
    const net = config.network;

    this.vpc = fromConfig(
      config,
      "network",
      () =>
        new Network(this, "network", {
          cidr: net.vpcCidr,
          availabilityZones: net.availabilityZones,
          publicSubnetCidrs: net.publicSubnetCidrs,
          privateSubnetCidrs: net.privateSubnetCidrs,
          natGateway: net.natGateway,
          natGatewayPerAz: net.natGatewayPerAz,
          flowLogs: net.flowLogs,
          flowLogsRetentionDays: net.flowLogsRetentionDays,
          cacheSubnetGroup: app.network.cacheSubnetGroup,
        }),
      { cidr: "vpcCidr" },
    );

    const vpcId = this.vpc.vpcId;
    const database = new SecurityGroup(this, "database-sg", {
      vpcId,
      groupName: this.naming.name("database-sg"),
      description: "PostgreSQL: reachable only from the backend and bastion groups",
    });
    const bastion = new SecurityGroup(this, "bastion-sg", {
      vpcId,
      groupName: this.naming.name("bastion-sg"),
      description: "SSM bastion: no inbound; out to HTTPS and PostgreSQL",
    });
    const backend = new SecurityGroup(this, "backend-sg", {
      vpcId,
      groupName: this.naming.name("backend-sg"),
      description: "Application backend: out to PostgreSQL, HTTPS and SMTP",
    });

    database.allowFrom(backend, Port.POSTGRES, "PostgreSQL from the backend");
    database.allowFrom(bastion, Port.POSTGRES, "PostgreSQL from the bastion (operators, tenants stack tunnel)");
    // SSM's endpoints are public HTTPS endpoints: without NAT or VPC endpoints the bastion reaches them through its public IP.
    bastion.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to SSM endpoints and package mirrors");
    bastion.allowTo(database, Port.POSTGRES, "PostgreSQL to the database");
    backend.allowTo(database, Port.POSTGRES, "PostgreSQL to the database");
    backend.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to AWS APIs and third-party services");
    // The app sends mail through an SMTP relay (SES or Gmail) on the submission port written into its secret.
    if (app.network.smtpPort !== undefined) backend.allowTo(Peer.anyIpv4(), app.network.smtpPort, "SMTP submission to the mail relay");
    this.securityGroups = { database, bastion, backend };

    app.addNetwork?.(this);

    this.declareOutputs(NETWORK_OUTPUTS, {
      vpcId: { value: vpcId, description: "ID of the VPC" },
      publicSubnets: { value: this.vpc.publicSubnetIds, description: "IDs of the public subnets, in AZ order" },
      privateSubnets: { value: this.vpc.privateSubnetIds, description: "IDs of the private subnets, in AZ order" },
      databaseSubnetGroupName: { value: this.vpc.dbSubnetGroupName, description: "Name of the RDS subnet group over the private subnets" },
      databaseSecurityGroupId: { value: database.securityGroupId, description: "ID of the database security group" },
      bastionSecurityGroupId: { value: bastion.securityGroupId, description: "ID of the bastion security group" },
      backendSecurityGroupId: { value: backend.securityGroupId, description: "ID of the backend security group" },
    });
  }
}
