import { EcsCluster as AwsEcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";
import { ServiceDiscoveryPrivateDnsNamespace } from "@cdktf/provider-aws/lib/service-discovery-private-dns-namespace";
import type { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import { Naming } from "./naming";
import { propError } from "./errors";

/** Fargate's two capacity providers: on-demand, and Spot (up to 70% cheaper, interrupted with 2 minutes' notice). */
export type FargateCapacity = "FARGATE" | "FARGATE_SPOT";

export interface EcsClusterProps {
  /** The cluster's name: the caller's, never derived from the construct id. */
  readonly clusterName: string;
  /**
   * CloudWatch Container Insights: per-task CPU, memory and network metrics. `enhanced` adds
   * per-container detail at a higher metric cost.
   * @default "enabled"
   */
  readonly containerInsights?: "enabled" | "enhanced" | "disabled";
  /**
   * A private DNS namespace (Cloud Map) in the VPC, so services find each other by name
   * (`loki.<namespace>`) instead of by task IP, which changes at every deployment.
   * @default - no namespace
   */
  readonly namespace?: { readonly name: string; readonly vpcId: string };
}

/**
 * An ECS cluster for Fargate tasks: Container Insights on, both Fargate capacity providers
 * registered (services pick one; the default is on-demand FARGATE), and optionally the private DNS
 * namespace its services register in.
 */
export class EcsCluster extends Construct {
  readonly clusterName: string;
  readonly clusterArn: string;
  /** Undefined without `namespace`. */
  readonly namespaceId?: string;
  /** Undefined without `namespace`. */
  readonly namespaceName?: string;
  /**
   * What a service using a capacity provider must wait for: ECS rejects a strategy naming a
   * provider not yet attached to the cluster.
   */
  readonly capacityProviders: ITerraformDependable;

  constructor(scope: Construct, id: string, props: EcsClusterProps) {
    super(scope, id);
    const naming = Naming.of(this);
    const clusterName = props.clusterName;
    const containerInsights = props.containerInsights ?? "enabled";
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(clusterName)) {
      throw propError(this, `clusterName`, `must be 1-255 of letters, digits, '-' and '_' (got "${clusterName}")`);
    }

    const cluster = new AwsEcsCluster(this, "cluster", {
      name: clusterName,
      setting: [{ name: "containerInsights", value: containerInsights }],
      tags: { Name: clusterName },
    });
    this.clusterName = cluster.name;
    this.clusterArn = cluster.arn;

    this.capacityProviders = new EcsClusterCapacityProviders(this, "capacity-providers", {
      clusterName: cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", base: 1, weight: 1 }],
    });

    if (props.namespace) {
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(props.namespace.name)) {
        throw propError(this, `namespace.name`, `must be a DNS domain such as app.local (got "${props.namespace.name}")`);
      }
      const namespace = new ServiceDiscoveryPrivateDnsNamespace(this, "namespace", {
        name: props.namespace.name,
        vpc: props.namespace.vpcId,
        description: `Private DNS names of the ${clusterName} services, resolvable only inside the VPC`,
        tags: naming.tags(id, "namespace"),
      });
      this.namespaceId = namespace.id;
      this.namespaceName = props.namespace.name;
    }
  }
}
