import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Lazy, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { allow, awsManagedPolicyArn, policyDocument, type PolicyStatement } from "./iam";

/** Anything a grant helper can give permissions to (`secret.grantRead(role)`). */
export interface IGrantable {
  /** Adds one statement to the principal's own policy. */
  addToPolicy(statement: PolicyStatement): void;
}

export interface RoleProps {
  /**
   * Services that may assume the role, e.g. `["ec2.amazonaws.com"]`.
   * @default - none; then `trustStatements` must name who may
   */
  readonly assumedBy?: readonly string[];
  /**
   * Trust statements for principals that are not services, e.g. web identity federation through an
   * OIDC provider (`sts:AssumeRoleWithWebIdentity` with conditions on the token's claims).
   * @default - none
   */
  readonly trustStatements?: readonly PolicyStatement[];
  /**
   * The role's name (also the instance profile's), given on purpose: a new name replaces the role,
   * so it must not follow the construct id.
   */
  readonly roleName: string;
  readonly description?: string;
  /**
   * AWS managed policies by path, e.g. `service-role/AmazonRDSEnhancedMonitoringRole`; the ARN is
   * built for the current partition, so the role also works in aws-cn and aws-us-gov.
   * @default - none
   */
  readonly managedPolicies?: readonly string[];
  /**
   * Create an instance profile so EC2 can use the role.
   * @default false
   */
  readonly instanceProfile?: boolean;
}

/**
 * An IAM role trusted by AWS services, with an inline policy built from statements that grant
 * helpers add (`grant*` methods of other constructs call `addToPolicy`). The inline policy exists
 * only once a statement is added.
 */
export class Role extends Construct implements IGrantable {
  readonly roleName: string;
  readonly roleArn: string;
  /** Set when `instanceProfile` is true. */
  readonly instanceProfileName?: string;
  private readonly statements: PolicyStatement[] = [];
  private policy?: IamRolePolicy;

  constructor(scope: Construct, id: string, props: RoleProps) {
    super(scope, id);
    const services = props.assumedBy ?? [];
    const trust: PolicyStatement[] = [...(props.trustStatements ?? [])];
    if (services.length > 0)
      trust.unshift({ effect: "Allow", actions: ["sts:AssumeRole"], resources: [], principals: { Service: [...services] } });
    if (trust.length === 0)
      throw new Error(`Role ${this.node.path}: assumedBy needs at least one service principal (or give trustStatements)`);
    const name = props.roleName;
    const role = new IamRole(this, "role", {
      name,
      description: props.description,
      assumeRolePolicy: policyDocument(trust),
    });
    this.roleName = role.name;
    this.roleArn = role.arn;

    for (const path of props.managedPolicies ?? []) {
      new IamRolePolicyAttachment(this, `managed-${path.split("/").pop()}`, {
        role: role.name,
        policyArn: awsManagedPolicyArn(partitionOf(this), path),
      });
    }
    if (props.instanceProfile) {
      this.instanceProfileName = new IamInstanceProfile(this, "instance-profile", { name, role: role.name }).name;
    }
  }

  addToPolicy(statement: PolicyStatement): void {
    this.statements.push(statement);
    this.policy ??= new IamRolePolicy(this, "policy", {
      name: "least-privilege",
      role: this.roleName,
      policy: Lazy.stringValue({ produce: () => policyDocument(this.statements) }),
    });
  }

  /** Convenience for `addToPolicy(allow(actions, resources))`. */
  allow(actions: readonly string[], resources: readonly string[]): void {
    this.addToPolicy(allow(actions, resources));
  }
}

/** The partition (`aws`, `aws-cn`, ...) of the stack `scope` is in: one data source per stack. */
export function partitionOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("partition") as DataAwsPartition | undefined;
  return (existing ?? new DataAwsPartition(stack, "partition")).partition;
}
