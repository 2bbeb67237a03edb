import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { Ec2InstanceState } from "@cdktf/provider-aws/lib/ec2-instance-state";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { Construct } from "constructs";
import { bastionUserData } from "./bastion-user-data";
import { Role } from "./role";
import { LIMITS } from "./aws-limits";
import { propError } from "./errors";

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const SSM_BASTION_DEFAULTS = {
  instanceType: "t4g.nano",
  running: true,
} as const;

export interface SsmBastionProps {
  /**
   * A public subnet: with no NAT gateway and no SSM VPC endpoints, the agent reaches Systems
   * Manager only through the internet gateway.
   */
  readonly subnetId: string;
  /** Security groups of the instance; Session Manager needs no inbound rule, so give it none. */
  readonly securityGroupIds: readonly string[];
  /**
   * EC2 instance type; its family picks the AMI's architecture (t4g: arm64, t3: x86_64).
   * @default "t4g.nano" - the cheapest type that runs Amazon Linux 2023 and the SSM agent
   */
  readonly instanceType?: string;
  /**
   * false keeps the instance but stopped: only its root volume is billed. Terraform stops it as soon
   * as EC2 reports it running, usually before cloud-init has finished; `bastionUserData` therefore
   * does its setup at every boot, so the next start completes what the first boot could not.
   * @default true
   */
  readonly running?: boolean;
  /**
   * First-boot script (see `bastionUserData`).
   * @default - a script that only makes sure the SSM agent runs
   */
  readonly userData?: string;
  /**
   * Replace the instance when the user data changes. cloud-init runs user data once, on first boot
   * (it installs the per-boot script), so an in-place change would leave the login message
   * describing the old database.
   * @default true
   */
  readonly userDataCausesReplacement?: boolean;
  /**
   * Name of the instance, its role and instance profile (`Naming.name("bastion")`), given on purpose:
   * a new name replaces the role and retags the instance.
   */
  readonly instanceName: string;
}

/**
 * A Linux host in a public subnet that operators reach with `aws ssm start-session`, to run psql or
 * to forward a port to a private database. No SSH key, no inbound rule, IMDSv2 only, encrypted root
 * volume; Amazon Linux 2023 from AWS's public SSM parameter, kept (not replaced) when AWS publishes a
 * newer image. Give its `role` access with grant helpers (`secret.grantRead(bastion.role)`).
 */
export class SsmBastion extends Construct {
  readonly instanceId: string;
  /** Trusted by EC2, with AmazonSSMManagedInstanceCore; add statements with grant helpers. */
  readonly role: Role;
  readonly instanceName: string;

  constructor(scope: Construct, id: string, props: SsmBastionProps) {
    super(scope, id);
    const instanceType = props.instanceType ?? SSM_BASTION_DEFAULTS.instanceType;
    const running = props.running ?? SSM_BASTION_DEFAULTS.running;
    const name = props.instanceName;
    const userData = props.userData ?? bastionUserData({ name });
    const { family, attributes } = this.parseInstanceType(instanceType);
    // Graviton families carry a `g` after the generation (t4g, m7gd); `a1` was the first Graviton.
    const architecture = family === "a" || attributes.includes("g") ? "arm64" : "x86_64";
    if (props.securityGroupIds.length === 0) {
      throw propError(this, `securityGroupIds`, `needs at least one security group (one with no inbound rules)`);
    }

    this.role = new Role(this, "role", {
      roleName: name,
      description: `${name}: Session Manager access; grant helpers add the secrets it may read`,
      assumedBy: ["ec2.amazonaws.com"],
      managedPolicies: ["AmazonSSMManagedInstanceCore"],
      instanceProfile: true,
    });

    const ami = new DataAwsSsmParameter(this, "ami", {
      name: `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${architecture}`,
    });

    const instance = new Instance(this, "instance", {
      // An AMI id is public: the non-sensitive attribute keeps plans readable.
      ami: ami.insecureValue,
      instanceType,
      subnetId: props.subnetId,
      vpcSecurityGroupIds: [...props.securityGroupIds],
      // Without a public IP the SSM agent never registers: public subnets do not auto-assign one
      // (the old scripts' outage). The security group has no inbound rule, so nothing can connect in.
      associatePublicIpAddress: true,
      iamInstanceProfile: this.role.instanceProfileName,
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      rootBlockDevice: { volumeType: "gp3", encrypted: true, deleteOnTermination: true },
      // T types launch in unlimited mode, billing surplus credits if something spins; a bastion never needs sustained CPU.
      creditSpecification: family === "t" ? { cpuCredits: "standard" } : undefined,
      monitoring: false,
      userData,
      userDataReplaceOnChange: props.userDataCausesReplacement ?? true,
      tags: { Name: name },
      // The parameter moves to every new AMI release; following it would replace the host each time.
      lifecycle: { ignoreChanges: ["ami"] },
    });
    this.instanceId = instance.id;
    this.instanceName = name;

    new Ec2InstanceState(this, "state", { instanceId: instance.id, state: running ? "running" : "stopped" });
  }

  /** `t4g.nano` -> family `t`, attributes `g`; throws naming the prop when it is not an instance type AL2023 runs on. */
  private parseInstanceType(instanceType: string): { family: string; attributes: string } {
    if (!LIMITS.ec2InstanceType.check(instanceType)) {
      throw propError(this, `instanceType`, `${LIMITS.ec2InstanceType.rule} (got "${instanceType}")`);
    }
    const [, family, attributes] = /^([a-z]+)\d+([a-z-]*)\./.exec(instanceType)!;
    return { family, attributes };
  }
}
