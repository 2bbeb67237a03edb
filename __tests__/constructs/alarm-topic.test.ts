import { AlarmTopic, type AlarmTopicProps } from "../../constructs/alarm-topic";
import { Role } from "../../constructs/role";
import { decodePolicy, type Json, onlyResource, resourcesOf, synth, testStack } from "../helpers";

function alarmTopic(props: Partial<AlarmTopicProps> = {}, id = "rds-alerts") {
  const stack = testStack(undefined, "observability");
  const topic = new AlarmTopic(stack, id, { topicName: "acme-test-rds-alerts", ...props });
  return { stack, topic, json: () => synth(stack) };
}

/** The statements of a resource's policy, by Sid where it has one. */
function statementsOf(resource: Json): Json[] {
  return decodePolicy(resource.policy).Statement;
}

describe("AlarmTopic", () => {
  test("topic, key alias and Name tags come from topicName, not from the construct id", () => {
    const json = alarmTopic({ topicName: "acme-test-alerts" }, "renamed").json();
    expect(onlyResource(json, "aws_sns_topic")).toMatchObject({ name: "acme-test-alerts", tags: { Name: "acme-test-alerts" } });
    expect(onlyResource(json, "aws_kms_key").tags).toEqual({ Name: "acme-test-alerts-key" });
    expect(onlyResource(json, "aws_kms_alias").name).toBe("alias/acme-test-alerts");
  });

  test("topic is encrypted with its own customer-managed key, never the AWS-managed alias/aws/sns", () => {
    const json = alarmTopic().json();
    const topic = onlyResource(json, "aws_sns_topic");
    expect(topic.kms_master_key_id).toMatch(/^\$\{aws_kms_key\.[^.]+\.arn\}$/);
    expect(JSON.stringify(json)).not.toContain("alias/aws/sns");
  });

  test("the key rotates yearly and has a 30-day deletion window", () => {
    expect(onlyResource(alarmTopic().json(), "aws_kms_key")).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
  });

  test("the key policy lets CloudWatch generate data keys and decrypt, only for this account", () => {
    const cloudwatch = statementsOf(onlyResource(alarmTopic().json(), "aws_kms_key")).find((s) => s.Principal.Service);
    expect(cloudwatch).toEqual({
      Sid: "CloudWatchAlarmsEncryptNotifications",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: ["*"],
      Principal: { Service: ["cloudwatch.amazonaws.com"] },
      Condition: { StringEquals: { "aws:SourceAccount": expect.stringMatching(/^data\.aws_caller_identity\.[^.]+\.account_id$/) } },
    });
  });

  test("the key policy keeps the account in control of the key", () => {
    const account = statementsOf(onlyResource(alarmTopic().json(), "aws_kms_key")).find((s) => s.Principal.AWS)!;
    expect(account.Principal.AWS).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:root$/),
    ]);
    expect(account.Action).toEqual(["kms:*"]);
  });

  test("the topic policy lets only this environment's alarms in this account publish", () => {
    const statements = statementsOf(onlyResource(alarmTopic().json(), "aws_sns_topic_policy"));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Effect: "Allow",
      Action: ["sns:Publish"],
      Resource: [expect.stringMatching(/^aws_sns_topic\.[^.]+\.arn$/)],
      Principal: { Service: ["cloudwatch.amazonaws.com"] },
    });
    expect(statements[0].Condition.ArnLike["aws:SourceArn"]).toMatch(
      /^arn:\$\{[^}]+\}:cloudwatch:\$\{[^}]+\}:\$\{[^}]+\}:alarm:acme-test-\*$/,
    );
    expect(statements[0].Condition.StringEquals["aws:SourceAccount"]).toMatch(/^data\.aws_caller_identity\./);
  });

  test("one e-mail subscription per address", () => {
    const subscriptions = resourcesOf(alarmTopic({ emails: ["a@example.org", "b@example.org"] }).json(), "aws_sns_topic_subscription");
    expect(subscriptions.map((s) => [s.protocol, s.endpoint])).toEqual([
      ["email", "a@example.org"],
      ["email", "b@example.org"],
    ]);
  });

  test("removing an address leaves the other subscriptions' addresses in place (no re-confirmation)", () => {
    const keysOf = (emails: string[]) => Object.keys(alarmTopic({ emails }).json().resource.aws_sns_topic_subscription);
    const before = keysOf(["a@example.org", "b@example.org"]);
    const after = keysOf(["b@example.org"]);
    expect(after).toEqual([before[1]]);
  });

  test("no addresses, no subscriptions", () => {
    expect(resourcesOf(alarmTopic().json(), "aws_sns_topic_subscription")).toEqual([]);
  });

  test("an address listed twice is rejected naming the prop", () => {
    expect(() => alarmTopic({ emails: ["ops@example.org", "OPS@example.org"] })).toThrow(/emails\[1\] lists OPS@example.org a second time/);
  });

  test("something that is not an address is rejected naming the prop", () => {
    expect(() => alarmTopic({ emails: ["ops"] })).toThrow(/emails\[0\] must be an e-mail address \(got "ops"\)/);
  });

  test("grantPublish gives a role publish on this topic and use of its key, nothing wider", () => {
    const { stack, topic, json } = alarmTopic();
    const role = new Role(stack, "publisher", { roleName: "acme-test-publisher", assumedBy: ["lambda.amazonaws.com"] });
    topic.grantPublish(role);
    const statements = statementsOf(onlyResource(json(), "aws_iam_role_policy"));
    expect(statements.map((s) => [s.Action, s.Resource])).toEqual([
      [["sns:Publish"], [expect.stringMatching(/^aws_sns_topic\.[^.]+\.arn$/)]],
      [["kms:GenerateDataKey*", "kms:Decrypt"], [expect.stringMatching(/^aws_kms_key\.[^.]+\.arn$/)]],
    ]);
  });
});
