/** S3 buckets (a note) and ECR repositories (the images their lifecycle policy keeps). */
import { money } from "../model";
import type { Pricer, PricingContext } from "../pricer";
import { isToken, labelOf, refersTo, type Resource } from "../resources";

export const s3Buckets: Pricer<"aws_s3_bucket"> = (_resources, ctx) => {
  ctx.note("S3 buckets (state, objects) are billed by the GB stored: cents for state files, not included");
};

/**
 * How many images an ECR lifecycle policy keeps: the sum of its `imageCountMoreThan` rules' counts
 * (`sinceImagePushed` rules expire images by age, which bounds nothing here). The policy is read as
 * literal JSON or as cdktf writes `Fn.jsonencode` of a literal object (`${jsonencode({"rules" = ...})}`);
 * undefined when it is neither (it refers to other values) or counts no images.
 */
export function keptImages(policy: string | undefined): number | undefined {
  if (typeof policy !== "string") return undefined;
  const encoded = /^\$\{jsonencode\((.*)\)\}$/s.exec(policy)?.[1];
  // HCL's object syntax differs from JSON only in `"key" = value`; anything else (a reference) fails to parse.
  const text = encoded === undefined ? policy : encoded.replace(/("(?:[^"\\]|\\.)*")\s*=\s*/g, "$1: ");
  if (isToken(text)) return undefined;
  let document: { rules?: { selection?: { countType?: string; countNumber?: unknown } }[] };
  try {
    document = JSON.parse(text) as typeof document;
  } catch {
    return undefined;
  }
  const counts = (document.rules ?? [])
    .map((rule) => rule.selection)
    .filter((s) => s?.countType === "imageCountMoreThan" && typeof s.countNumber === "number")
    .map((s) => s!.countNumber as number);
  return counts.length > 0 ? counts.reduce((a, b) => a + b, 0) : undefined;
}

export const ecrRepositories: Pricer<"aws_ecr_repository"> = (resources, ctx) => {
  const policies = ctx.resources.of("aws_ecr_lifecycle_policy");
  for (const repository of resources) ecrRepository(repository, policies, ctx);
  ctx.note(
    "ECR: image pulls by tasks in the same region transfer for free; ECR's free 500 MB a month (new accounts' first 12 months) is not deducted",
  );
};

function ecrRepository(
  repository: Resource<"aws_ecr_repository">,
  policies: readonly Resource<"aws_ecr_lifecycle_policy">[],
  ctx: PricingContext,
): void {
  const { prices } = ctx;
  const { name: repositoryName } = repository.block;
  const name = typeof repositoryName === "string" && !isToken(repositoryName) ? repositoryName : labelOf(repository);
  const policy = policies.find(
    (p) =>
      refersTo(p.block.repository, "aws_ecr_repository", repository.key) ||
      (repositoryName !== undefined && p.block.repository === repositoryName),
  );
  const kept = keptImages(policy?.block.policy);
  const rate = prices.ecr.storagePerGbMonth;
  if (kept !== undefined) {
    const imageGb = prices.assumptions.ecrImageGb;
    ctx.add(
      "storage",
      `ECR images (${name})`,
      `${kept} images kept (lifecycle policy) x ${imageGb} GB (assumed) x ${money(rate)}/GB-month`,
      kept * imageGb * rate,
    );
  } else {
    const gb = prices.assumptions.ecrStoredGbWithoutLifecyclePolicy;
    ctx.add(
      "storage",
      `ECR images (${name})`,
      `${gb} GB stored (assumed: no image count in a lifecycle policy) x ${money(rate)}/GB-month`,
      gb * rate,
    );
  }
}
