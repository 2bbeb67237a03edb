import { Annotations } from "cdktf";
import type { Construct } from "constructs";
import type { EnvironmentConfig } from "../config/schema";
import { AlarmTopic } from "../constructs/alarm-topic";
import { RdsAlarms } from "../constructs/rds-alarms";
import { RdsDashboard } from "../constructs/rds-dashboard";
import type { ApplicationModule } from "./application";
import type { DataStack } from "./data";
import { EnvironmentStack } from "./environment-stack";
import { fromConfig } from "./config-errors";
import { OBSERVABILITY_OUTPUTS } from "./outputs";

export interface ObservabilityStackProps {
  readonly config: EnvironmentConfig;
  readonly data: DataStack;
  readonly app: ApplicationModule;
}

/**
 * `<env>-observability`: the alert topic and its e-mail subscriptions, the four RDS alarms and the
 * RDS dashboard on the data stack's instance, then the application's own alarms on the same topic.
 */
export class ObservabilityStack extends EnvironmentStack {
  /** The topic every alarm of the environment notifies (`topicArn`). */
  readonly alarmTopic: AlarmTopic;
  readonly alarms: RdsAlarms;
  readonly dashboard: RdsDashboard;
  /** The application's own alarms (SafeBucket: queues, cache, bucket); empty when it has none. */
  readonly componentAlarmNames: string[];

  constructor(scope: Construct, props: ObservabilityStackProps) {
    super(scope, { config: props.config, layer: "observability" });
    const { monitoring, region } = this.config;
    const instanceIdentifier = props.data.database.instanceIdentifier;
    warnWhenAlarmsReachNobody(this, this.config);

    const { app } = props;
    this.alarmTopic = new AlarmTopic(this, app.alertTopic.id, {
      topicName: this.naming.name(...app.alertTopic.nameParts),
      emails: monitoring.alarmEmails,
    });

    this.alarms = fromConfig(
      this.config,
      "monitoring",
      () =>
        new RdsAlarms(this, "rds-alarms", {
          instanceIdentifier,
          topicArn: this.alarmTopic.topicArn,
          cpuHighPercent: monitoring.cpuHighPercent,
          connectionsHigh: monitoring.connectionsHigh,
          freeStorageLowGb: monitoring.freeStorageLowGb,
          freeMemoryLowMb: monitoring.freeMemoryLowMb,
        }),
    );

    this.dashboard = new RdsDashboard(this, "rds-dashboard", {
      instanceIdentifier,
      region,
      alarmThresholds: this.alarms.thresholds,
    });

    this.componentAlarmNames = app.addObservability?.(this) ?? [];

    this.declareOutputs(OBSERVABILITY_OUTPUTS, {
      snsTopicArn: { value: this.alarmTopic.topicArn, description: "ARN of the topic every alarm notifies" },
      dashboardName: { value: this.dashboard.dashboardName, description: "CloudWatch dashboard of the RDS instance" },
      alarmNames: { value: this.alarms.alarmNames, description: "CloudWatch alarms on the RDS instance" },
      componentAlarmNames:
        this.componentAlarmNames.length > 0
          ? { value: this.componentAlarmNames, description: "CloudWatch alarms of the application (SafeBucket: queues, cache, bucket)" }
          : undefined,
    });
  }
}

/** RFC 2606 domains: mail to them is never delivered, so a subscription there never confirms. */
const EXAMPLE_DOMAIN = /@(.+\.)?example\.(com|org|net)$/i;

/** Synth warnings for alarm settings that deploy cleanly but notify no one. */
function warnWhenAlarmsReachNobody(stack: EnvironmentStack, config: EnvironmentConfig): void {
  const emails = config.monitoring.alarmEmails;
  if (config.production && emails.length === 0) {
    Annotations.of(stack).addWarning(
      `monitoring.alarmEmails: empty in production environment ${config.environment}; the alarms will fire and reach nobody (add an address, then confirm its subscription e-mail)`,
    );
  }
  emails.forEach((email, i) => {
    if (EXAMPLE_DOMAIN.test(email)) {
      Annotations.of(stack).addWarning(
        `monitoring.alarmEmails[${i}]: ${email} is a reserved example domain that receives no mail; replace it with a real address`,
      );
    }
  });
}
