import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import type { Construct } from "constructs";

export type AlarmStatistic = "Average" | "Sum" | "Minimum" | "Maximum" | "SampleCount";
export type AlarmComparison = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold";
/** What a period without datapoints counts as. */
export type MissingData = "missing" | "ignore" | "breaching" | "notBreaching";

export interface MetricAlarmProps {
  /** The alarm's name, from the naming helper (`<project>-<env>-<purpose>`). */
  readonly alarmName: string;
  /** What fired and what to look at: the first line a person reads in the notification. */
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: AlarmStatistic;
  /**
   * Seconds per evaluated datapoint.
   * @default 300 - most AWS metrics arrive every minute; five minutes rides out a single spike or late point
   */
  readonly periodSeconds?: number;
  readonly evaluationPeriods: number;
  readonly comparison: AlarmComparison;
  readonly threshold: number;
  /**
   * @default "notBreaching" - a gap says nothing about the measured thing; one heartbeat alarm per
   * resource (treating gaps as breaching) reports a silent resource instead
   */
  readonly treatMissingData?: MissingData;
  /** SNS topic that gets both the ALARM and the OK notification. */
  readonly topicArn: string;
}

/**
 * The one shape of every CloudWatch alarm of the project: a named metric, its dimensions, and both
 * the ALARM and the OK notification to one topic (OK tells the people who got the alarm that it is
 * over). The resource is created directly under `scope` with `id`, so callers keep their addresses.
 */
export function metricAlarm(scope: Construct, id: string, props: MetricAlarmProps): CloudwatchMetricAlarm {
  return new CloudwatchMetricAlarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: props.description,
    namespace: props.namespace,
    metricName: props.metricName,
    dimensions: { ...props.dimensions },
    statistic: props.statistic,
    period: props.periodSeconds ?? 300,
    evaluationPeriods: props.evaluationPeriods,
    comparisonOperator: props.comparison,
    threshold: props.threshold,
    treatMissingData: props.treatMissingData ?? "notBreaching",
    alarmActions: [props.topicArn],
    okActions: [props.topicArn],
    tags: { Name: props.alarmName },
  });
}
