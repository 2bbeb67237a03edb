/**
 * Sending mail through Amazon SES: a verified domain with its DNS records (SesDomain), the IAM user
 * whose access key becomes the SMTP credentials (SmtpSender), and the account's reputation alarms
 * (SesReputationAlarms).
 */
import { DataAwsRoute53Zone } from "@cdktf/provider-aws/lib/data-aws-route53-zone";
import { IamGroup } from "@cdktf/provider-aws/lib/iam-group";
import { IamGroupPolicy } from "@cdktf/provider-aws/lib/iam-group-policy";
import { IamUser } from "@cdktf/provider-aws/lib/iam-user";
import { IamUserGroupMembership } from "@cdktf/provider-aws/lib/iam-user-group-membership";
import { Route53Record } from "@cdktf/provider-aws/lib/route53-record";
import { SesDomainMailFrom } from "@cdktf/provider-aws/lib/ses-domain-mail-from";
import { SesEventDestination } from "@cdktf/provider-aws/lib/ses-event-destination";
import { Sesv2ConfigurationSet } from "@cdktf/provider-aws/lib/sesv2-configuration-set";
import { Sesv2EmailIdentity } from "@cdktf/provider-aws/lib/sesv2-email-identity";
import { Fn, Token } from "cdktf";
import { Construct } from "constructs";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { metricAlarm } from "./alarm";
import { LIMITS } from "./aws-limits";
import { propError } from "./errors";
import { allow, policyDocument, type PolicyStatement } from "./iam";
import { Naming } from "./naming";
import { serviceTopic } from "./service-topic";

/** The defaults of the config's `email` section, decided here (the schema shows them). */
export const SES_DEFAULTS = {
  mailFromSubdomain: "mail",
  dmarcPolicy: "none",
  /** Half of the 5% at which AWS puts an account under review: time to act before the review. */
  bounceRateAlarmPercent: 2,
  /** Half of the 0.1% review level. */
  complaintRateAlarmPercent: 0.05,
} as const;

export type DmarcPolicy = "none" | "quarantine" | "reject";

/** Easy DKIM publishes three selectors per domain. */
const DKIM_SELECTORS = 3;
const SES_SERVICE = "ses.amazonaws.com";

/** One DNS record the domain needs, as a DNS console asks for it. */
export interface DnsRecord {
  readonly name: string;
  readonly type: "CNAME" | "MX" | "TXT";
  readonly value: string;
}

export interface SesDomainProps {
  /** The domain the application sends from (`example.com`). */
  readonly domain: string;
  /** The region SES sends from: its MAIL FROM feedback host is regional. */
  readonly region: string;
  /**
   * MAIL FROM (envelope sender) domain `<mailFromSubdomain>.<domain>`: with its MX and SPF records,
   * SPF passes for the sender's own domain and DMARC aligns on SPF too, not only on DKIM.
   * @default "mail"
   */
  readonly mailFromSubdomain?: string;
  /**
   * Route 53 zone to create the records in, by id.
   * @default - none: `records` lists them for a person to create
   */
  readonly hostedZoneId?: string;
  /**
   * The same zone found by name (a data source); not with `hostedZoneId`.
   * @default - none
   */
  readonly hostedZoneName?: string;
  /**
   * DMARC `p=` for the domain.
   * @default "none" - report only: a domain that also sends through other services (a mailbox
   * provider, a CRM) would lose that mail under quarantine before its reports were read
   */
  readonly dmarcPolicy?: DmarcPolicy;
  /**
   * Where DMARC aggregate reports go (`rua=mailto:`).
   * @default - no reports
   */
  readonly dmarcReportEmail?: string;
}

/**
 * A domain SES sends from: the identity with Easy DKIM, its custom MAIL FROM domain, a configuration
 * set that is the identity's default (so every message, also over SMTP without a header, reports
 * bounces and complaints to an encrypted SNS topic and honours the suppression list), and the DNS
 * records: created in Route 53 when a zone is given, listed in `records` either way.
 */
export class SesDomain extends Construct {
  readonly domain: string;
  readonly mailFromDomain: string;
  readonly identityArn: string;
  readonly configurationSetName: string;
  readonly configurationSetArn: string;
  /** The topic bounce and complaint events are published to. */
  readonly eventTopicArn: string;
  /** Every record the domain needs (DKIM CNAMEs, MAIL FROM MX and SPF, DMARC). */
  readonly records: readonly DnsRecord[];
  /** Whether the records are created in Route 53 (a zone was given). */
  readonly recordsInZone: boolean;

