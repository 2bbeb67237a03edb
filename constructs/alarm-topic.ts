import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { allow } from "./iam";
import { Naming } from "./naming";
import { partitionOf, type IGrantable } from "./role";
import { propError } from "./errors";
import { serviceTopic } from "./service-topic";

/** The service principal CloudWatch alarms publish as. */
const CLOUDWATCH = "cloudwatch.amazonaws.com";

export interface AlarmTopicProps {
  /**
   * The topic's name, given on purpose (`Naming.name("rds", "alerts")`): renaming the construct id
   * must not rename the topic. It also names the key's alias and both resources' `Name` tags.
   */
  readonly topicName: string;
  /**
   * Shown as the sender of the notification e-mails, so recipients recognize them.
   * @default - the topic name
   */
  readonly displayName?: string;
  /**
   * One e-mail subscription per address. Each recipient must click the link in the confirmation
   * e-mail AWS sends, or nothing is ever delivered to them.
   * @default - no subscriptions
   */
  readonly emails?: readonly string[];
  /**
   * Names of the CloudWatch alarms (in this account and region) allowed to publish, `*` as a wildcard.
   * @default - `<project>-<env>-*`: this environment's alarms
   */
  readonly alarmNamePattern?: string;
}

/**
 * An SNS topic that CloudWatch alarms can publish to: encrypted with its own customer-managed KMS
 * key, a topic policy letting this account's alarms publish, and e-mail subscriptions. The topic and
 * key are a `serviceTopic` (which says why the key cannot be AWS-managed).
 */
export class AlarmTopic extends Construct {
  readonly topicName: string;
  readonly topicArn: string;
  /** ARN of the KMS key that encrypts the topic's messages. */
  readonly keyArn: string;
  /** The key itself, for a `moved` block when the topic's construct id changes (the key must stay). */
  readonly kmsKey: KmsKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const topicName = props.topicName;
    const displayName = props.displayName ?? topicName;
    const emails = props.emails ?? [];
    const alarmNamePattern = props.alarmNamePattern ?? naming.name("*");
    this.checkEmails(emails);

    const { topic, key } = serviceTopic(this, {
      topicName,
      displayName,
      publisher: CLOUDWATCH,
      publishes: "CloudWatch alarms publish to it",
      sids: { encrypt: "CloudWatchAlarmsEncryptNotifications", publish: "CloudWatchAlarmsPublish" },
      // Only this account's alarms matching the pattern: no other account's alarm can post here.
      publishConditions: (account) => ({
        StringEquals: { "aws:SourceAccount": account },
        ArnLike: { "aws:SourceArn": `arn:${partitionOf(this)}:cloudwatch:${regionOf(this)}:${account}:alarm:${alarmNamePattern}` },
      }),
    });
    this.keyArn = key.arn;
    this.kmsKey = key;
    this.topicName = topic.name;
    this.topicArn = topic.arn;

    for (const email of emails) {
      // Keyed by address, not position: removing one address must not recreate the others'
      // subscriptions, which would each need confirming again.
      new SnsTopicSubscription(this, `email-${email}`, { topicArn: topic.arn, protocol: "email", endpoint: email });
    }
  }

  /** Lets `grantee` publish to the topic (which needs the key too: the topic is encrypted). */
  grantPublish(grantee: IGrantable): void {
    grantee.addToPolicy(allow(["sns:Publish"], [this.topicArn]));
    grantee.addToPolicy(allow(["kms:GenerateDataKey*", "kms:Decrypt"], [this.keyArn]));
  }

  private checkEmails(emails: readonly string[]): void {
    const seen = new Set<string>();
    emails.forEach((email, i) => {
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
        throw propError(this, `emails[${i}]`, `must be an e-mail address (got "${email}")`);
      }
      if (seen.has(email.toLowerCase())) {
        throw propError(this, `emails[${i}]`, `lists ${email} a second time; one subscription per address`);
      }
      seen.add(email.toLowerCase());
    });
  }
}

/** The provider's region: one data source per stack. */
function regionOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("region") as DataAwsRegion | undefined;
  return (existing ?? new DataAwsRegion(stack, "region")).name;
}
