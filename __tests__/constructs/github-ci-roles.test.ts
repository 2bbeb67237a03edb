import { GitHubCiRoles, type GitHubCiRolesProps } from "../../constructs/github-ci-roles";
import { allStrings, decodePolicy, onlyResource, resourcesOf, synth, testConfig, testEnvironment, testStack, type Json } from "../helpers";

const BUCKET_ARN = "arn:aws:s3:::acme-test-tfstate";

function ciRoles(props: Partial<GitHubCiRolesProps> = {}): Json {
  const stack = testStack(testConfig(), "state");
  new GitHubCiRoles(stack, "ci", { repository: "acme/infra", stateBucketArn: BUCKET_ARN, ...props });
  return synth(stack);
}

/** The role named `<project>-<env>-<suffix>` and the statements of its trust and inline policies. */
function role(json: Json, suffix: string) {
  const found = resourcesOf(json, "aws_iam_role").find((r) => r.name === `acme-test-${suffix}`);
  if (!found) throw new Error(`no role acme-test-${suffix}`);
  const key = Object.entries(json.resource.aws_iam_role).find(([, r]) => r === found)![0];
  const inline = resourcesOf(json, "aws_iam_role_policy").find((p) => String(p.role).includes(`aws_iam_role.${key}.`));
  const managed = resourcesOf(json, "aws_iam_role_policy_attachment")
    .filter((a) => String(a.role).includes(`aws_iam_role.${key}.`))
    .map((a) => String(a.policy_arn).split("/").pop());
  return {
    trust: decodePolicy(found.assume_role_policy).Statement as Json[],
    statements: (inline ? decodePolicy(inline.policy).Statement : []) as Json[],
    managed,
  };
}

const sid = (statements: Json[], name: string) => statements.find((s) => s.Sid === name);

