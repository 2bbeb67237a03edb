import { EcsCluster } from "../../constructs/ecs-cluster";
import { onlyResource, resourcesOf, synth, testConfig, testStack } from "../helpers";

function cluster(props: Partial<ConstructorParameters<typeof EcsCluster>[2]> = {}) {
  const stack = testStack(testConfig(), "services");
  new EcsCluster(stack, "cluster", { clusterName: "acme-test-cluster", ...props });
  return synth(stack);
}

describe("EcsCluster", () => {
  test("Container Insights is on by default", () => {
    expect(onlyResource(cluster(), "aws_ecs_cluster").setting).toEqual([{ name: "containerInsights", value: "enabled" }]);
  });

  test("the cluster takes the name it is given, whatever its construct id", () => {
    expect(onlyResource(cluster({ clusterName: "acme-test-web" }), "aws_ecs_cluster").name).toBe("acme-test-web");
    expect(() => cluster({ clusterName: "bad name" })).toThrow(/clusterName must be 1-255/);
  });

  test("both Fargate capacity providers are registered and on-demand Fargate is the default", () => {
    const providers = onlyResource(cluster(), "aws_ecs_cluster_capacity_providers");
    expect(providers.capacity_providers).toEqual(["FARGATE", "FARGATE_SPOT"]);
    expect(providers.default_capacity_provider_strategy).toEqual([{ capacity_provider: "FARGATE", base: 1, weight: 1 }]);
  });

  test("a namespace is a private DNS namespace in the given VPC", () => {
    const namespace = onlyResource(
      cluster({ namespace: { name: "acme.local", vpcId: "vpc-123" } }),
      "aws_service_discovery_private_dns_namespace",
    );
    expect(namespace).toMatchObject({ name: "acme.local", vpc: "vpc-123" });
  });

  test("without a namespace no DNS namespace is created", () => {
    expect(resourcesOf(cluster(), "aws_service_discovery_private_dns_namespace")).toHaveLength(0);
  });

  test("a namespace that is not a DNS domain is rejected naming the prop", () => {
    expect(() => cluster({ namespace: { name: "Not A Domain", vpcId: "vpc-123" } })).toThrow(/namespace\.name must be a DNS domain/);
  });
});
