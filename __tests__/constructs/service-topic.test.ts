import { serviceTopic } from "../../constructs/service-topic";
import { decodePolicy, resourceJson, synth, testStack } from "../helpers";

function topicFor(publisher: string) {
  const stack = testStack(undefined, "observability");
  const made = serviceTopic(stack, {
    topicName: "acme-test-events",
    displayName: "events",
    publisher,
    publishes: "the service publish its events",
    sids: { encrypt: "ServiceEncrypts", publish: "ServicePublishes" },
    publishConditions: (account) => ({ StringEquals: { "aws:SourceAccount": account, "aws:SourceArn": "arn:aws:ses:x" } }),
  });
  return { ...made, json: synth(stack) };
}

describe("serviceTopic", () => {
  test("the topic is encrypted with its own key, named and tagged from the topic name", () => {
    const { topic, key, json } = topicFor("ses.amazonaws.com");
    expect(resourceJson(json, topic)).toMatchObject({
      name: "acme-test-events",
      kms_master_key_id: `\${aws_kms_key.${key.friendlyUniqueId}.arn}`,
      tags: { Name: "acme-test-events" },
    });
    expect(resourceJson(json, key)).toMatchObject({
      description: "Encrypts SNS topic acme-test-events; its policy lets the service publish its events",
      enable_key_rotation: true,
      deletion_window_in_days: 30,
      tags: { Name: "acme-test-events-key" },
    });
  });

  test("only the publisher's service principal may use the key and publish, under the caller's conditions", () => {
    const { key, json } = topicFor("ses.amazonaws.com");
    const keyGrant = decodePolicy(resourceJson(json, key).policy).Statement.find((s: { Sid: string }) => s.Sid === "ServiceEncrypts");
    expect(keyGrant.Principal).toEqual({ Service: ["ses.amazonaws.com"] });
    const topicPolicy = decodePolicy(Object.values(json.resource.aws_sns_topic_policy as object)[0].policy).Statement;
    expect(topicPolicy).toEqual([
      expect.objectContaining({
        Sid: "ServicePublishes",
        Principal: { Service: ["ses.amazonaws.com"] },
        Condition: {
          StringEquals: { "aws:SourceAccount": expect.stringMatching(/^data\.aws_caller_identity\./), "aws:SourceArn": "arn:aws:ses:x" },
        },
      }),
    ]);
  });
});
