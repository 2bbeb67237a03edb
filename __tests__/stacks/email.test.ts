import type { StartupWebAppConfig } from "../../config/schema";
import { layersOf } from "../../stacks/environment-stack";
import { EMAIL_OUTPUTS } from "../../stacks/startupwebapp/outputs";
import {
  configProblems,
  decodePolicy,
  onlyResource,
  preparedEnvironment,
  resourcesOf,
  shippedStartupWebApp,
  synth,
  testConfig,
} from "../helpers";

function email(config: StartupWebAppConfig) {
  const stacks = preparedEnvironment(config);
  if (!stacks.email) throw new Error("no email stack");
  return { stack: stacks.email, json: synth(stacks.email) };
}

const withEmail = (extra: Record<string, unknown> = {}) => testConfig({ email: { domain: "example.org", ...extra } });
const dnsOutput = (json: ReturnType<typeof synth>) => json.output[EMAIL_OUTPUTS.dnsRecords];

describe("EmailStack", () => {
  const prod = email(shippedStartupWebApp("prod"));

  test("prod's email layer is deployed after observability and before tenants", () => {
    expect(layersOf(shippedStartupWebApp("prod"))).toEqual([
      "state",
      "network",
      "data",
      "access",
      "observability",
      "email",
      "tenants",
      "web",
    ]);
  });

  test("an environment without an email section has no email layer and no SES resource anywhere", () => {
    const config = testConfig();
    expect(layersOf(config)).not.toContain("email");
    const stacks = preparedEnvironment(config);
    expect(stacks.email).toBeUndefined();
    for (const stack of Object.values(stacks)) {
      const types = Object.keys(synth(stack!).resource ?? {});
      expect(types.filter((t) => t.startsWith("aws_ses"))).toEqual([]);
    }
  });

  test("the domain identity uses Easy DKIM and sends through its own configuration set by default", () => {
    const identity = onlyResource(prod.json, "aws_sesv2_email_identity");
    expect(identity.email_identity).toBe("mosaicmeshai.com");
    expect(identity.dkim_signing_attributes).toBeUndefined();
    const set = onlyResource(prod.json, "aws_sesv2_configuration_set");
    expect(set.configuration_set_name).toBe("startupwebapp-prod-email");
    expect(identity.configuration_set_name).toMatch(/^\$\{aws_sesv2_configuration_set\.[^.]+\.configuration_set_name\}$/);
    expect(set.suppression_options.suppressed_reasons).toEqual(["BOUNCE", "COMPLAINT"]);
    expect(set.reputation_options.reputation_metrics_enabled).toBe(true);
  });

  test("the MAIL FROM domain is the configured subdomain and falls back to amazonses.com while its MX is missing", () => {
    const mailFrom = onlyResource(prod.json, "aws_ses_domain_mail_from");
    expect(mailFrom.mail_from_domain).toBe("mail.mosaicmeshai.com");
    expect(mailFrom.behavior_on_mx_failure).toBe("UseDefaultValue");
  });

  test("bounce and complaint events go to an encrypted topic only SES publishing for this set may write to", () => {
    const destination = onlyResource(prod.json, "aws_ses_event_destination");
    expect(destination.matching_types).toEqual(["bounce", "complaint"]);
    const topic = resourcesOf(prod.json, "aws_sns_topic").find((t) => t.name === "startupwebapp-prod-ses-events")!;
    expect(topic.kms_master_key_id).toMatch(/^\$\{aws_kms_key\./);
    const policy = decodePolicy(onlyResource(prod.json, "aws_sns_topic_policy").policy);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0].Principal).toEqual({ Service: ["ses.amazonaws.com"] });
    expect(policy.Statement[0].Condition.StringEquals["aws:SourceArn"]).toMatch(/aws_sesv2_configuration_set\.[^.]+\.arn/);
    const key = decodePolicy(onlyResource(prod.json, "aws_kms_key").policy);
    expect(key.Statement.map((s: { Sid: string }) => s.Sid)).toEqual(["AccountAdministersTheKey", "SesEncryptsEvents"]);
  });

  test("the SMTP user may only send raw mail as this identity through its set, and Terraform makes no access key", () => {
    const user = onlyResource(prod.json, "aws_iam_user");
    expect(user.name).toBe("startupwebapp-prod-ses-smtp");
    const policy = decodePolicy(onlyResource(prod.json, "aws_iam_group_policy").policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "SendAsTheDomain",
        Effect: "Allow",
        Action: ["ses:SendRawEmail"],
        Resource: [
          expect.stringMatching(/aws_sesv2_email_identity\.[^.]+\.arn/),
          expect.stringMatching(/aws_sesv2_configuration_set\.[^.]+\.arn/),
        ],
      },
    ]);
    expect(resourcesOf(prod.json, "aws_iam_access_key")).toEqual([]);
    expect(resourcesOf(prod.json, "aws_iam_user_policy")).toEqual([]);
    expect(onlyResource(prod.json, "aws_iam_user_group_membership").groups).toHaveLength(1);
  });

  test("the reputation alarms watch the account's rates as ratios and notify the observability stack's topic", () => {
    const alarms = resourcesOf(prod.json, "aws_cloudwatch_metric_alarm");
    const byMetric = Object.fromEntries(alarms.map((a) => [a.metric_name, a]));
    expect(byMetric["Reputation.BounceRate"].threshold).toBe(0.02);
    expect(byMetric["Reputation.ComplaintRate"].threshold).toBe(0.0005);
    for (const alarm of alarms) {
      expect(alarm.namespace).toBe("AWS/SES");
      expect(alarm.dimensions).toEqual({});
      expect(alarm.comparison_operator).toBe("GreaterThanThreshold");
      expect(alarm.alarm_actions).toEqual([expect.stringMatching(/^\$\{data\.terraform_remote_state\.[^}]*observability[^}]*\}$/)]);
    }
  });

  test("configured thresholds replace the defaults", () => {
    const { json } = email(withEmail({ bounceRateAlarmPercent: 4, complaintRateAlarmPercent: 0.08 }));
    const thresholds = resourcesOf(json, "aws_cloudwatch_metric_alarm").map((a) => a.threshold);
    expect(thresholds.sort()).toEqual([0.0008, 0.04]);
  });

  test("without a zone no record is created and the output lists all six records to create by hand", () => {
    expect(resourcesOf(prod.json, "aws_route53_record")).toEqual([]);
    const records = dnsOutput(prod.json).value;
    expect(records.map((r: { type: string }) => r.type)).toEqual(["CNAME", "CNAME", "CNAME", "MX", "TXT", "TXT"]);
    expect(records[0].name).toMatch(/\._domainkey\.mosaicmeshai\.com$/);
    expect(records[3]).toEqual({ name: "mail.mosaicmeshai.com", type: "MX", value: "10 feedback-smtp.us-east-1.amazonses.com" });
    expect(records[4]).toEqual({ name: "mail.mosaicmeshai.com", type: "TXT", value: "v=spf1 include:amazonses.com ~all" });
    expect(records[5]).toEqual({ name: "_dmarc.mosaicmeshai.com", type: "TXT", value: "v=DMARC1; p=none" });
    expect(dnsOutput(prod.json).description).toMatch(/by hand/);
  });

  test("with a zone id the six records are created there, TXT values quoted, DKIM names from the identity's tokens", () => {
    const { json } = email(withEmail({ hostedZoneId: "Z0123456789ABC", dmarcPolicy: "quarantine", dmarcReportEmail: "dmarc@example.org" }));
    const records = resourcesOf(json, "aws_route53_record");
    expect(records).toHaveLength(6);
    for (const r of records) expect(r.zone_id).toBe("Z0123456789ABC");
    const dkim = records.filter((r) => r.type === "CNAME");
    expect(dkim).toHaveLength(3);
    dkim.forEach((r, i) => {
      expect(r.name).toContain("element(aws_sesv2_email_identity.");
      expect(r.name).toContain(`, ${i})`);
    });
    const dmarc = records.find((r) => r.name === "_dmarc.example.org")!;
    expect(dmarc.records).toEqual(['"v=DMARC1; p=quarantine; rua=mailto:dmarc@example.org"']);
  });

  test("a zone given by name is looked up with a data source", () => {
    const { json } = email(withEmail({ hostedZoneName: "example.org" }));
    expect(onlyResource(json, "aws_route53_zone", "data").name).toBe("example.org");
    for (const r of resourcesOf(json, "aws_route53_record")) expect(r.zone_id).toMatch(/data\.aws_route53_zone\./);
  });
});

describe("email config", () => {
  test("a zone given twice, or a zone the domain is not in, is refused with its path", () => {
    expect(configProblems({ ...base(), email: { domain: "example.org", hostedZoneId: "Z1", hostedZoneName: "example.org" } })).toEqual([
      "email.hostedZoneName: give hostedZoneId or hostedZoneName, not both",
    ]);
    expect(configProblems({ ...base(), email: { domain: "mail.example.org", hostedZoneName: "other.org" } })).toEqual([
      "email.hostedZoneName: must be email.domain (mail.example.org) or a parent of it, or the records fall outside the zone (got other.org)",
    ]);
  });

  test("a domain with capitals, and thresholds of 0 or 100 percent, are refused", () => {
    const problems = configProblems({
      ...base(),
      email: { domain: "Example.org", bounceRateAlarmPercent: 0, complaintRateAlarmPercent: 100 },
    });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^email\.domain: must be a lowercase domain name/);
    expect(problems[1]).toMatch(/^email\.bounceRateAlarmPercent: must be more than 0/);
    expect(problems[2]).toMatch(/^email\.complaintRateAlarmPercent: must be more than 0/);
  });
});

function base() {
  return { project: "acme", region: "us-east-1", state: { bucket: "acme-test-tfstate" } };
}
