import { SecurityGroup as AwsSecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { Naming } from "./naming";
import { propError } from "./errors";

/** Ports of the protocols our groups open; well-known numbers, not settings of one environment. */
export const Port = {
  HTTPS: 443,
  POSTGRES: 5432,
  REDIS: 6379,
} as const;

/** An IPv4 range a rule can name instead of another group. */
export interface Ipv4Peer {
  readonly cidrIpv4: string;
  /** Short label used in the rule's construct id and Name tag. */
  readonly label: string;
}

export const Peer = {
  /** Every IPv4 address; for egress to the internet (AWS APIs, package mirrors). */
  anyIpv4: (): Ipv4Peer => ({ cidrIpv4: "0.0.0.0/0", label: "any-ipv4" }),
  /** One IPv4 range, e.g. a VPC's CIDR. */
  // Terraform names drop dots: 10-1-10-0-24 reads in plan output, 1011000_24 does not.
  ipv4: (cidr: string): Ipv4Peer => ({ cidrIpv4: cidr, label: cidr.replace(/[./]/g, "-") }),
};

/** What a rule names on its other side: another group or an IPv4 range. */
export type RulePeer = SecurityGroup | Ipv4Peer;

export interface SecurityGroupProps {
  /** The VPC the group belongs to. */
  readonly vpcId: string;
  /**
   * What the group is for, shown next to it in the console. AWS cannot change it in place:
   * a new description replaces the group.
   */
  readonly description: string;
  /** The group's name (a new name replaces the group): the caller's, never derived from the construct id. */
  readonly groupName: string;
  /**
   * How this group's rules and its peers' rules name it: in their construct ids (so their
   * addresses) and their `Name` tags (`<project>-<env>-database-sg-from-<ruleLabel>-5432`).
   * @default - the group name after `<project>-<env>-` (`backend-sg`), or the whole name without that prefix
   */
  readonly ruleLabel?: string;
}

/**
 * A VPC security group whose rules are separate `aws_vpc_security_group_ingress_rule` /
 * `egress_rule` resources, one per port and peer: any stack can add a rule without replacing the
 * group or fighting over an inline rule list. A new group allows nothing in and, because the AWS
 * provider revokes the default allow-all egress rule on create, nothing out either, until a verb
 * below opens it.
 */
export class SecurityGroup extends Construct {
  readonly securityGroupId: string;
  readonly securityGroupArn: string;
  readonly groupName: string;
  /** The group resource itself: its address, for `moved` blocks and for tests that find it. */
  readonly groupResource: AwsSecurityGroup;
  /** How rules name this group (see `ruleLabel`). */
  readonly ruleLabel: string;

  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id);
    checkDescription(`SecurityGroup ${this.node.path}: description`, props.description);
    const naming = Naming.of(this);
    const name = props.groupName;
    // AWS reserves the `sg-` prefix for group ids; a name starting with it is rejected at apply.
    if (name.toLowerCase().startsWith("sg-")) {
      throw propError(this, `groupName`, `must not start with "sg-" (got "${name}")`);
    }
    const group = new AwsSecurityGroup(this, "group", {
      name,
      description: props.description,
      vpcId: props.vpcId,
      tags: { Name: name },
    });
    this.groupResource = group;
    this.securityGroupId = group.id;
    this.securityGroupArn = group.arn;
    // The plain name, not the resource attribute: rule tags in another stack then need no cross-stack output.
    this.groupName = name;
    this.ruleLabel = props.ruleLabel ?? naming.purposeOf(name);
    if (!/^[a-zA-Z0-9-]+$/.test(this.ruleLabel)) {
      throw propError(this, "ruleLabel", `must be letters, digits and '-' (got "${this.ruleLabel}")`);
    }
  }

  /** Lets TCP `port` in from `peer`. */
  allowFrom(peer: RulePeer, port: number, description: string): VpcSecurityGroupIngressRule {
    const { scope, id } = this.placeRule("from", peer, port);
    return new VpcSecurityGroupIngressRule(scope, id, { ...this.ruleArgs(peer, port, description, "allowFrom"), tags: this.ruleTags(id) });
  }

  /** Lets TCP `port` out to `peer`. */
  allowTo(peer: RulePeer, port: number, description: string): VpcSecurityGroupEgressRule {
    const { scope, id } = this.placeRule("to", peer, port);
    return new VpcSecurityGroupEgressRule(scope, id, { ...this.ruleArgs(peer, port, description, "allowTo"), tags: this.ruleTags(id) });
  }

  private ruleArgs(peer: RulePeer, port: number, description: string, verb: string) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`SecurityGroup ${this.node.path}: ${verb} port must be a whole number 1-65535 (got ${port})`);
    }
    checkDescription(`SecurityGroup ${this.node.path}: ${verb} description`, description);
    return {
      securityGroupId: this.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
      ...(peer instanceof SecurityGroup ? { referencedSecurityGroupId: peer.securityGroupId } : { cidrIpv4: peer.cidrIpv4 }),
    };
  }

  private ruleTags(id: string): { Name: string } {
    return { Name: `${this.groupName}-${id}` };
  }

  /**
   * A rule naming a group of another stack makes the rule's stack depend on that stack. It goes in
   * whichever of the two stacks deploys later, or the two stacks would depend on each other.
   */
  private placeRule(direction: "from" | "to", peer: RulePeer, port: number): { scope: Construct; id: string } {
    // Labels, not construct ids: renaming a construct must not replace its rules or retag them.
    const peerLabel = peer instanceof SecurityGroup ? peer.ruleLabel : peer.label;
    const id = `${direction}-${peerLabel}-${port}`;
    const placed =
      peer instanceof SecurityGroup && deploysAfter(TerraformStack.of(peer), TerraformStack.of(this))
        ? { scope: peer as Construct, id: `${this.ruleLabel}-${id}` }
        : { scope: this as Construct, id };
    if (placed.scope.node.tryFindChild(placed.id)) {
      throw propError(this, `a`, `rule ${direction} ${peerLabel} on port ${port} already exists`);
    }
    return placed;
  }
}

/** Stacks of one app are created in deploy order, so a later sibling deploys later. */
function deploysAfter(a: TerraformStack, b: TerraformStack): boolean {
  if (a === b) return false;
  const siblings = a.node.scope?.node.children ?? [];
  return siblings.indexOf(a) > siblings.indexOf(b);
}

// EC2 accepts only these characters in group and rule descriptions (no apostrophes, no non-ASCII).
const DESCRIPTION = /^[a-zA-Z0-9 ._\-:/()#,@[\]+=&;{}!$*]{1,255}$/;

function checkDescription(what: string, text: string): void {
  if (!DESCRIPTION.test(text)) {
    throw new Error(`${what} must be 1-255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$* (got "${text}")`);
  }
}
