/**
 * The email layer's constructs deployed for real on moto, then destroyed: the domain identity with its
 * default configuration set, the MAIL FROM domain, the event destination and topic, the Route 53
 * records, the SMTP sender and the reputation alarms on an alert topic.
 */
import { AlarmTopic } from "../../constructs/alarm-topic";
import { SesDomain, SesReputationAlarms, SmtpSender } from "../../constructs/ses";
import { startMoto, type Emulator } from "../../scripts/lib/moto";
import { testConfig } from "../helpers";
import { EmulatedStack } from "../support/emulated-stack";

let emulator: Emulator;
let stack: EmulatedStack;
let zoneId: string;

beforeAll(async () => {
  emulator = await startMoto();
  stack = new EmulatedStack(emulator, testConfig(), (scope) => {
    const topic = new AlarmTopic(scope, "alerts", { topicName: "acme-test-alerts" });
    const domain = new SesDomain(scope, "domain", {
      domain: "example.org",
      region: "us-east-1",
      hostedZoneId: zoneId,
      dmarcPolicy: "quarantine",
    });
    new SmtpSender(scope, "smtp-sender", { domain });
    new SesReputationAlarms(scope, "reputation-alarms", { topicArn: topic.topicArn });
  });
  const created = await stack.python(`
import boto3
print(boto3.client("route53").create_hosted_zone(Name="example.org", CallerReference="ses-emulator-test")["HostedZone"]["Id"].split("/")[-1])
`);
  zoneId = created;
  await stack.apply();
}, 900_000);

afterAll(async () => {
  try {
    await stack?.destroy();
  } finally {
    await emulator?.stop();
  }
}, 300_000);

const py = (code: string) => stack.python(`import boto3, json\n${code}`);

test("the identity exists with Easy DKIM tokens and its configuration set as default", async () => {
  const out = JSON.parse(
    await py(`
i = boto3.client("sesv2").get_email_identity(EmailIdentity="example.org")
print(json.dumps({"set": i.get("ConfigurationSetName"), "tokens": len(i["DkimAttributes"].get("Tokens", []))}))`),
  );
  expect(out).toEqual({ set: "acme-test-email", tokens: 3 });
});

test("the configuration set keeps suppression and reputation metrics, and sends bounces and complaints to the topic", async () => {
  const out = JSON.parse(
    await py(`
c = boto3.client("sesv2").get_configuration_set(ConfigurationSetName="acme-test-email")
d = boto3.client("ses").describe_configuration_set(ConfigurationSetName="acme-test-email", ConfigurationSetAttributeNames=["eventDestinations"])
print(json.dumps({"suppressed": sorted(c["SuppressionOptions"]["SuppressedReasons"]), "destinations": [
  {"types": sorted(e["MatchingEventTypes"]), "topic": e["SNSDestination"]["TopicARN"].split(":")[-1]} for e in d["EventDestinations"]]}))`),
  );
  expect(out).toEqual({
    suppressed: ["BOUNCE", "COMPLAINT"],
    destinations: [{ types: ["bounce", "complaint"], topic: "acme-test-ses-events" }],
  });
});

test("the MAIL FROM domain is set, and the six records are in the zone", async () => {
  const out = JSON.parse(
    await py(`
m = boto3.client("ses").get_identity_mail_from_domain_attributes(Identities=["example.org"])["MailFromDomainAttributes"]["example.org"]
r = boto3.client("route53").list_resource_record_sets(HostedZoneId="${zoneId}")["ResourceRecordSets"]
print(json.dumps({"mailFrom": m["MailFromDomain"], "records": sorted(x["Type"] + " " + x["Name"].split(".")[0] for x in r if x["Type"] in ("CNAME", "MX", "TXT"))}))`),
  );
  expect(out.mailFrom).toBe("mail.example.org");
  expect(out.records.filter((r: string) => r.startsWith("CNAME"))).toHaveLength(3);
  expect(out.records).toEqual(expect.arrayContaining(["MX mail", "TXT mail", "TXT _dmarc"]));
});

test("the SMTP user's only permission is ses:SendRawEmail on the identity and its set", async () => {
  const out = JSON.parse(
    await py(`
iam = boto3.client("iam")
groups = iam.list_groups_for_user(UserName="acme-test-ses-smtp")["Groups"]
policy = iam.get_group_policy(GroupName=groups[0]["GroupName"], PolicyName="send-raw-email")["PolicyDocument"]
print(json.dumps({"groups": len(groups), "user_policies": iam.list_user_policies(UserName="acme-test-ses-smtp")["PolicyNames"],
  "keys": len(iam.list_access_keys(UserName="acme-test-ses-smtp")["AccessKeyMetadata"]), "statements": policy["Statement"]}))`),
  );
  expect(out.groups).toBe(1);
  expect(out.user_policies).toEqual([]);
  expect(out.keys).toBe(0);
  expect(out.statements).toEqual([
    {
      Sid: "SendAsTheDomain",
      Effect: "Allow",
      Action: ["ses:SendRawEmail"],
      Resource: [
        "arn:aws:ses:us-east-1:123456789012:identity/example.org",
        "arn:aws:ses:us-east-1:123456789012:configuration-set/acme-test-email",
      ],
    },
  ]);
});

test("both reputation alarms watch AWS/SES and notify the alert topic", async () => {
  const out = JSON.parse(
    await py(`
a = boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix="acme-test-ses-")["MetricAlarms"]
print(json.dumps(sorted([[x["MetricName"], x["Threshold"], x["AlarmActions"][0].split(":")[-1]] for x in a])))`),
  );
  expect(out).toEqual([
    ["Reputation.BounceRate", 0.02, "acme-test-alerts"],
    ["Reputation.ComplaintRate", 0.0005, "acme-test-alerts"],
  ]);
});

test("a second plan after the apply is empty (the launcher restores the option groups and tags moto reads back differently)", async () => {
  stack.synth();
  const plan = await stack.run(["plan", "-detailed-exitcode", "-input=false", "-no-color"], {}, [0, 2]);
  expect(plan.code === 0 ? "No changes" : plan.stdout).toBe("No changes");
});
