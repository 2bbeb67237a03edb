/** CloudFront distributions: data transfer out and HTTPS requests, at the volume prices.json assumes. */
import { money } from "../model";
import type { Pricer } from "../pricer";
import { labelOf } from "../resources";

// CloudFront bills what it serves, not what it is: like SES's messages, the volume is an assumption, said as such.
export const cloudFrontDistributions: Pricer<"aws_cloudfront_distribution"> = (resources, ctx) => {
  const { prices } = ctx;
  const gb = prices.assumptions.cloudFrontGbOutPerMonth;
  const requests = prices.assumptions.cloudFrontRequestsPerMonth;
  const perGb = prices.cloudFront.dataTransferOutPerGb;
  const per10k = prices.cloudFront.httpsRequestsPerTenThousand;
  for (const distribution of resources) {
    const alias = distribution.block.aliases?.find((a) => !a.includes("${"));
    const label = alias ?? labelOf(distribution);
    if (distribution.block.enabled === false) {
      ctx.add("web", `CloudFront (${label}), disabled`, "serves nothing while disabled", 0);
      continue;
    }
    ctx.add("web", `CloudFront data transfer out (${label})`, `${gb} GB/month (assumed) x ${money(perGb)}/GB`, gb * perGb);
    ctx.add(
      "web",
      `CloudFront HTTPS requests (${label})`,
      `${requests.toLocaleString("en-US")} requests/month (assumed) x ${money(per10k)}/10,000`,
      (requests / 10000) * per10k,
    );
  }
  ctx.note(
    "CloudFront: its data transfer out and requests are the assumed volume above, at North America and Europe rates (other edge " +
      "locations cost more); fetches from AWS origins (the ALB, S3) are free; the always-free 1 TB out and 10 million requests a month " +
      "per account are not deducted",
  );
};