  constructor(scope: Construct, id: string, props: SesDomainProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const mailFromSubdomain = props.mailFromSubdomain ?? SES_DEFAULTS.mailFromSubdomain;
    const dmarcPolicy = props.dmarcPolicy ?? SES_DEFAULTS.dmarcPolicy;
    this.check(props, mailFromSubdomain);

    this.domain = props.domain;
    this.mailFromDomain = `${mailFromSubdomain}.${props.domain}`;
    const setName = naming.name("email");

    const configurationSet = new Sesv2ConfigurationSet(this, "configuration-set", {
      configurationSetName: setName,
      // Per-set reputation metrics (dimension ses:configuration-set) next to the account's own.
      reputationOptions: { reputationMetricsEnabled: true },
      sendingOptions: { sendingEnabled: true },
      // Never send again to an address that bounced hard or complained: each repeat counts against the account.
      suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
      tags: naming.tags("email"),
    });
    this.configurationSetName = configurationSet.configurationSetName;
    this.configurationSetArn = configurationSet.arn;

    const identity = new Sesv2EmailIdentity(this, "identity", {
      emailIdentity: props.domain,
      // No dkim_signing_attributes: Easy DKIM, SES generates and rotates the keys.
      configurationSetName: configurationSet.configurationSetName,
      tags: naming.tags("email", "identity"),
    });
    this.identityArn = identity.arn;

    new SesDomainMailFrom(this, "mail-from", {
      domain: identity.emailIdentity,
      mailFromDomain: this.mailFromDomain,
      // Until the MX record resolves, SES falls back to amazonses.com instead of refusing to send.
      behaviorOnMxFailure: "UseDefaultValue",
    });

    this.eventTopicArn = this.eventTopic(setName, configurationSet.arn);
    new SesEventDestination(this, "bounces-and-complaints", {
      name: "bounces-and-complaints",
      configurationSetName: configurationSet.configurationSetName,
      enabled: true,
      matchingTypes: ["bounce", "complaint"],
      snsDestination: { topicArn: this.eventTopicArn },
    });

    const tokens = identity.dkimSigningAttributes.tokens;
    const dmarc = [`v=DMARC1`, `p=${dmarcPolicy}`, ...(props.dmarcReportEmail ? [`rua=mailto:${props.dmarcReportEmail}`] : [])];
    this.records = [
      ...Array.from({ length: DKIM_SELECTORS }, (_, i): DnsRecord => {
        const token = Token.asString(Fn.element(tokens, i));
        return { name: `${token}._domainkey.${props.domain}`, type: "CNAME", value: `${token}.dkim.amazonses.com` };
      }),
      { name: this.mailFromDomain, type: "MX", value: `10 feedback-smtp.${props.region}.amazonses.com` },
      { name: this.mailFromDomain, type: "TXT", value: "v=spf1 include:amazonses.com ~all" },
      { name: `_dmarc.${props.domain}`, type: "TXT", value: dmarc.join("; ") },
    ];
    const zoneId =
      props.hostedZoneId ??
      (props.hostedZoneName ? new DataAwsRoute53Zone(this, "zone", { name: props.hostedZoneName, privateZone: false }).zoneId : undefined);
    this.recordsInZone = zoneId !== undefined;
    if (zoneId !== undefined) this.createRecords(zoneId);
  }

  /** Lets `grantee` send raw mail (what the SMTP interface calls) as this domain, through its configuration set. */
  grantSendRawEmail(grantee: { addToPolicy(statement: PolicyStatement): void }): void {
    // SES authorizes a send against the identity and, when one applies, the configuration set: the
    // identity's default set applies to every message, so both ARNs are needed and nothing else is.
    grantee.addToPolicy(allow(["ses:SendRawEmail"], [this.identityArn, this.configurationSetArn], "SendAsTheDomain"));
  }

  private createRecords(zoneId: string): void {
    const ids = ["dkim-1", "dkim-2", "dkim-3", "mail-from-mx", "mail-from-spf", "dmarc"];
    this.records.forEach((record, i) => {
      new Route53Record(this, ids[i], {
        zoneId,
        name: record.name,
        type: record.type,
        ttl: 1800,
        // Route 53 wants TXT values in quotes; CNAME and MX as they are.
        records: [record.type === "TXT" ? `"${record.value}"` : record.value],
        // A record someone already created by hand is taken over instead of failing the apply.
        allowOverwrite: true,
      });
    });
  }

  /** An SNS topic SES may publish this configuration set's events to, encrypted with its own key. */
  private eventTopic(setName: string, configurationSetArn: string): string {
    const { topic } = serviceTopic(this, {
      topicName: Naming.of(this).name("ses", "events"),
      displayName: `${setName} bounces and complaints`,
      publisher: SES_SERVICE,
      publishes: "SES publish bounce and complaint events",
      sids: { encrypt: "SesEncryptsEvents", publish: "SesPublishesThisSetsEvents" },
      // Only this set's events: no other account's or set's SES can post here.
      publishConditions: (account) => ({ StringEquals: { "aws:SourceAccount": account, "aws:SourceArn": configurationSetArn } }),
      ids: { key: "events-key", alias: "events-key-alias", topic: "events", policy: "events-policy" },
    });
    return topic.arn;
  }

  private check(props: SesDomainProps, mailFromSubdomain: string): void {
    if (!Token.isUnresolved(props.domain) && !/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(props.domain)) {
      throw propError(this, "domain", `must be a lowercase domain name such as example.com (got "${props.domain}")`);
    }
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(mailFromSubdomain)) {
      throw propError(this, "mailFromSubdomain", `must be one DNS label such as mail (got "${mailFromSubdomain}")`);
    }
    if (props.hostedZoneId !== undefined && props.hostedZoneName !== undefined) {
      throw propError(this, "hostedZoneName", "cannot be given with hostedZoneId: name the zone once");
    }
  }
}

