import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Fn } from "cdktf";
import { Construct } from "constructs";
import { propError } from "./errors";

/** One load-balanced ECS service of the dashboard. */
export interface WebDashboardService {
  /** How the graphs label it (the tenant). */
  readonly label: string;
  readonly serviceName: string;
  /** `targetgroup/<name>/<id>` of its target group. */
  readonly targetGroupArnSuffix: string;
}

export interface WebDashboardProps {
  /** The dashboard's name (`Startupwebapp-prod-Web`). */
  readonly dashboardName: string;
  readonly region: string;
  readonly clusterName: string;
  /** `app/<name>/<id>` of the load balancer. */
  readonly loadBalancerArnSuffix: string;
  readonly services: readonly WebDashboardService[];
  /**
   * Seconds per datapoint.
   * @default 300 - the alarms' period, so the graphs show what the alarms see
   */
  readonly periodSeconds?: number;
}

const WIDTH = 8;
const HEIGHT = 6;

/**
 * The web layer's CloudWatch dashboard: one row for the load balancer (requests, 5xx from the targets
 * and from the load balancer itself, response time per tenant) and one for ECS (CPU and memory per
 * tenant service, healthy tasks per target group).
 */
export class WebDashboard extends Construct {
  readonly dashboardName: string;

  constructor(scope: Construct, id: string, props: WebDashboardProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(props.dashboardName)) {
      throw propError(this, "dashboardName", `must be 1-255 of letters, digits, '-' and '_' (got "${props.dashboardName}")`);
    }
    const period = props.periodSeconds ?? 300;
    const lb = props.loadBalancerArnSuffix;
    const perTarget = (metric: string, stat: string) =>
      props.services.map((s) => [
        "AWS/ApplicationELB",
        metric,
        "LoadBalancer",
        lb,
        "TargetGroup",
        s.targetGroupArnSuffix,
        { label: s.label, stat },
      ]);
    const perService = (metric: string) =>
      props.services.map((s) => ["AWS/ECS", metric, "ClusterName", props.clusterName, "ServiceName", s.serviceName, { label: s.label }]);
    const widget = (i: number, title: string, metrics: unknown[], extra: Record<string, unknown> = {}) => ({
      type: "metric",
      x: (i % 3) * WIDTH,
      y: Math.floor(i / 3) * HEIGHT,
      width: WIDTH,
      height: HEIGHT,
      properties: { title, region: props.region, view: "timeSeries", stacked: false, period, metrics, ...extra },
    });
    const widgets = [
      widget(0, "ALB requests per tenant", perTarget("RequestCount", "Sum")),
      widget(1, "ALB 5xx: targets per tenant, and the ALB's own", [
        ...perTarget("HTTPCode_Target_5XX_Count", "Sum"),
        ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb, { label: "ALB", stat: "Sum" }],
      ]),
      widget(2, "Target response time (s, p95)", perTarget("TargetResponseTime", "p95")),
      widget(3, "ECS CPU utilization (%)", perService("CPUUtilization"), { stat: "Average", yAxis: { left: { min: 0, max: 100 } } }),
      widget(4, "ECS memory utilization (%)", perService("MemoryUtilization"), { stat: "Average", yAxis: { left: { min: 0, max: 100 } } }),
      widget(5, "Healthy tasks per tenant", perTarget("HealthyHostCount", "Minimum"), { yAxis: { left: { min: 0 } } }),
    ];
    const dashboard = new CloudwatchDashboard(this, "dashboard", {
      dashboardName: props.dashboardName,
      // jsonencode: the dimension values are references to the load balancer and its target groups.
      dashboardBody: Fn.jsonencode({ widgets }),
    });
    this.dashboardName = dashboard.dashboardName;
  }
}
