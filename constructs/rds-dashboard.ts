import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { Naming } from "./naming";
import type { RdsAlarmThresholds } from "./rds-alarms";

/** CloudWatch dashboards are 24 units wide: two widgets a row. */
const GRID_COLUMNS = 2;
const WIDGET_WIDTH = 12;
const WIDGET_HEIGHT = 6;

/** One line of a metric widget: namespace, metric, dimension name and value, then render options. */
export type MetricLine =
  [string, string, string, string] | [string, string, string, string, { readonly yAxis?: "left" | "right"; readonly label?: string }];

export interface MetricWidget {
  readonly type: "metric";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: {
    readonly title: string;
    readonly region: string;
    readonly view: "timeSeries";
    readonly stacked: false;
    readonly stat: "Average";
    readonly period: number;
    readonly metrics: MetricLine[];
    readonly yAxis?: { readonly left?: { readonly min?: number; readonly max?: number; readonly label?: string } };
    readonly annotations?: { readonly horizontal: { readonly label: string; readonly value: number }[] };
  };
}

export interface DashboardBody {
  readonly widgets: MetricWidget[];
}

export interface RdsDashboardBodyOptions {
  /** DBInstanceIdentifier every metric is tied to. */
  readonly instanceIdentifier: string;
  /** Region the metrics live in (metric widgets require one). */
  readonly region: string;
  /**
   * Draws each alarm's threshold as a line on its widget.
   * @default - no threshold lines
   */
  readonly alarmThresholds?: RdsAlarmThresholds;
  /**
   * Seconds per datapoint.
   * @default 300 - the alarms' period, so the graph shows what the alarms see
   */
  readonly periodSeconds?: number;
}

/**
 * The body of an RDS dashboard: six metric widgets on one instance (CPU, connections, freeable
 * memory, free storage, read/write latency, read/write IOPS and throughput), two per row.
 * Pure, so it is tested without synthesizing anything.
 */
export function rdsDashboardBody(options: RdsDashboardBodyOptions): DashboardBody {
  const period = options.periodSeconds ?? 300;
  const t = options.alarmThresholds;
  const on = (metric: string, render?: { yAxis?: "left" | "right"; label?: string }): MetricLine =>
    render
      ? ["AWS/RDS", metric, "DBInstanceIdentifier", options.instanceIdentifier, render]
      : ["AWS/RDS", metric, "DBInstanceIdentifier", options.instanceIdentifier];
  const alarmLine = (value: number | undefined) => (value === undefined ? undefined : { horizontal: [{ label: "alarm", value }] });

  const panels: Omit<MetricWidget["properties"], "region" | "view" | "stacked" | "stat" | "period">[] = [
    {
      title: "CPU utilization (%)",
      metrics: [on("CPUUtilization")],
      yAxis: { left: { min: 0, max: 100 } },
      annotations: alarmLine(t?.cpuPercent),
    },
    {
      title: "Database connections",
      metrics: [on("DatabaseConnections")],
      yAxis: { left: { min: 0 } },
      annotations: alarmLine(t?.connections),
    },
    {
      title: "Freeable memory (bytes)",
      metrics: [on("FreeableMemory")],
      yAxis: { left: { min: 0 } },
      annotations: alarmLine(t?.freeableMemoryBytes),
    },
    {
      title: "Free storage (bytes)",
      metrics: [on("FreeStorageSpace")],
      yAxis: { left: { min: 0 } },
      annotations: alarmLine(t?.freeStorageBytes),
    },
    {
      title: "Read / write latency (seconds)",
      metrics: [on("ReadLatency", { label: "read" }), on("WriteLatency", { label: "write" })],
      yAxis: { left: { min: 0 } },
    },
    {
      // gp3 caps both IOPS (3000 baseline) and throughput (125 MiB/s): either can be the limit hit.
      title: "Read / write IOPS (left) and throughput in bytes/s (right)",
      metrics: [
        on("ReadIOPS", { label: "read IOPS" }),
        on("WriteIOPS", { label: "write IOPS" }),
        on("ReadThroughput", { label: "read bytes/s", yAxis: "right" }),
        on("WriteThroughput", { label: "write bytes/s", yAxis: "right" }),
      ],
      yAxis: { left: { min: 0 } },
    },
  ];

  return {
    widgets: panels.map((panel, i) => ({
      type: "metric",
      x: (i % GRID_COLUMNS) * WIDGET_WIDTH,
      y: Math.floor(i / GRID_COLUMNS) * WIDGET_HEIGHT,
      width: WIDGET_WIDTH,
      height: WIDGET_HEIGHT,
      properties: { region: options.region, view: "timeSeries", stacked: false, stat: "Average", period, ...withoutUndefined(panel) },
    })),
  };
}

export interface RdsDashboardProps extends RdsDashboardBodyOptions {
  /**
   * The dashboard's name.
   * @default - `<Project>-<env>-RDS`
   */
  readonly dashboardName?: string;
}

/** A CloudWatch dashboard of one RDS instance; see `rdsDashboardBody`. */
export class RdsDashboard extends Construct {
  readonly dashboardName: string;
  readonly dashboardArn: string;

  constructor(scope: Construct, id: string, props: RdsDashboardProps) {
    super(scope, id);
    const dashboardName = props.dashboardName ?? Naming.of(this).title("RDS");
    if (!Token.isUnresolved(dashboardName) && !/^[A-Za-z0-9_-]{1,255}$/.test(dashboardName)) {
      throw new Error(`RdsDashboard ${this.node.path}: dashboardName must be 1-255 of A-Z, a-z, 0-9, '-', '_' (got "${dashboardName}")`);
    }
    const dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName,
      // Plain JSON, not jsonencode: the body stays readable in the synthesized stack, and an instance
      // identifier from another stack is a token inside a JSON string, which Terraform interpolates.
      dashboardBody: JSON.stringify(rdsDashboardBody(props)),
    });
    this.dashboardName = dashboard.dashboardName;
    this.dashboardArn = dashboard.dashboardArn;
  }
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
