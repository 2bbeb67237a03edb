import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { policyDocument, type PolicyStatement } from "./iam";
import { partitionOf } from "./role";

/** Construct ids of the four resources, below the scope given: they are their Terraform addresses. */
export interface ServiceTopicIds {
  readonly key: string;
  readonly alias: string;
  readonly topic: string;
  readonly policy: string;
}

export interface ServiceTopicProps {
  /** The topic's name; the key is aliased `alias/<topicName>` and tagged `<topicName>-key`. */
  readonly topicName: string;
  /** Shown as the sender of e-mail notifications. */
  readonly displayName: string;
  /** The service principal that publishes, e.g. `cloudwatch.amazonaws.com`. */
  readonly publisher: string;
  /** Who publishes what, ending the key's description: `its policy lets <publishes>`. */
  readonly publishes: string;
  /** Statement ids of the publisher's grant in the key policy and in the topic policy. */
  readonly sids: { readonly encrypt: string; readonly publish: string };
  /**
   * Conditions on the publisher's `sns:Publish`, given the account id: the confused-deputy guard
   * naming the account and the source (alarms, a configuration set) that may publish.
   */
  readonly publishConditions: (account: string) => NonNullable<PolicyStatement["conditions"]>;
  /**
   * Construct ids of the key, its alias, the topic and its policy.
   * @default - `key`, `alias`, `topic`, `policy`
   */
  readonly ids?: ServiceTopicIds;
}

/** The resources `serviceTopic` made, for the caller's typed fields and `moved` blocks. */
export interface ServiceTopic {
  readonly topic: SnsTopic;
  readonly key: KmsKey;
}

/**
 * An SNS topic that one AWS service publishes to, encrypted with its own customer-managed KMS key
 * (the shape of the alarm topic and of SES's event topic). Its resources are created directly in
 * `scope` under `ids`, so moving a topic into this helper changed no address.
 *
 * Why not the AWS-managed key `alias/aws/sns`: the service publishes as its principal, which needs
 * kms:GenerateDataKey* and kms:Decrypt on the topic's key. An AWS-managed key's policy cannot be
 * edited to grant that, so every message would be dropped without an error anywhere. A
 * customer-managed key (about $1/month) can grant it.
 */
export function serviceTopic(scope: Construct, props: ServiceTopicProps): ServiceTopic {
  const ids = props.ids ?? { key: "key", alias: "alias", topic: "topic", policy: "policy" };
  const { topicName } = props;
  const partition = partitionOf(scope);
  const account = accountOf(scope);
  const publishConditions = props.publishConditions(account);

  const key = new KmsKey(scope, ids.key, {
    description: `Encrypts SNS topic ${topicName}; its policy lets ${props.publishes}`,
    enableKeyRotation: true,
    // The longest window: scheduling deletion by mistake silences the topic; this leaves a month to cancel.
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
        sid: props.sids.encrypt,
        actions: ["kms:GenerateDataKey*", "kms:Decrypt"],
        resources: ["*"],
        principals: { Service: [props.publisher] },
        conditions: { StringEquals: { "aws:SourceAccount": account } },
      },
    ]),
    tags: { Name: `${topicName}-key` },
  });
  new KmsAlias(scope, ids.alias, { name: `alias/${topicName}`, targetKeyId: key.keyId });

  const topic = new SnsTopic(scope, ids.topic, {
    name: topicName,
    displayName: props.displayName,
    kmsMasterKeyId: key.arn,
    tags: { Name: topicName },
  });

  // A separate resource: the policy names the topic's own ARN, which the topic cannot reference.
  // It replaces SNS's default policy; the account's principals keep access through IAM.
  new SnsTopicPolicy(scope, ids.policy, {
    arn: topic.arn,
    policy: policyDocument([
      {
        sid: props.sids.publish,
        actions: ["sns:Publish"],
        resources: [topic.arn],
        principals: { Service: [props.publisher] },
        conditions: publishConditions,
      },
    ]),
  });
  return { topic, key };
}

/** The account id Terraform runs in: one data source per stack. */
export function accountOf(scope: Construct): string {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild("caller-identity") as DataAwsCallerIdentity | undefined;
  return (existing ?? new DataAwsCallerIdentity(stack, "caller-identity")).accountId;
}
