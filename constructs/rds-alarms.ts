import { Construct } from "constructs";
import { metricAlarm, type AlarmComparison, type MissingData } from "./alarm";
import { Naming } from "./naming";
import { LIMITS } from "./aws-limits";
import { propError } from "./errors";

export const BYTES_PER_GIB = 1024 ** 3;
export const BYTES_PER_MIB = 1024 ** 2;

/** Alarm thresholds in the units CloudWatch's AWS/RDS metrics report. */
export interface RdsAlarmThresholds {
  /** CPUUtilization, percent. */
  readonly cpuPercent: number;
  /** DatabaseConnections, a count. */
  readonly connections: number;
  /** FreeStorageSpace, bytes. */
  readonly freeStorageBytes: number;
  /** FreeableMemory, bytes. */
  readonly freeableMemoryBytes: number;
}

/** Defaults decided here, once: the config schema shows them (README's settings table) and applies them. */
export const RDS_ALARMS_DEFAULTS = {
  cpuHighPercent: 70,
  connectionsHigh: 80,
  freeStorageLowGb: 2,
  freeMemoryLowMb: 500,
} as const;

export interface RdsAlarmsProps {
  /** DBInstanceIdentifier of the instance every alarm watches. */
  readonly instanceIdentifier: string;
  /** SNS topic ARN that receives both ALARM and OK notifications. */
  readonly topicArn: string;
  /**
   * Alarm when average CPU stays above this percentage for 10 minutes.
   * @default 70
   */
  readonly cpuHighPercent?: number;
  /**
   * Alarm when average connections stay above this count for 10 minutes.
   * @default 80
   */
  readonly connectionsHigh?: number;
  /**
   * Alarm when average free storage drops below this many GiB over 5 minutes.
   * @default 2
   */
  readonly freeStorageLowGb?: number;
  /**
   * Alarm when average freeable memory stays below this many MiB for 10 minutes.
   * @default 500
   */
  readonly freeMemoryLowMb?: number;
}

interface AlarmSpec {
  readonly purpose: string;
  readonly metricName: string;
  readonly comparison: AlarmComparison;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly treatMissingData: MissingData;
  readonly description: string;
}

/**
 * The four AWS/RDS alarms StartupWebApp ran (CPU, connections, free storage, freeable memory), each
 * on one instance, Average over 5 minutes, sending ALARM and OK to one topic.
 */
export class RdsAlarms extends Construct {
  /** Alarm names, in the order CPU, connections, free storage, freeable memory. */
  readonly alarmNames: string[];
  readonly alarmArns: string[];
  /** What the alarms compare against, in the metrics' own units (for dashboards). */
  readonly thresholds: RdsAlarmThresholds;

  constructor(scope: Construct, id: string, props: RdsAlarmsProps) {
    super(scope, id);
    const cpuHighPercent = props.cpuHighPercent ?? RDS_ALARMS_DEFAULTS.cpuHighPercent;
    const connectionsHigh = props.connectionsHigh ?? RDS_ALARMS_DEFAULTS.connectionsHigh;
    const freeStorageLowGb = props.freeStorageLowGb ?? RDS_ALARMS_DEFAULTS.freeStorageLowGb;
    const freeMemoryLowMb = props.freeMemoryLowMb ?? RDS_ALARMS_DEFAULTS.freeMemoryLowMb;
    if (!LIMITS.alarmPercent.check(cpuHighPercent))
      throw propError(this, "cpuHighPercent", `${LIMITS.alarmPercent.rule} (got ${cpuHighPercent})`);
    this.check("connectionsHigh", connectionsHigh, Number.isInteger(connectionsHigh) && connectionsHigh > 0, "a whole number above 0");
    this.check("freeStorageLowGb", freeStorageLowGb, freeStorageLowGb > 0, "above 0");
    this.check("freeMemoryLowMb", freeMemoryLowMb, freeMemoryLowMb > 0, "above 0");

    this.thresholds = {
      cpuPercent: cpuHighPercent,
      connections: connectionsHigh,
      // CloudWatch reports both in bytes; whole bytes keep the thresholds exact (2 GiB = 2147483648).
      freeStorageBytes: Math.round(freeStorageLowGb * BYTES_PER_GIB),
      freeableMemoryBytes: Math.round(freeMemoryLowMb * BYTES_PER_MIB),
    };
    const db = props.instanceIdentifier;

    const specs: AlarmSpec[] = [
      {
        purpose: "cpu-high",
        metricName: "CPUUtilization",
        comparison: "GreaterThanThreshold",
        threshold: this.thresholds.cpuPercent,
        evaluationPeriods: 2,
        // The heartbeat: a running instance reports CPU every minute, so 10 minutes without a datapoint
        // means it stopped, failed or was deleted. One alarm pages for that; the others stay quiet.
        treatMissingData: "breaching",
        description: `RDS ${db}: average CPU above ${cpuHighPercent}% for 10 minutes, or no CPU data at all (instance stopped or failed).`,
      },
      {
        purpose: "connections-high",
        metricName: "DatabaseConnections",
        comparison: "GreaterThanThreshold",
        threshold: this.thresholds.connections,
        evaluationPeriods: 2,
        // No datapoints is not "too many connections"; the CPU alarm already reports a silent instance,
        // and `missing` would send an OK e-mail every time data resumed.
        treatMissingData: "notBreaching",
        description: `RDS ${db}: average connections above ${connectionsHigh} for 10 minutes; the instance class's max_connections is near.`,
      },
      {
        purpose: "free-storage-low",
        metricName: "FreeStorageSpace",
        comparison: "LessThanThreshold",
        threshold: this.thresholds.freeStorageBytes,
        // One period: a full disk stops writes at once, so there is no point waiting for a second sample.
        evaluationPeriods: 1,
        // A gap says nothing about disk space; the CPU alarm covers a silent instance.
        treatMissingData: "notBreaching",
        description: `RDS ${db}: free storage below ${freeStorageLowGb} GiB; writes stop when it reaches 0 (storage autoscaling may be at its ceiling).`,
      },
      {
        purpose: "freeable-memory-low",
        metricName: "FreeableMemory",
        comparison: "LessThanThreshold",
        threshold: this.thresholds.freeableMemoryBytes,
        evaluationPeriods: 2,
        // A gap says nothing about memory; the CPU alarm covers a silent instance.
        treatMissingData: "notBreaching",
        description: `RDS ${db}: freeable memory below ${freeMemoryLowMb} MiB for 10 minutes; the instance is swapping or about to.`,
      },
    ];

    const naming = Naming.of(this);
    const alarms = specs.map((spec) =>
      metricAlarm(this, spec.purpose, {
        alarmName: naming.name("rds", spec.purpose),
        description: spec.description,
        namespace: "AWS/RDS",
        metricName: spec.metricName,
        dimensions: { DBInstanceIdentifier: db },
        statistic: "Average",
        evaluationPeriods: spec.evaluationPeriods,
        comparison: spec.comparison,
        threshold: spec.threshold,
        treatMissingData: spec.treatMissingData,
        topicArn: props.topicArn,
      }),
    );
    this.alarmNames = alarms.map((a) => a.alarmName);
    this.alarmArns = alarms.map((a) => a.arn);
  }

  private check(prop: string, value: number, ok: boolean, allowed: string): void {
    if (!ok || !Number.isFinite(value)) throw propError(this, prop, `must be ${allowed} (got ${value})`);
  }
}
