import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { Fn, TerraformLocal } from "cdktf";
import { Construct } from "constructs";
import { allow, type PolicyStatement } from "./iam";
import { Naming } from "./naming";
import { partitionOf, Role } from "./role";

/** GitHub Actions' token issuer; its tokens are for STS when `aud` is this. */
const GITHUB_ISSUER = "token.actions.githubusercontent.com";
const STS_AUDIENCE = "sts.amazonaws.com";
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export interface GitHubCiRolesProps {
  /** `owner/name` of the repository whose workflows get the roles, spelt as GitHub does (IAM compares case-sensitively). */
  readonly repository: string;
  /** ARN of the environment's state bucket: the CI roles read state and take the S3 lock there. */
  readonly stateBucketArn: string;
  /**
   * Key prefix of this environment's state objects in the bucket (`<prefix>/<layer>.tfstate`).
   * @default - the environment name
   */
  readonly statePrefix?: string;
  /**
   * An existing GitHub OIDC provider to trust. An account holds one provider per issuer URL, so the
   * second environment in an account must reuse the first one's.
   * @default - a new provider for token.actions.githubusercontent.com
   */
  readonly oidcProviderArn?: string;
  /**
   * The branch whose workflows may assume the drift and apply roles.
   * @default "main"
   */
  readonly mainBranch?: string;
}

/**
 * GitHub Actions' identities in AWS, through OIDC (no stored keys):
 * - plan role: read-only, assumable only by the repository's `pull_request` workflows;
 * - drift role: the same rights, assumable only by workflows on the main branch (the scheduled
 *   drift check runs there, and its token says `ref:refs/heads/main`, not `pull_request`);
 * - apply role: changes the stacks, assumable only by workflows on the main branch.
 */
export class GitHubCiRoles extends Construct {
  readonly oidcProviderArn: string;
  readonly planRole: Role;
  readonly driftRole: Role;
  readonly applyRole: Role;

