import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { allow, policyDocument } from "./iam";
import { Naming } from "./naming";
import { partitionOf, type IGrantable } from "./role";
import { propError } from "./errors";

/** The service principal CloudWatch alarms publish as. */
const CLOUDWATCH = "cloudwatch.amazonaws.com";

export interface AlarmTopicProps {
  /**
   * The topic's name.
   * @default - `<project>-<env>-<id>`
   */
  readonly topicName?: string;
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
 * key, a topic policy letting this account's alarms publish, and e-mail subscriptions.
 *
 * Why not the AWS-managed key `alias/aws/sns`: CloudWatch publishes as the service principal
 * `cloudwatch.amazonaws.com`, which needs kms:GenerateDataKey* and kms:Decrypt on the topic's key.
 * An AWS-managed key's policy cannot be edited to grant that, so every alarm notification would be
 * dropped without an error anywhere. A customer-managed key (about $1/month) can grant it.
 */
export class AlarmTopic extends Construct {
  readonly topicName: string;
  readonly topicArn: string;
  /** ARN of the KMS key that encrypts the topic's messages. */
  readonly keyArn: string;
  /** The key itself, for a `moved` block when the topic's construct id changes (the key must stay). */
  readonly kmsKey: KmsKey;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    const naming = Naming.of(this);
    const topicName = props.topicName ?? naming.name(id);
    const displayName = props.displayName ?? topicName;
    const emails = props.emails ?? [];
    const alarmNamePattern = props.alarmNamePattern ?? naming.name("*");
    this.checkEmails(emails);

    const partition = partitionOf(this);
    const account = accountOf(this);
    const region = regionOf(this);
    const confusedDeputyGuard = {
      StringEquals: { "aws:SourceAccount": account },
      ArnLike: { "aws:SourceArn": `arn:${partition}:cloudwatch:${region}:${account}:alarm:${alarmNamePattern}` },
    };

    const key = new KmsKey(this, "key", {
      description: `Encrypts SNS topic ${topicName}; its policy lets CloudWatch alarms publish to it`,
      enableKeyRotation: true,
      // The longest window: scheduling deletion by mistake silences every alarm; this leaves a month to cancel.
      deletionWindowInDays: 30,
      policy: policyDocument([
        // The key policy is the only policy KMS reads; without this statement the account (and so
        // every IAM policy in it, including the one Terraform runs with) loses control of the key.
        {
          sid: "AccountAdministersTheKey",
          actions: ["kms:*"],
          resources: ["*"],
          principals: { AWS: [`arn:${partition}:iam::${account}:root`] },
        },
        {
          sid: "CloudWatchAlarmsEncryptNotifications",
          actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
          resources: ["*"],
          principals: { Service: [CLOUDWATCH] },
          conditions: { StringEquals: { "aws:SourceAccount": account } },
        },
      ]),
      tags: naming.tags(id, "key"),
    });
    new KmsAlias(this, "alias", { name: `alias/${topicName}`, targetKeyId: key.keyId });
    this.keyArn = key.arn;
    this.kmsKey = key;

    const topic = new SnsTopic(this, "topic", {
      name: topicName,
      displayName,
      kmsMasterKeyId: key.arn,
      tags: naming.tags(id),
    });
    this.topicName = topic.name;
    this.topicArn = topic.arn;

    // A separate resource: the policy names the topic's own ARN, which the topic cannot reference.
    // It replaces SNS's default policy; the account's principals keep access through IAM.
    new SnsTopicPolicy(this, "policy", {
      arn: topic.arn,
      policy: policyDocument([
        {
          sid: "CloudWatchAlarmsPublish",
          actions: ["sns:Publish"],
          resources: [topic.arn],
          principals: { Service: [CLOUDWATCH] },
          conditions: confusedDeputyGuard,
        },
      ]),
    });

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

/** The account id Terraform runs in: one data source per stack. */
function accountOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("caller-identity") as DataAwsCallerIdentity | undefined;
  return (existing ?? new DataAwsCallerIdentity(stack, "caller-identity")).accountId;
}

/** The provider's region: one data source per stack. */
function regionOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("region") as DataAwsRegion | undefined;
  return (existing ?? new DataAwsRegion(stack, "region")).name;
}
