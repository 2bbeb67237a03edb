import { SecureBucket } from "../../constructs/secure-bucket";
import { MANAGED_POLICIES, WebDistribution, type WebDistributionProps } from "../../constructs/web-distribution";
import { decodePolicy, onlyResource, synth, testStack } from "../helpers";

const CERT = "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d-aaaa-bbbb-cccc-123456789012";

function build(props: Partial<WebDistributionProps> = {}) {
  const stack = testStack(undefined, "web");
  const staticBucket = new SecureBucket(stack, "static", { bucketName: "acme-test-static", nameTag: "acme-test-static" });
  new WebDistribution(stack, "cdn", {
    name: "acme-test-web",
    domainName: "www.example.com",
    certificateArn: CERT,
    appOriginDomainName: "acme-test-web-1.us-east-1.elb.amazonaws.com",
    staticBucket,
    ...props,
  });
  return synth(stack);
}

describe("WebDistribution", () => {
  test("the app is the default behaviour: every method, nothing cached, Host and cookies forwarded, HTTPS to the origin", () => {
    const cdn = onlyResource(build(), "aws_cloudfront_distribution");
    expect(cdn.default_cache_behavior).toMatchObject({
      target_origin_id: "app",
      cache_policy_id: MANAGED_POLICIES.cachingDisabled,
      origin_request_policy_id: MANAGED_POLICIES.allViewer,
      viewer_protocol_policy: "redirect-to-https",
    });
    expect(cdn.default_cache_behavior.allowed_methods).toContain("POST");
    expect(cdn.origin[0].custom_origin_config).toMatchObject({ origin_protocol_policy: "https-only", origin_ssl_protocols: ["TLSv1.2"] });
  });

  test("static files come from the bucket through origin access control with a long cache", () => {
    const json = build();
    const cdn = onlyResource(json, "aws_cloudfront_distribution");
    expect(cdn.ordered_cache_behavior[0]).toMatchObject({ path_pattern: "/static/*", cache_policy_id: MANAGED_POLICIES.cachingOptimized });
    expect(onlyResource(json, "aws_cloudfront_origin_access_control")).toMatchObject({
      signing_behavior: "always",
      origin_access_control_origin_type: "s3",
    });
    const read = decodePolicy(onlyResource(json, "aws_s3_bucket_policy").policy).Statement[1];
    expect(read).toMatchObject({ Sid: "CloudFrontReadsStatic", Principal: { Service: ["cloudfront.amazonaws.com"] } });
    expect(JSON.stringify(read.Condition)).toMatch(/aws_cloudfront_distribution\.cdn_distribution_\w+\.arn/);
  });

  test("the viewer certificate is the given one, SNI, TLS 1.2 or later, and every response carries HSTS", () => {
    const json = build();
    expect(onlyResource(json, "aws_cloudfront_distribution").viewer_certificate).toEqual({
      acm_certificate_arn: CERT,
      ssl_support_method: "sni-only",
      minimum_protocol_version: "TLSv1.2_2021",
    });
    const hsts = onlyResource(json, "aws_cloudfront_response_headers_policy").security_headers_config.strict_transport_security;
    expect(hsts).toEqual({ access_control_max_age_sec: 63072000, include_subdomains: true, preload: true, override: true });
  });

  test("an HSTS max-age under a year is refused", () => {
    expect(() => build({ hstsMaxAgeSeconds: 3600 })).toThrow(/hstsMaxAgeSeconds must be a whole number of seconds >= 31536000/);
  });
});
