import { WebDashboard } from "../../constructs/web-dashboard";
import { decodePolicy, onlyResource, synth, testStack } from "../helpers";

describe("WebDashboard", () => {
  test("one ALB row and one ECS row, a line per tenant", () => {
    const stack = testStack(undefined, "web");
    new WebDashboard(stack, "dashboard", {
      dashboardName: "Acme-test-Web",
      region: "us-east-1",
      clusterName: "acme-test-web",
      loadBalancerArnSuffix: "app/acme-test-web/123",
      services: [
        { label: "shop", serviceName: "acme-test-shop", targetGroupArnSuffix: "targetgroup/acme-test-shop/1" },
        { label: "blog", serviceName: "acme-test-blog", targetGroupArnSuffix: "targetgroup/acme-test-blog/2" },
      ],
    });
    const dashboard = onlyResource(synth(stack), "aws_cloudwatch_dashboard");
    expect(dashboard.dashboard_name).toBe("Acme-test-Web");
    const widgets = decodePolicy(dashboard.dashboard_body).widgets;
    expect(widgets.map((w: { properties: { title: string } }) => w.properties.title)).toEqual([
      "ALB requests per tenant",
      "ALB 5xx: targets per tenant, and the ALB's own",
      "Target response time (s, p95)",
      "ECS CPU utilization (%)",
      "ECS memory utilization (%)",
      "Healthy tasks per tenant",
    ]);
    expect(widgets[3].properties.metrics).toEqual([
      ["AWS/ECS", "CPUUtilization", "ClusterName", "acme-test-web", "ServiceName", "acme-test-shop", { label: "shop" }],
      ["AWS/ECS", "CPUUtilization", "ClusterName", "acme-test-web", "ServiceName", "acme-test-blog", { label: "blog" }],
    ]);
    expect(widgets[3].y).toBe(6);
  });
});
