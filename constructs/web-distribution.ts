import { CloudfrontDistribution } from "@cdktf/provider-aws/lib/cloudfront-distribution";
import { CloudfrontOriginAccessControl } from "@cdktf/provider-aws/lib/cloudfront-origin-access-control";
import { CloudfrontResponseHeadersPolicy } from "@cdktf/provider-aws/lib/cloudfront-response-headers-policy";
import { Construct } from "constructs";
import { propError } from "./errors";
import type { SecureBucket } from "./secure-bucket";

/**
 * AWS managed CloudFront policies (the same ids in every account): documented in "Use managed cache
 * policies" and "Use managed origin request policies".
 */
export const MANAGED_POLICIES = {
  /** CachingDisabled: every request goes to the origin. */
  cachingDisabled: "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
  /** CachingOptimized: long TTLs (1 day default, 1 year max), gzip and brotli, no cookies or query strings in the key. */
  cachingOptimized: "658327ea-f89d-4fab-a63d-7e88639e58f6",
  /** AllViewer: forwards every header (Host included), cookie and query string. */
  allViewer: "216adef6-5c7f-47e4-b989-5492eafa07d3",
} as const;

const ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"];

export interface WebDistributionProps {
  /** The name the distribution answers to, e.g. `www.example.com` (its DNS record points here). */
  readonly domainName: string;
  /** An issued ACM certificate for `domainName` in us-east-1 (CloudFront reads certificates only there). */
  readonly certificateArn: string;
  /** DNS name of the application's load balancer: the default behaviour's origin, over HTTPS. */
  readonly appOriginDomainName: string;
  /** The static files bucket: served under `staticPathPattern`, readable only by this distribution. */
  readonly staticBucket: SecureBucket;
  /**
   * Path pattern served from the static bucket.
   * @default "/static/*"
   */
  readonly staticPathPattern?: string;
  /**
   * HSTS max-age in seconds sent with every response.
   * @default 63072000 - two years, as hstspreload.org asks
   */
  readonly hstsMaxAgeSeconds?: number;
  /**
   * CloudFront price class: which edge locations serve.
   * @default "PriceClass_100" - North America and Europe, the cheapest
   */
  readonly priceClass?: "PriceClass_100" | "PriceClass_200" | "PriceClass_All";
  /** Distribution comment and the `Name` tag: `<project>-<env>-web`. */
  readonly name: string;
}

/**
 * CloudFront in front of a web application: the default behaviour passes everything to the load
 * balancer over HTTPS uncached, forwarding the Host header and cookies (so Django sees its own host
 * and sessions; CloudFront then checks the load balancer's certificate against that host), and
 * `/static/*` comes from a private bucket through origin access control with a long cache. Every
 * response carries HSTS; viewers on HTTP are redirected; TLS 1.2 or later.
 */
export class WebDistribution extends Construct {
  readonly distributionId: string;
  readonly distributionArn: string;
  /** `d111111abcdef8.cloudfront.net`: the target of the site's DNS record. */
  readonly domainName: string;
  /** CloudFront's hosted zone id, for a Route 53 alias record. */
  readonly hostedZoneId: string;

  constructor(scope: Construct, id: string, props: WebDistributionProps) {
    super(scope, id);
    const staticPath = props.staticPathPattern ?? "/static/*";
    const hstsMaxAge = props.hstsMaxAgeSeconds ?? 63072000;
    if (!staticPath.startsWith("/")) throw propError(this, "staticPathPattern", `must start with / (got "${staticPath}")`);
    // A shorter HSTS lets a first visit after expiry be downgraded; preload lists want a year or more.
    if (!Number.isInteger(hstsMaxAge) || hstsMaxAge < 31536000) {
      throw propError(this, "hstsMaxAgeSeconds", `must be a whole number of seconds >= 31536000, one year (got ${hstsMaxAge})`);
    }

    const access = new CloudfrontOriginAccessControl(this, "origin-access", {
      name: `${props.name}-static`,
      description: `CloudFront ${props.name} signs its requests to the static bucket`,
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    });

    const headers = new CloudfrontResponseHeadersPolicy(this, "security-headers", {
      name: `${props.name}-security-headers`,
      comment: "HSTS and content-type sniffing protection on every response",
      securityHeadersConfig: {
        strictTransportSecurity: {
          accessControlMaxAgeSec: hstsMaxAge,
          includeSubdomains: true,
          // Only a domain's apex can be submitted to the browsers' preload list; on www the directive enrolls nothing.
          preload: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: "strict-origin-when-cross-origin", override: false },
      },
    });

    const APP = "app";
    const STATIC = "static";
    const distribution = new CloudfrontDistribution(this, "distribution", {
      enabled: true,
      comment: props.name,
      aliases: [props.domainName],
      priceClass: props.priceClass ?? "PriceClass_100",
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      origin: [
        {
          originId: APP,
          domainName: props.appOriginDomainName,
          customOriginConfig: {
            httpPort: 80,
            httpsPort: 443,
            originProtocolPolicy: "https-only",
            originSslProtocols: ["TLSv1.2"],
          },
        },
        {
          originId: STATIC,
          domainName: props.staticBucket.bucketRegionalDomainName,
          originAccessControlId: access.id,
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: APP,
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ALL_METHODS,
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: MANAGED_POLICIES.cachingDisabled,
        originRequestPolicyId: MANAGED_POLICIES.allViewer,
        responseHeadersPolicyId: headers.id,
        compress: true,
      },
      orderedCacheBehavior: [
        {
          pathPattern: staticPath,
          targetOriginId: STATIC,
          viewerProtocolPolicy: "redirect-to-https",
          allowedMethods: ["GET", "HEAD"],
          cachedMethods: ["GET", "HEAD"],
          cachePolicyId: MANAGED_POLICIES.cachingOptimized,
          responseHeadersPolicyId: headers.id,
          compress: true,
        },
      ],
      restrictions: { geoRestriction: { restrictionType: "none" } },
      viewerCertificate: {
        acmCertificateArn: props.certificateArn,
        sslSupportMethod: "sni-only",
        minimumProtocolVersion: "TLSv1.2_2021",
      },
      tags: { Name: props.name },
    });
    this.distributionId = distribution.id;
    this.distributionArn = distribution.arn;
    this.domainName = distribution.domainName;
    this.hostedZoneId = distribution.hostedZoneId;

    // Only this distribution may read the static files, and only with its signature (origin access control).
    props.staticBucket.addToResourcePolicy({
      sid: "CloudFrontReadsStatic",
      actions: ["s3:GetObject"],
      resources: [`${props.staticBucket.bucketArn}/*`],
      principals: { Service: ["cloudfront.amazonaws.com"] },
      conditions: { StringEquals: { "AWS:SourceArn": distribution.arn } },
    });
  }
}
