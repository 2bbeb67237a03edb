import { RdsAlarms, type RdsAlarmsProps } from "../../constructs/rds-alarms";
import { type Json, resourcesOf, synth, testStack } from "../helpers";

const TOPIC = "arn:aws:sns:us-east-1:123456789012:acme-test-rds-alerts";

function rdsAlarms(props: Partial<RdsAlarmsProps> = {}) {
  const stack = testStack(undefined, "observability");
  const alarms = new RdsAlarms(stack, "rds-alarms", { instanceIdentifier: "acme-db", topicArn: TOPIC, ...props });
  return { alarms, json: synth(stack) };
}

function alarmOn(json: Json, metric: string): Json {
  const found = resourcesOf(json, "aws_cloudwatch_metric_alarm").filter((a) => a.metric_name === metric);
  if (found.length !== 1) throw new Error(`expected one alarm on ${metric}, found ${found.length}`);
  return found[0];
}

describe("RdsAlarms", () => {
  test("four alarms, on CPU, connections, free storage and freeable memory", () => {
    const metrics = resourcesOf(rdsAlarms().json, "aws_cloudwatch_metric_alarm").map((a) => a.metric_name);
    expect(metrics.sort()).toEqual(["CPUUtilization", "DatabaseConnections", "FreeStorageSpace", "FreeableMemory"]);
  });

  test("every alarm watches the given instance, Average over 5 minutes, in AWS/RDS", () => {
    for (const alarm of resourcesOf(rdsAlarms().json, "aws_cloudwatch_metric_alarm")) {
      expect(alarm).toMatchObject({
        namespace: "AWS/RDS",
        dimensions: { DBInstanceIdentifier: "acme-db" },
        statistic: "Average",
        period: 300,
      });
    }
  });

  test("every alarm sends both ALARM and OK to the topic and explains itself", () => {
    for (const alarm of resourcesOf(rdsAlarms().json, "aws_cloudwatch_metric_alarm")) {
      expect(alarm.alarm_actions).toEqual([TOPIC]);
      expect(alarm.ok_actions).toEqual([TOPIC]);
      expect(alarm.alarm_description).toContain("acme-db");
    }
  });

  test("defaults reproduce the old thresholds: CPU > 70 and connections > 80 for 2 periods", () => {
    const { json } = rdsAlarms();
    expect(alarmOn(json, "CPUUtilization")).toMatchObject({
      comparison_operator: "GreaterThanThreshold",
      threshold: 70,
      evaluation_periods: 2,
    });
    expect(alarmOn(json, "DatabaseConnections")).toMatchObject({
      comparison_operator: "GreaterThanThreshold",
      threshold: 80,
      evaluation_periods: 2,
    });
  });

  test("free storage is compared in bytes: 2 GiB is 2147483648, over 1 period", () => {
    expect(alarmOn(rdsAlarms({ freeStorageLowGb: 2 }).json, "FreeStorageSpace")).toMatchObject({
      comparison_operator: "LessThanThreshold",
      threshold: 2147483648,
      evaluation_periods: 1,
    });
  });

  test("freeable memory is compared in bytes: 500 MiB is 524288000, over 2 periods", () => {
    expect(alarmOn(rdsAlarms({ freeMemoryLowMb: 500 }).json, "FreeableMemory")).toMatchObject({
      comparison_operator: "LessThanThreshold",
      threshold: 524288000,
      evaluation_periods: 2,
    });
  });

  test("fractional GiB thresholds become whole bytes", () => {
    expect(alarmOn(rdsAlarms({ freeStorageLowGb: 1.5 }).json, "FreeStorageSpace").threshold).toBe(1610612736);
  });

  test("configured thresholds reach the alarms and the exposed thresholds", () => {
    const { alarms, json } = rdsAlarms({ cpuHighPercent: 85, connectionsHigh: 40, freeStorageLowGb: 5, freeMemoryLowMb: 256 });
    expect(alarmOn(json, "CPUUtilization").threshold).toBe(85);
    expect(alarmOn(json, "DatabaseConnections").threshold).toBe(40);
    expect(alarms.thresholds).toEqual({ cpuPercent: 85, connections: 40, freeStorageBytes: 5368709120, freeableMemoryBytes: 268435456 });
  });

  test("only the CPU alarm treats missing data as breaching, so a silent instance pages once", () => {
    const { json } = rdsAlarms();
    expect(alarmOn(json, "CPUUtilization").treat_missing_data).toBe("breaching");
    for (const metric of ["DatabaseConnections", "FreeStorageSpace", "FreeableMemory"]) {
      expect(alarmOn(json, metric).treat_missing_data).toBe("notBreaching");
    }
  });

  test("alarms are named <project>-<env>-rds-<purpose>", () => {
    const names = resourcesOf(rdsAlarms().json, "aws_cloudwatch_metric_alarm").map((a) => a.alarm_name);
    expect(names.sort()).toEqual([
      "acme-test-rds-connections-high",
      "acme-test-rds-cpu-high",
      "acme-test-rds-free-storage-low",
      "acme-test-rds-freeable-memory-low",
    ]);
  });

  test.each([
    [{ cpuHighPercent: 100 }, /cpuHighPercent must be more than 0 and less than 100 \(got 100\)/],
    [{ cpuHighPercent: 0 }, /cpuHighPercent must be more than 0 and less than 100 \(got 0\)/],
    [{ connectionsHigh: 2.5 }, /connectionsHigh must be a whole number above 0 \(got 2.5\)/],
    [{ freeStorageLowGb: 0 }, /freeStorageLowGb must be above 0 \(got 0\)/],
    [{ freeMemoryLowMb: -1 }, /freeMemoryLowMb must be above 0 \(got -1\)/],
  ])("an impossible threshold %j is rejected naming the prop", (props, message) => {
    expect(() => rdsAlarms(props)).toThrow(message);
  });
});
