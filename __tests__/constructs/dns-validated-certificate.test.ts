import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput } from "cdktf";
import { DnsValidatedCertificate } from "../../constructs/dns-validated-certificate";
import { onlyResource, resourcesOf, synth, testStack } from "../helpers";

describe("DnsValidatedCertificate", () => {
  test("DNS validation, and users of the ARN wait for the certificate to be issued", () => {
    const stack = testStack(undefined, "web");
    const certificate = new DnsValidatedCertificate(stack, "certificate", { domainName: "www.example.com" });
    new TerraformOutput(stack, "arn", { value: certificate.certificateArn });
    const json = synth(stack);
    expect(onlyResource(json, "aws_acm_certificate")).toMatchObject({ domain_name: "www.example.com", validation_method: "DNS" });
    expect(json.output.arn.value).toMatch(/^\$\{aws_acm_certificate_validation\.\S+\.certificate_arn\}$/);
    expect(resourcesOf(json, "aws_route53_record")).toHaveLength(0);
  });

  test("with a zone, one validation record per domain name is created there", () => {
    const stack = testStack(undefined, "web");
    new DnsValidatedCertificate(stack, "certificate", { domainName: "www.example.com", hostedZoneId: "Z0123456789ABCDEFGHIJ" });
    const json = synth(stack);
    const record = onlyResource(json, "aws_route53_record");
    expect(record).toMatchObject({ zone_id: "Z0123456789ABCDEFGHIJ", allow_overwrite: true });
    expect(String(record.for_each)).toMatch(/domain_validation_options/);
    expect(onlyResource(json, "aws_acm_certificate_validation").depends_on).toEqual([expect.stringMatching(/aws_route53_record/)]);
  });

  test("a certificate for CloudFront lives in the provider it is given (us-east-1)", () => {
    const stack = testStack(undefined, "web");
    const usEast1 = new AwsProvider(stack, "us-east-1", { alias: "us_east_1", region: "us-east-1" });
    new DnsValidatedCertificate(stack, "certificate", { domainName: "www.example.com", provider: usEast1 });
    const json = synth(stack);
    expect(onlyResource(json, "aws_acm_certificate").provider).toBe("aws.us_east_1");
    expect(onlyResource(json, "aws_acm_certificate_validation").provider).toBe("aws.us_east_1");
  });

  test("a malformed domain or zone id is rejected with the prop's name", () => {
    expect(() => new DnsValidatedCertificate(testStack(), "c", { domainName: "Not A Domain" })).toThrow(
      /domainName must be a lowercase domain/,
    );
    expect(() => new DnsValidatedCertificate(testStack(), "c", { domainName: "a.example.com", hostedZoneId: "abc" })).toThrow(
      /hostedZoneId/,
    );
  });
});
