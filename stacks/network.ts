import { TerraformOutput } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import type { ApplicationModule } from "./application";
import { Network } from "../constructs/network";
import { Peer, Port, SecurityGroup } from "../constructs/security-group";
import { EnvironmentStack } from "./environment-stack";
import { fromConfig } from "./config-errors";

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
  readonly vpcId: string;
  readonly publicSubnetIds: string[];
  readonly privateSubnetIds: string[];
  readonly dbSubnetGroupName: string;
  readonly databaseSecurityGroupId: string;
  readonly bastionSecurityGroupId: string;
  readonly backendSecurityGroupId: string;
  /** Set when the application asks for an ElastiCache subnet group. */
  readonly cacheSubnetGroupName?: string;
  /** The groups themselves, so later stacks can add rules (or reference them from their own groups). */
  readonly securityGroups: {
    readonly database: SecurityGroup;
    readonly bastion: SecurityGroup;
    readonly backend: SecurityGroup;
  };

  constructor(scope: Construct, props: NetworkStackProps) {
    const { config, app } = props;
    super(scope, { config, layer: "network" });
    const net = config.network;

    const network = fromConfig(
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

    const vpcId = network.vpcId;
    const database = new SecurityGroup(this, "database-sg", {
      vpcId,
      description: "PostgreSQL: reachable only from the backend and bastion groups",
    });
    const bastion = new SecurityGroup(this, "bastion-sg", { vpcId, description: "SSM bastion: no inbound; out to HTTPS and PostgreSQL" });
    const backend = new SecurityGroup(this, "backend-sg", { vpcId, description: "Application backend: out to PostgreSQL, HTTPS and SMTP" });

    database.allowFrom(backend, Port.POSTGRES, "PostgreSQL from the backend");
    database.allowFrom(bastion, Port.POSTGRES, "PostgreSQL from the bastion (operators, tenants stack tunnel)");
    // SSM's endpoints are public HTTPS endpoints: without NAT or VPC endpoints the bastion reaches them through its public IP.
    bastion.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to SSM endpoints and package mirrors");
    bastion.allowTo(database, Port.POSTGRES, "PostgreSQL to the database");
    backend.allowTo(database, Port.POSTGRES, "PostgreSQL to the database");
    backend.allowTo(Peer.anyIpv4(), Port.HTTPS, "HTTPS to AWS APIs and third-party services");
    // The app sends mail through an SMTP relay (SES or Gmail) on the submission port written into its secret.
    if (app.network.smtpPort !== undefined) backend.allowTo(Peer.anyIpv4(), app.network.smtpPort, "SMTP submission to the mail relay");

    this.vpcId = vpcId;
    this.publicSubnetIds = network.publicSubnetIds;
    this.privateSubnetIds = network.privateSubnetIds;
    this.dbSubnetGroupName = network.dbSubnetGroupName;
    this.databaseSecurityGroupId = database.securityGroupId;
    this.bastionSecurityGroupId = bastion.securityGroupId;
    this.backendSecurityGroupId = backend.securityGroupId;
    this.securityGroups = { database, bastion, backend };

    this.cacheSubnetGroupName = network.cacheSubnetGroupName;
    app.addNetwork?.(this);

    const outputs: Record<string, [unknown, string]> = {
      vpc_id: [this.vpcId, "ID of the VPC"],
      public_subnets: [this.publicSubnetIds, "IDs of the public subnets, in AZ order"],
      private_subnets: [this.privateSubnetIds, "IDs of the private subnets, in AZ order"],
      database_subnet_group_name: [this.dbSubnetGroupName, "Name of the RDS subnet group over the private subnets"],
      database_security_group_id: [this.databaseSecurityGroupId, "ID of the database security group"],
      bastion_security_group_id: [this.bastionSecurityGroupId, "ID of the bastion security group"],
      backend_security_group_id: [this.backendSecurityGroupId, "ID of the backend security group"],
    };
    for (const [name, [value, description]] of Object.entries(outputs)) new TerraformOutput(this, name, { value, description });
  }
}