  constructor(scope: Construct, id: string, props: GitHubCiRolesProps) {
    super(scope, id);
    if (!REPOSITORY.test(props.repository)) {
      throw new Error(`GitHubCiRoles ${this.node.path}: repository must be owner/name (got ${props.repository})`);
    }
    const naming = Naming.of(this);
    const statePrefix = props.statePrefix ?? naming.environment;
    const mainBranch = props.mainBranch ?? "main";

    // AWS has validated GitHub's certificate through its own CA store since 2023; provider 5.x
    // makes thumbprint_list optional, so no pinned thumbprint breaks when GitHub rotates it.
    this.oidcProviderArn =
      props.oidcProviderArn ??
      new IamOpenidConnectProvider(this, "github", {
        url: `https://${GITHUB_ISSUER}`,
        clientIdList: [STS_AUDIENCE],
        tags: naming.tags("github-oidc"),
      }).arn;

    const partition = partitionOf(this);
    // The account from the provider's ARN rather than an STS call, so the stack still plans offline.
    const account = new TerraformLocal(this, "account_id", Fn.element(Fn.split(":", this.oidcProviderArn), 4)).asString;
    const trusted = (subject: string) => this.trustGitHub(`repo:${props.repository}:${subject}`);

    // ReadOnlyAccess rather than a hand-written list: a refresh reads every resource type the stacks
    // hold (EC2, RDS, IAM, SNS, CloudWatch, Logs, Secrets Manager metadata, SSM, ...), and a list kept
    // by hand fails the plan each time a stack gains a type. It cannot change anything, nor read a
    // secret's value (no secretsmanager:GetSecretValue, no kms:Decrypt).
    const readOnly = ["ReadOnlyAccess"];
    this.planRole = new Role(this, "ci-plan", {
      roleName: naming.name("ci", "plan"),
      description: `Terraform plan for pull requests of ${props.repository}: read-only`,
      trustStatements: [trusted("pull_request")],
      managedPolicies: readOnly,
    });
    this.driftRole = new Role(this, "ci-drift", {
      roleName: naming.name("ci", "drift"),
      description: `Scheduled drift check on ${mainBranch} of ${props.repository}: read-only`,
      trustStatements: [trusted(`ref:refs/heads/${mainBranch}`)],
      managedPolicies: readOnly,
    });
    for (const role of [this.planRole, this.driftRole]) {
      for (const statement of stateAccess(props.stateBucketArn, statePrefix)) role.addToPolicy(statement);
    }

    // PowerUserAccess is everything but IAM, Organizations and account settings. IAM is added below,
    // only on this environment's names; the policy attachment is AWS-managed, so no statement of ours
    // is `*` on `*`.
    this.applyRole = new Role(this, "ci-apply", {
      roleName: naming.name("ci", "apply"),
      description: `Terraform apply from ${mainBranch} of ${props.repository}`,
      trustStatements: [trusted(`ref:refs/heads/${mainBranch}`)],
      managedPolicies: ["PowerUserAccess"],
    });
    const iam = (kind: string) => `arn:${partition}:iam::${account}:${kind}/${naming.name("*")}`;
    const ownRoles = [iam("role"), iam("instance-profile"), iam("policy")];
    this.applyRole.addToPolicy(allow(["iam:Get*", "iam:List*"], ["*"], "ReadIam"));
    this.applyRole.addToPolicy(
      allow(
        [
          "iam:CreateRole",
          "iam:DeleteRole",
          "iam:UpdateRole",
          "iam:UpdateRoleDescription",
          "iam:UpdateAssumeRolePolicy",
          "iam:TagRole",
          "iam:UntagRole",
          "iam:PutRolePolicy",
          "iam:DeleteRolePolicy",
          "iam:AttachRolePolicy",
          "iam:DetachRolePolicy",
          "iam:PassRole",
          "iam:CreateInstanceProfile",
          "iam:DeleteInstanceProfile",
          "iam:AddRoleToInstanceProfile",
          "iam:RemoveRoleFromInstanceProfile",
          "iam:TagInstanceProfile",
          "iam:UntagInstanceProfile",
          "iam:CreatePolicy",
          "iam:DeletePolicy",
          "iam:CreatePolicyVersion",
          "iam:DeletePolicyVersion",
          "iam:TagPolicy",
          "iam:UntagPolicy",
        ],
        ownRoles,
        "ManageThisEnvironmentsIam",
      ),
    );
    // The CI identities match `<project>-<env>-*` too, but belong to the state stack, which an
    // administrator applies: CI must never widen its own trust or rights.
    this.applyRole.addToPolicy({
      sid: "NeverChangeCiIdentities",
      effect: "Deny",
      actions: ["iam:*"],
      resources: [`arn:${partition}:iam::${account}:role/${naming.name("ci", "*")}`, this.oidcProviderArn],
    });
    // Losing the state bucket's history, policy or versioning loses every stack's rollback.
    this.applyRole.addToPolicy({
      sid: "NeverLoosenStateBucket",
      effect: "Deny",
      actions: [
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPolicy",
        "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutEncryptionConfiguration",
      ],
      resources: [props.stateBucketArn],
    });
    for (const statement of stateAccess(props.stateBucketArn, statePrefix, { write: true })) this.applyRole.addToPolicy(statement);
  }

  /** Lets GitHub tokens for STS whose subject is exactly `subject` assume the role. */
  private trustGitHub(subject: string): PolicyStatement {
    return {
      effect: "Allow",
      actions: ["sts:AssumeRoleWithWebIdentity"],
      resources: [],
      principals: { Federated: [this.oidcProviderArn] },
      conditions: { StringEquals: { [`${GITHUB_ISSUER}:aud`]: STS_AUDIENCE, [`${GITHUB_ISSUER}:sub`]: subject } },
    };
  }
}

/**
 * State access for CI: list the bucket, read this environment's state, and write only the S3 lock
 * files (`<key>.tflock`, Terraform's `use_lockfile`) unless `write` (apply also writes state).
 */
function stateAccess(bucketArn: string, prefix: string, options: { write?: boolean } = {}): PolicyStatement[] {
  const objects = `${bucketArn}/${prefix}/*`;
  return [
    allow(["s3:ListBucket"], [bucketArn], "ListStateBucket"),
    allow(["s3:GetObject"], [objects], "ReadState"),
    options.write
      ? allow(["s3:PutObject", "s3:DeleteObject"], [objects], "WriteStateAndLocks")
      : allow(["s3:PutObject", "s3:DeleteObject"], [`${objects}.tflock`], "TakeStateLock"),
  ];
}
