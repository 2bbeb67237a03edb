import { AcmCertificate } from "@cdktf/provider-aws/lib/acm-certificate";
import { AcmCertificateValidation } from "@cdktf/provider-aws/lib/acm-certificate-validation";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { TerraformIterator, type TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { propError } from "./errors";

export interface DnsValidatedCertificateProps {
  /** The name the certificate is for, e.g. `www.example.com`. */
  readonly domainName: string;
  /**
   * More names on the same certificate.
   * @default - none
   */
  readonly subjectAlternativeNames?: readonly string[];
  /**
   * Route 53 hosted zone to create the validation records in; the certificate is then issued within minutes.
   * @default - none: the records are exposed as `validationRecords` for an operator to create
   */
  readonly hostedZoneId?: string;
  /**
   * Provider of the region the certificate lives in (CloudFront needs us-east-1).
   * @default - the stack's default AWS provider
   */
  readonly provider?: TerraformProvider;
}

/**
 * An ACM certificate validated by DNS (no e-mail round trip, renewed by ACM for as long as the record
 * stays). With a hosted zone the validation records are created there; without, they are
 * `validationRecords` to create by hand. Either way `certificateArn` is only known once ACM has
 * issued the certificate: listeners and distributions using it wait for that, instead of failing on
 * a certificate still pending validation.
 */
export class DnsValidatedCertificate extends Construct {
  /** The issued certificate's ARN (resolves after validation). */
  readonly certificateArn: string;
  /** The CNAME records ACM checks: a list of `{ domain_name, resource_record_name, resource_record_type, resource_record_value }`. */
  readonly validationRecords: unknown;

  constructor(scope: Construct, id: string, props: DnsValidatedCertificateProps) {
    super(scope, id);
    const domain = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
    for (const [i, name] of [props.domainName, ...(props.subjectAlternativeNames ?? [])].entries()) {
      if (!domain.test(name)) {
        const prop = i === 0 ? "domainName" : `subjectAlternativeNames[${i - 1}]`;
        throw propError(this, prop, `must be a lowercase domain name such as www.example.com (got "${name}")`);
      }
    }
    if (props.hostedZoneId !== undefined && !/^Z[A-Z0-9]{1,31}$/.test(props.hostedZoneId)) {
      throw propError(
        this,
        "hostedZoneId",
        `must be a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ (got "${props.hostedZoneId}")`,
      );
    }

    const certificate = new AcmCertificate(this, "certificate", {
      domainName: props.domainName,
      subjectAlternativeNames: props.subjectAlternativeNames?.length ? [...props.subjectAlternativeNames] : undefined,
      validationMethod: "DNS",
      provider: props.provider,
      // A renamed certificate is created before the old one is released by the listeners using it.
      lifecycle: { createBeforeDestroy: true },
      tags: { Name: props.domainName },
    });
    this.validationRecords = certificate.domainValidationOptions;

    const records: Route53Record[] = [];
    if (props.hostedZoneId !== undefined) {
      const options = TerraformIterator.fromComplexList(certificate.domainValidationOptions, "domain_name");
      records.push(
        new Route53Record(this, "validation-record", {
          forEach: options,
          zoneId: props.hostedZoneId,
          name: options.getString("resource_record_name"),
          type: options.getString("resource_record_type"),
          records: [options.getString("resource_record_value")],
          ttl: 300,
          // A certificate for the same name in another region (CloudFront's) asks for the very same record.
          allowOverwrite: true,
        }),
      );
    }
    const validation = new AcmCertificateValidation(this, "validation", {
      certificateArn: certificate.arn,
      provider: props.provider,
      dependsOn: records,
      // Without a zone this waits while the operator creates the records (README, web layer).
      timeouts: { create: props.hostedZoneId === undefined ? "2h" : "45m" },
    });
    this.certificateArn = validation.certificateArn;
  }
}
