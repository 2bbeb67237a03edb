/** Secrets Manager secrets, KMS keys and ACM certificates. */
import type { Pricer } from "../pricer";
import { countAll, isToken } from "../resources";

export const secrets: Pricer<"aws_secretsmanager_secret"> = (resources, ctx) => {
  ctx.perUnit("secrets", "Secrets Manager secrets", countAll(resources), ctx.prices.secretsManager.secretMonthly);
};

export const kmsKeys: Pricer<"aws_kms_key"> = (resources, ctx) => {
  ctx.perUnit("secrets", "KMS customer managed keys", countAll(resources), ctx.prices.kms.customerKeyMonthly);
};

/**
 * Public ACM certificates cost nothing, which is worth a line of its own: a reader of the table sees
 * the certificate was counted, not forgotten. A private one is billed by AWS Private CA.
 */
export const acmCertificates: Pricer<"aws_acm_certificate"> = (resources, ctx) => {
  for (const { key, block } of resources) {
    const domain = typeof block.domain_name === "string" && !isToken(block.domain_name) ? block.domain_name : key;
    if (block.certificate_authority_arn !== undefined) {
      ctx.add("web", `ACM private certificate (${domain})`, "billed by AWS Private CA, not included", 0);
      ctx.note("ACM private certificates: AWS Private CA bills the CA and each certificate; not included");
    } else {
      ctx.add("web", `ACM public certificate (${domain})`, "public certificates are free", ctx.prices.acm.publicCertificateMonthly);
    }
  }
};
