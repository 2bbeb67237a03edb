import type { Construct } from "constructs";
import type { StartupWebAppConfig } from "../../config/schema";
import { SesDomain, SesReputationAlarms, SmtpSender } from "../../constructs/ses";
import { fromConfig } from "../config-errors";
import { EnvironmentStack } from "../environment-stack";
import type { ObservabilityStack } from "../observability";
import { EMAIL_OUTPUTS } from "./outputs";

export interface EmailStackProps {
  readonly config: StartupWebAppConfig;
  /** Its alert topic gets the reputation alarms. */
  readonly observability: ObservabilityStack;
}

/**
 * `<env>-email` (only with an `email` section): the SES domain identity with Easy DKIM, its MAIL FROM
 * domain, the configuration set whose bounces and complaints go to an SNS topic, the DNS records (in
 * Route 53 when a zone is given, else as outputs), the SMTP sender user (its key comes from
 * `npm run ses:credentials`, never from Terraform) and the account's reputation alarms.
 */
export class EmailStack extends EnvironmentStack {
  declare readonly config: StartupWebAppConfig;
  readonly domain: SesDomain;
  readonly sender: SmtpSender;
  readonly alarms: SesReputationAlarms;

  constructor(scope: Construct, props: EmailStackProps) {
    super(scope, { config: props.config, layer: "email" });
    const email = this.config.email;
    if (email === undefined) throw new Error(`${this.config.environment}: the email stack needs an email section`);

    this.domain = fromConfig(
      this.config,
      "email",
      () =>
        new SesDomain(this, "domain", {
          domain: email.domain,
          region: this.config.region,
          mailFromSubdomain: email.mailFromSubdomain,
          hostedZoneId: email.hostedZoneId,
          hostedZoneName: email.hostedZoneName,
          dmarcPolicy: email.dmarcPolicy,
          dmarcReportEmail: email.dmarcReportEmail,
        }),
    );
    this.sender = new SmtpSender(this, "smtp-sender", { domain: this.domain });
    this.alarms = fromConfig(
      this.config,
      "email",
      () =>
        new SesReputationAlarms(this, "reputation-alarms", {
          topicArn: props.observability.alarmTopic.topicArn,
          bounceRatePercent: email.bounceRateAlarmPercent,
          complaintRatePercent: email.complaintRateAlarmPercent,
        }),
      { bounceRatePercent: "bounceRateAlarmPercent", complaintRatePercent: "complaintRateAlarmPercent" },
    );

    this.declareOutputs(EMAIL_OUTPUTS, {
      identity: { value: this.domain.identityArn, description: "ARN of the SES domain identity" },
      configurationSet: {
        value: this.domain.configurationSetName,
        description: "SES configuration set every message of the domain goes through (the identity's default)",
      },
      eventTopic: {
        value: this.domain.eventTopicArn,
        description: "SNS topic of bounce and complaint events; subscribe a handler or an address to it",
      },
      smtpUser: {
        value: this.sender.userName,
        description: "IAM user whose access key npm run ses:credentials turns into the SMTP credentials",
      },
      dnsRecords: {
        value: this.domain.records,
        description: this.domain.recordsInZone
          ? "DNS records of the domain (created in the Route 53 zone)"
          : "DNS records to create by hand at the domain's DNS host; SES verifies the domain once the DKIM CNAMEs resolve",
      },
      alarms: { value: this.alarms.alarmNames, description: "CloudWatch alarms on SES reputation" },
    });
  }
}
