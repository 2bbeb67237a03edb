import { RdsDashboard, rdsDashboardBody, type MetricWidget } from "../../constructs/rds-dashboard";
import { onlyResource, synth, testStack } from "../helpers";

const OPTIONS = { instanceIdentifier: "acme-db", region: "eu-west-1" };

function dashboardJson(props: Partial<ConstructorParameters<typeof RdsDashboard>[2]> = {}) {
  const stack = testStack(undefined, "observability");
  new RdsDashboard(stack, "rds-dashboard", { ...OPTIONS, ...props });
  return onlyResource(synth(stack), "aws_cloudwatch_dashboard");
}

function overlaps(a: MetricWidget, b: MetricWidget): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

describe("rdsDashboardBody", () => {
  test("six metric widgets", () => {
    const { widgets } = rdsDashboardBody(OPTIONS);
    expect(widgets).toHaveLength(6);
    expect(widgets.every((w) => w.type === "metric")).toBe(true);
  });

  test("every metric line of every widget is tied to the instance", () => {
    for (const widget of rdsDashboardBody(OPTIONS).widgets) {
      expect(widget.properties.metrics.length).toBeGreaterThan(0);
      for (const line of widget.properties.metrics)
        expect(line.slice(0, 4)).toEqual(["AWS/RDS", line[1], "DBInstanceIdentifier", "acme-db"]);
    }
  });

  test("widgets cover CPU, connections, memory, storage, latency and IOPS/throughput", () => {
    const metrics = rdsDashboardBody(OPTIONS).widgets.map((w) => w.properties.metrics.map((line) => line[1]));
    expect(metrics).toEqual([
      ["CPUUtilization"],
      ["DatabaseConnections"],
      ["FreeableMemory"],
      ["FreeStorageSpace"],
      ["ReadLatency", "WriteLatency"],
      ["ReadIOPS", "WriteIOPS", "ReadThroughput", "WriteThroughput"],
    ]);
  });

  test("widgets form a grid two wide and three high, inside the 24-unit width, never overlapping", () => {
    const widgets = rdsDashboardBody(OPTIONS).widgets;
    expect(widgets.map((w) => [w.x, w.y])).toEqual([
      [0, 0],
      [12, 0],
      [0, 6],
      [12, 6],
      [0, 12],
      [12, 12],
    ]);
    for (const w of widgets) expect(w.x + w.width).toBeLessThanOrEqual(24);
    widgets.forEach((a, i) => widgets.slice(i + 1).forEach((b) => expect(overlaps(a, b)).toBe(false)));
  });

  test("every widget names its region and averages over the alarms' 5-minute period", () => {
    for (const w of rdsDashboardBody(OPTIONS).widgets) {
      expect(w.properties).toMatchObject({ region: "eu-west-1", stat: "Average", period: 300 });
    }
  });

  test("alarm thresholds are drawn as lines on their widgets", () => {
    const thresholds = { cpuPercent: 70, connections: 80, freeStorageBytes: 2147483648, freeableMemoryBytes: 524288000 };
    const lines = rdsDashboardBody({ ...OPTIONS, alarmThresholds: thresholds }).widgets.map(
      (w) => w.properties.annotations?.horizontal[0].value,
    );
    expect(lines).toEqual([70, 80, 524288000, 2147483648, undefined, undefined]);
  });

  test("without thresholds no widget carries an annotations key", () => {
    for (const w of rdsDashboardBody(OPTIONS).widgets) expect(w.properties).not.toHaveProperty("annotations");
  });
});

describe("RdsDashboard", () => {
  test("is named <Project>-<env>-RDS", () => {
    expect(dashboardJson().dashboard_name).toBe("Acme-test-RDS");
  });

  test("the synthesized body is valid JSON with six metric widgets on the instance", () => {
    const body = JSON.parse(dashboardJson().dashboard_body);
    expect(body.widgets).toHaveLength(6);
    for (const widget of body.widgets) {
      expect(widget.type).toBe("metric");
      for (const line of widget.properties.metrics) expect(line.slice(2, 4)).toEqual(["DBInstanceIdentifier", "acme-db"]);
    }
  });

  test("a dashboard name CloudWatch would refuse is rejected naming the prop", () => {
    expect(() => dashboardJson({ dashboardName: "my dashboard" })).toThrow(/dashboardName must be 1-255 of .* \(got "my dashboard"\)/);
  });
});
