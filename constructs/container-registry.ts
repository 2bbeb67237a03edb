import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { propError } from "./errors";

export interface ContainerRegistryProps {
  /** The repository's name (`<project>-<env>-backend`): 2-256 of a-z, 0-9, '.', '_', '-', '/'. */
  readonly repositoryName: string;
  /**
   * Images kept; older ones expire, so a rollback can reach back this many pushes.
   * @default 20
   */
  readonly keepImages?: number;
  /**
   * Let a destroy delete the repository with its images (images can be pushed again; never in production).
   * @default false
   */
  readonly forceDelete?: boolean;
}

/** An image reference is pinned when it names a digest or a version tag (`1.4.2`, `v2024.06.01-3`). */
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const VERSION_TAG = /^v?\d+(\.\d+){0,3}([-+][0-9A-Za-z.-]+)?$/;

/**
 * Why `tagOrDigest` cannot be deployed in production, or undefined when it can: production runs a
 * digest or a version tag, never `latest` or a branch name, so what runs is what was reviewed and a
 * rollback returns to a known image.
 */
export function imageReferenceProblem(tagOrDigest: string): string | undefined {
  if (DIGEST.test(tagOrDigest) || VERSION_TAG.test(tagOrDigest)) return undefined;
  return `must be a version tag such as 1.4.2 or v1.4.2, or a digest sha256:<64 hex>, never latest or a branch name (got "${tagOrDigest}")`;
}

/**
 * An ECR repository for one application's image: tags are immutable (a tag pushed once always means
 * the same image), every push is scanned for known vulnerabilities, and a lifecycle rule keeps the
 * last `keepImages` images. AES256 encryption (ECR's default, no KMS key to manage).
 */
export class ContainerRegistry extends Construct {
  readonly repositoryName: string;
  readonly repositoryArn: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`: what `docker push` and the task definition name. */
  readonly repositoryUrl: string;

  constructor(scope: Construct, id: string, props: ContainerRegistryProps) {
    super(scope, id);
    const keepImages = props.keepImages ?? 20;
    if (
      !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(props.repositoryName) ||
      props.repositoryName.length > 256
    ) {
      throw propError(
        this,
        "repositoryName",
        `must be 2-256 of a-z, 0-9 and '.', '_', '-', '/' between them (got "${props.repositoryName}")`,
      );
    }
    if (!Number.isInteger(keepImages) || keepImages < 1 || keepImages > 1000) {
      throw propError(this, "keepImages", `must be a whole number 1-1000 (got ${keepImages})`);
    }

    const repository = new EcrRepository(this, "repository", {
      name: props.repositoryName,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "AES256" }],
      forceDelete: props.forceDelete ?? false,
      tags: { Name: props.repositoryName },
    });
    this.repositoryName = repository.name;
    this.repositoryArn = repository.arn;
    this.repositoryUrl = repository.repositoryUrl;

    new EcrLifecyclePolicy(this, "lifecycle", {
      repository: repository.name,
      policy: Fn.jsonencode({
        rules: [
          {
            rulePriority: 1,
            description: `Keep the last ${keepImages} images`,
            selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepImages },
            action: { type: "expire" },
          },
        ],
      }),
    });
  }

  /** The image URI of `tagOrDigest` (`1.4.2` or `sha256:...`) in this repository. */
  imageUri(tagOrDigest: string): string {
    return DIGEST.test(tagOrDigest) ? `${this.repositoryUrl}@${tagOrDigest}` : `${this.repositoryUrl}:${tagOrDigest}`;
  }
}
