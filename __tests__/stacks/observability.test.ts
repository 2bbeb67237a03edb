import type { EnvironmentConfig } from "../../config/schema";
import {
  onlyResource,
  preparedEnvironment,
  referenceOf,
  resourcesOf,
  shippedStartupWebApp,
  synth,
  testConfig,
  type Json,
} from "../helpers";

function observability(config: EnvironmentConfig) {
  const stacks = preparedEnvironment(config);
  return { stack: stacks.observability, json: synth(stacks.observability) };
}

function warningsOf(stack: { node: { metadata: { type: string; data: unknown }[] } }): string[] {
  return stack.node.metadata.filter((m) => m.type === "@cdktf/warn").map((m) => String(m.data));
}

const alarmOn = (json: Json, metric: string) => resourcesOf(json, "aws_cloudwatch_metric_alarm").find((a) => a.metric_name === metric)!;

/** How the data stack's instance identifier appears here: read from its remote state, never a literal. */
const FROM_DATA_STACK = /^\$\{data\.terraform_remote_state\.[^}]*data[^}]*\}$/;

describe("ObservabilityStack", () => {
  const prod = observability(shippedStartupWebApp("prod"));

  test("every alarm watches the data stack's instance, through a cross-stack reference", () => {
    const alarms = resourcesOf(prod.json, "aws_cloudwatch_metric_alarm");
    expect(alarms).toHaveLength(4);
    for (const alarm of alarms) expect(alarm.dimensions.DBInstanceIdentifier).toMatch(FROM_DATA_STACK);
  });

  test("every alarm notifies this stack's topic on ALARM and OK", () => {
    for (const alarm of resourcesOf(prod.json, "aws_cloudwatch_metric_alarm")) {
      expect(alarm.alarm_actions).toEqual([expect.stringMatching(/^\$\{aws_sns_topic\.[^.]+\.arn\}$/)]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
    }
  });

  test("the dashboard body parses as JSON with six metric widgets, each on the data stack's instance", () => {
    const dashboard = onlyResource(prod.json, "aws_cloudwatch_dashboard");
    const body = JSON.parse(dashboard.dashboard_body);
    expect(body.widgets).toHaveLength(6);
    for (const widget of body.widgets) {
      expect(widget.type).toBe("metric");
      expect(widget.properties.region).toBe("us-east-1");
      for (const line of widget.properties.metrics) {
        expect(line[2]).toBe("DBInstanceIdentifier");
        expect(line[3]).toMatch(FROM_DATA_STACK);
      }
    }
  });

  test("names come from the naming helper: topic startupwebapp-prod-rds-alerts, dashboard Startupwebapp-prod-RDS", () => {
    expect(onlyResource(prod.json, "aws_sns_topic").name).toBe("startupwebapp-prod-rds-alerts");
    expect(onlyResource(prod.json, "aws_cloudwatch_dashboard").dashboard_name).toBe("Startupwebapp-prod-RDS");
  });

  test("shipped prod thresholds arrive in the metrics' units: 70 %, 80 connections, 2 GiB and 500 MiB in bytes", () => {
    expect(alarmOn(prod.json, "CPUUtilization").threshold).toBe(70);
    expect(alarmOn(prod.json, "DatabaseConnections").threshold).toBe(80);
    expect(alarmOn(prod.json, "FreeStorageSpace").threshold).toBe(2147483648);
    expect(alarmOn(prod.json, "FreeableMemory").threshold).toBe(524288000);
  });

  test("thresholds follow the config", () => {
    const { json } = observability(
      testConfig({ monitoring: { cpuHighPercent: 90, connectionsHigh: 150, freeStorageLowGb: 10, freeMemoryLowMb: 1024 } }),
    );
    expect(alarmOn(json, "CPUUtilization").threshold).toBe(90);
    expect(alarmOn(json, "DatabaseConnections").threshold).toBe(150);
    expect(alarmOn(json, "FreeStorageSpace").threshold).toBe(10737418240);
    expect(alarmOn(json, "FreeableMemory").threshold).toBe(1073741824);
  });

  test("one e-mail subscription per configured address", () => {
    const { json } = observability(testConfig({ monitoring: { alarmEmails: ["a@acme.io", "b@acme.io"] } }));
    expect(resourcesOf(json, "aws_sns_topic_subscription").map((s) => s.endpoint)).toEqual(["a@acme.io", "b@acme.io"]);
  });

  test("outputs sns_topic_arn, dashboard_name and alarm_names", () => {
    expect(Object.keys(prod.json.output).sort()).toEqual(expect.arrayContaining(["alarm_names", "dashboard_name", "sns_topic_arn"]));
    expect(prod.json.output.sns_topic_arn.value).toMatch(/^\$\{aws_sns_topic\.[^.]+\.arn\}$/);
    expect(prod.json.output.alarm_names.value).toHaveLength(4);
  });

  test("exposes the topic other stacks' alarms notify", () => {
    expect(referenceOf(prod.stack, prod.stack.alarmTopic.topicArn)).toBe(prod.json.output.sns_topic_arn.value);
  });

  test("production with no alarm e-mails warns that alarms reach nobody", () => {
    const { stack } = observability(shippedStartupWebApp("prod", { monitoring: { alarmEmails: [] } }));
    expect(warningsOf(stack)).toEqual([
      expect.stringMatching(/^monitoring\.alarmEmails: empty in production environment prod; .* reach nobody/),
    ]);
  });

  test("a non-production environment with no e-mails synthesizes without warning", () => {
    expect(warningsOf(observability(shippedStartupWebApp("dev")).stack)).toEqual([]);
  });

  test("an address at a reserved example domain warns, naming its config path", () => {
    const { stack } = observability(testConfig({ monitoring: { alarmEmails: ["ops@acme.io", "ops@example.com"] } }));
    expect(warningsOf(stack)).toEqual([
      expect.stringMatching(/^monitoring\.alarmEmails\[1\]: ops@example\.com is a reserved example domain/),
    ]);
  });
});