describe("GitHubCiRoles", () => {
  const json = ciRoles();

  test("creates GitHub's OIDC provider for STS, with no pinned thumbprint to go stale", () => {
    const provider = onlyResource(json, "aws_iam_openid_connect_provider");
    expect(provider.url).toBe("https://token.actions.githubusercontent.com");
    expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
    expect(provider.thumbprint_list).toBeUndefined();
  });

  test("plan role is trusted only by pull requests of the repository, through the provider", () => {
    const { trust } = role(json, "ci-plan");
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Principal: { Federated: [expect.stringMatching(/^aws_iam_openid_connect_provider\..+\.arn$/)] },
        Condition: {
          StringEquals: {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/infra:pull_request",
          },
        },
      },
    ]);
  });

  test("apply and drift roles are trusted only by the main branch", () => {
    for (const suffix of ["ci-apply", "ci-drift"]) {
      const { trust } = role(json, suffix);
      expect(trust).toHaveLength(1);
      expect(trust[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toBe("repo:acme/infra:ref:refs/heads/main");
    }
  });

  test("plan role is read-only: ReadOnlyAccess plus the state bucket", () => {
    const { managed, statements } = role(json, "ci-plan");
    expect(managed).toEqual(["ReadOnlyAccess"]);
    expect(statements.map((s) => s.Sid)).toEqual(["ListStateBucket", "ReadState", "TakeStateLock"]);
  });

  test("plan role lists the bucket and reads only this environment's state", () => {
    const { statements } = role(json, "ci-plan");
    expect(sid(statements, "ListStateBucket")).toMatchObject({ Action: ["s3:ListBucket"], Resource: [BUCKET_ARN] });
    expect(sid(statements, "ReadState")).toMatchObject({ Action: ["s3:GetObject"], Resource: [`${BUCKET_ARN}/test/*`] });
  });

  test("plan role writes and deletes only the S3 lock files, never state", () => {
    const { statements } = role(json, "ci-plan");
    expect(sid(statements, "TakeStateLock")).toMatchObject({
      Action: ["s3:PutObject", "s3:DeleteObject"],
      Resource: [`${BUCKET_ARN}/test/*.tflock`],
    });
    const writes = statements.filter((s) => s.Action.some((a: string) => /Put|Delete/.test(a)));
    expect(writes.flatMap((s) => s.Resource)).toEqual([`${BUCKET_ARN}/test/*.tflock`]);
  });

  test("drift role has exactly the plan role's rights", () => {
    const plan = role(json, "ci-plan");
    const drift = role(json, "ci-drift");
    expect(drift.managed).toEqual(plan.managed);
    expect(drift.statements).toEqual(plan.statements);
  });

  test("apply role gets PowerUserAccess and IAM only on this environment's names", () => {
    const { managed, statements } = role(json, "ci-apply");
    expect(managed).toEqual(["PowerUserAccess"]);
    const iam = sid(statements, "ManageThisEnvironmentsIam")!;
    expect(iam.Action).toContain("iam:PassRole");
    expect(iam.Resource).toHaveLength(3);
    for (const arn of iam.Resource)
      expect(arn).toMatch(/^arn:\$\{data\.aws_partition\.partition\.partition\}:iam::\$\{local\.[^}]+\}:[a-z-]+\/acme-test-\*$/);
  });

  test("apply role can never change the CI identities themselves", () => {
    const deny = sid(role(json, "ci-apply").statements, "NeverChangeCiIdentities")!;
    expect(deny.Effect).toBe("Deny");
    expect(deny.Action).toEqual(["iam:*"]);
    expect(deny.Resource[0]).toMatch(/:role\/acme-test-ci-\*$/);
    expect(deny.Resource[1]).toMatch(/^aws_iam_openid_connect_provider\..+\.arn$/);
  });

  test("apply role can never delete or loosen the state bucket", () => {
    const deny = sid(role(json, "ci-apply").statements, "NeverLoosenStateBucket")!;
    expect(deny).toMatchObject({ Effect: "Deny", Resource: [BUCKET_ARN] });
    expect(deny.Action).toEqual(expect.arrayContaining(["s3:DeleteBucket", "s3:PutBucketPolicy", "s3:PutBucketVersioning"]));
  });

  test("no allow statement of any CI role is * on *", () => {
    for (const suffix of ["ci-plan", "ci-drift", "ci-apply"]) {
      for (const s of role(json, suffix).statements) {
        expect(s.Action.includes("*") && s.Resource.includes("*")).toBe(false);
      }
    }
  });

  test("the account comes from the provider's ARN, not an STS call, so the stack plans offline", () => {
    expect(resourcesOf(json, "aws_caller_identity", "data")).toEqual([]);
    expect(Object.values(json.locals)).toContainEqual(
      expect.stringMatching(/^\$\{element\(split\(":", aws_iam_openid_connect_provider\..+\.arn\), 4\)\}$/),
    );
  });

  test("an existing provider is trusted instead of creating a second one", () => {
    const arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    const reused = ciRoles({ oidcProviderArn: arn });
    expect(resourcesOf(reused, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(role(reused, "ci-plan").trust[0].Principal.Federated).toEqual([arn]);
  });

  test("statePrefix and mainBranch are honoured", () => {
    const custom = ciRoles({ statePrefix: "shared/test", mainBranch: "release" });
    expect(sid(role(custom, "ci-plan").statements, "ReadState")!.Resource).toEqual([`${BUCKET_ARN}/shared/test/*`]);
    expect(role(custom, "ci-apply").trust[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"]).toBe(
      "repo:acme/infra:ref:refs/heads/release",
    );
  });

  test("a repository that is not owner/name is rejected naming the prop", () => {
    expect(() => ciRoles({ repository: "https://github.com/acme/infra" })).toThrow(/repository must be owner\/name/);
  });
});

describe("state stack", () => {
  test("has no CI identities unless ci.githubRepository is set", () => {
    const json = synth(testEnvironment(testConfig()).state);
    expect(resourcesOf(json, "aws_iam_role")).toEqual([]);
    expect(resourcesOf(json, "aws_iam_openid_connect_provider")).toEqual([]);
  });

  test("with ci.githubRepository it creates the provider, the three roles and outputs their ARNs", () => {
    const json = synth(testEnvironment(testConfig({ ci: { githubRepository: "acme/infra" } })).state);
    expect(
      resourcesOf(json, "aws_iam_role")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["acme-test-ci-apply", "acme-test-ci-drift", "acme-test-ci-plan"]);
    expect(Object.keys(json.output).sort()).toEqual([
      "ci_apply_role_arn",
      "ci_drift_role_arn",
      "ci_plan_role_arn",
      "github_oidc_provider_arn",
    ]);
  });

  test("the CI roles are scoped to the state bucket the stack creates", () => {
    const json = synth(testEnvironment(testConfig({ ci: { githubRepository: "acme/infra" } })).state);
    const plan = role(json, "ci-plan");
    expect(sid(plan.statements, "ReadState")!.Resource).toEqual([expect.stringMatching(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/test\/\*$/)]);
  });

  test("ci.oidcProviderArn reuses the account's provider", () => {
    const arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
    const json = synth(testEnvironment(testConfig({ ci: { githubRepository: "acme/infra", oidcProviderArn: arn } })).state);
    expect(resourcesOf(json, "aws_iam_openid_connect_provider")).toEqual([]);
    expect(allStrings(json.output)).toContain(arn);
  });
});