export interface SmtpSenderProps {
  /** The domain whose mail the user may send. */
  readonly domain: SesDomain;
  /**
   * The IAM user's name (the SMTP user name is its access key id, not this).
   * @default - `<project>-<env>-ses-smtp`
   */
  readonly userName?: string;
}

/**
 * The IAM user behind the SMTP credentials, allowed nothing but `ses:SendRawEmail` as the domain. Its
 * access key is not created here: a key in Terraform would put its secret into the state.
 * `npm run ses:credentials` creates and rotates it through the AWS API. The permission sits on a
 * group (IAM users hold no policies of their own, CIS 1.15), which has this one member.
 */
export class SmtpSender extends Construct {
  readonly userName: string;
  readonly userArn: string;
  readonly groupName: string;

  constructor(scope: Construct, id: string, props: SmtpSenderProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const user = new IamUser(this, "user", {
      name: props.userName ?? naming.name("ses", "smtp"),
      path: "/ses/",
      // Access keys are made outside Terraform; without this, destroy would fail on the user's keys.
      forceDestroy: true,
      tags: naming.tags("ses", "smtp"),
    });
    const group = new IamGroup(this, "group", { name: naming.name("ses", "senders"), path: "/ses/" });
    const statements: PolicyStatement[] = [];
    props.domain.grantSendRawEmail({ addToPolicy: (s) => statements.push(s) });
    new IamGroupPolicy(this, "policy", { name: "send-raw-email", group: group.name, policy: policyDocument(statements) });
    new IamUserGroupMembership(this, "membership", { user: user.name, groups: [group.name] });
    this.userName = user.name;
    this.userArn = user.arn;
    this.groupName = group.name;
  }
}

export interface SesReputationAlarmsProps {
  /** The topic both alarms notify (the environment's alert topic). */
  readonly topicArn: string;
  /**
   * Alarm when the account's bounce rate exceeds this percent.
   * @default 2 - AWS reviews an account at 5% and may pause its sending at 10%
   */
  readonly bounceRatePercent?: number;
  /**
   * Alarm when the account's complaint rate exceeds this percent.
   * @default 0.05 - AWS reviews an account at 0.1% and may pause its sending at 0.5%
   */
  readonly complaintRatePercent?: number;
}

/**
 * Alarms on the account's SES reputation (AWS/SES `Reputation.BounceRate` and
 * `Reputation.ComplaintRate`, no dimensions: the figures AWS itself reviews the account on). The
 * metrics are ratios (0.05 = 5%); the props are percents, as the AWS console shows them.
 */
export class SesReputationAlarms extends Construct {
  readonly alarmNames: string[];
  /** The thresholds as percents, for a dashboard or a runbook. */
  readonly thresholds: { readonly bounceRatePercent: number; readonly complaintRatePercent: number };

  constructor(scope: Construct, id: string, props: SesReputationAlarmsProps) {
    super(scope, id);
    const bounce = props.bounceRatePercent ?? SES_DEFAULTS.bounceRateAlarmPercent;
    const complaint = props.complaintRatePercent ?? SES_DEFAULTS.complaintRateAlarmPercent;
    for (const [prop, value] of [
      ["bounceRatePercent", bounce],
      ["complaintRatePercent", complaint],
    ] as const) {
      if (!LIMITS.alarmPercent.check(value)) throw propError(this, prop, `${LIMITS.alarmPercent.rule} (got ${value})`);
    }
    this.thresholds = { bounceRatePercent: bounce, complaintRatePercent: complaint };
    const alarms: CloudwatchMetricAlarm[] = [
      this.rateAlarm("bounce-rate", "Reputation.BounceRate", bounce, "bounce", "5% (review) and 10% (sending paused)", props.topicArn),
      this.rateAlarm(
        "complaint-rate",
        "Reputation.ComplaintRate",
        complaint,
        "complaint",
        "0.1% (review) and 0.5% (sending paused)",
        props.topicArn,
      ),
    ];
    this.alarmNames = alarms.map((a) => a.alarmName);
  }

  private rateAlarm(
    purpose: string,
    metricName: string,
    percent: number,
    what: string,
    levels: string,
    topicArn: string,
  ): CloudwatchMetricAlarm {
    return metricAlarm(this, purpose, {
      alarmName: Naming.of(this).name("ses", purpose),
      description: `SES ${what} rate of the account above ${percent}% (AWS acts at ${levels}); README, Email, says what to check`,
      namespace: "AWS/SES",
      metricName,
      dimensions: {},
      // SES recomputes the rates over a window of recent mail, not per minute: the hour's highest value.
      statistic: "Maximum",
      periodSeconds: 3600,
      evaluationPeriods: 1,
      comparison: "GreaterThanThreshold",
      threshold: percent / 100,
      topicArn,
    });
  }
}
