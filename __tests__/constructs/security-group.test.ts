import { Testing } from "cdktf";
import { Peer, SecurityGroup } from "../../constructs/security-group";
import { EnvironmentStack } from "../../stacks/environment-stack";
import { onlyResource, referenceTo, resourceJson, resourcesOf, synth, testConfig, testStack } from "../helpers";

const VPC = "vpc-0123456789abcdef0";

function twoGroups() {
  const stack = testStack(testConfig(), "network");
  const app = new SecurityGroup(stack, "app", { groupName: "acme-test-app", vpcId: VPC, description: "Application servers" });
  const db = new SecurityGroup(stack, "db", { groupName: "acme-test-db", vpcId: VPC, description: "Database" });
  return { stack, app, db };
}

describe("SecurityGroup", () => {
  test("group is named from the environment and carries its description", () => {
    const { stack } = twoGroups();
    const groups = resourcesOf(synth(stack), "aws_security_group");
    expect(groups.map((g) => [g.name, g.description, g.tags.Name])).toEqual([
      ["acme-test-app", "Application servers", "acme-test-app"],
      ["acme-test-db", "Database", "acme-test-db"],
    ]);
  });

  test("a new group has no inline rules, so separate rule resources are the only rules", () => {
    const { stack } = twoGroups();
    for (const group of resourcesOf(synth(stack), "aws_security_group")) {
      expect(group.ingress).toBeUndefined();
      expect(group.egress).toBeUndefined();
    }
    expect(resourcesOf(synth(stack), "aws_vpc_security_group_ingress_rule")).toHaveLength(0);
  });

  test("allowFrom adds one TCP ingress rule on this group naming the peer group", () => {
    const { stack, app, db } = twoGroups();
    db.allowFrom(app, 5432, "PostgreSQL from the app");
    const json = synth(stack);
    expect(resourcesOf(json, "aws_vpc_security_group_egress_rule")).toHaveLength(0);
    expect(onlyResource(json, "aws_vpc_security_group_ingress_rule")).toMatchObject({
      security_group_id: referenceTo(db.groupResource),
      referenced_security_group_id: referenceTo(app.groupResource),
      ip_protocol: "tcp",
      from_port: 5432,
      to_port: 5432,
      description: "PostgreSQL from the app",
    });
  });

  test("allowTo an IPv4 range adds one TCP egress rule to that range only", () => {
    const { stack, app } = twoGroups();
    app.allowTo(Peer.anyIpv4(), 443, "HTTPS out");
    const rule = onlyResource(synth(stack), "aws_vpc_security_group_egress_rule");
    expect(rule).toMatchObject({ cidr_ipv4: "0.0.0.0/0", ip_protocol: "tcp", from_port: 443, to_port: 443, description: "HTTPS out" });
    expect(rule.referenced_security_group_id).toBeUndefined();
  });

  test("the same rule twice is rejected naming the peer and port", () => {
    const { app, db } = twoGroups();
    db.allowFrom(app, 5432, "PostgreSQL from the app");
    expect(() => db.allowFrom(app, 5432, "again")).toThrow(/rule from app on port 5432 already exists/);
  });

  test("a port outside 1-65535 is rejected naming the verb", () => {
    const { app } = twoGroups();
    expect(() => app.allowTo(Peer.anyIpv4(), 70000, "too high")).toThrow(/allowTo port must be a whole number 1-65535 \(got 70000\)/);
  });

  test("a description with characters EC2 refuses is rejected before apply", () => {
    const { app, db } = twoGroups();
    expect(() => db.allowFrom(app, 5432, "the app's PostgreSQL")).toThrow(/allowFrom description must be/);
    const stack = testStack(testConfig(), "network");
    expect(() => new SecurityGroup(stack, "x", { groupName: "acme-test-x", vpcId: VPC, description: "" })).toThrow(
      /description must be 1-255/,
    );
  });

  test("rules name their peer by its rule label, from the group name, not by its construct id", () => {
    const stack = testStack(testConfig(), "network");
    const db = new SecurityGroup(stack, "database", { vpcId: VPC, description: "Database", groupName: "acme-test-db-sg" });
    const app = new SecurityGroup(stack, "renamed", { vpcId: VPC, description: "App", groupName: "acme-test-app-sg" });
    const rule = db.allowFrom(app, 5432, "PostgreSQL from the app");
    expect(app.ruleLabel).toBe("app-sg");
    expect(rule.node.id).toBe("from-app-sg-5432");
    expect(resourceJson(synth(stack), rule).tags).toEqual({ Name: "acme-test-db-sg-from-app-sg-5432" });
  });

  test("ruleLabel, when given, is what rules call the group", () => {
    const stack = testStack(testConfig(), "network");
    const db = new SecurityGroup(stack, "db", { groupName: "acme-test-db", vpcId: VPC, description: "Database" });
    const lb = new SecurityGroup(stack, "sg", { vpcId: VPC, description: "LB", groupName: "acme-test-alb-sg", ruleLabel: "lb" });
    expect(db.allowFrom(lb, 8080, "From the load balancer").node.id).toBe("from-lb-8080");
    expect(() => new SecurityGroup(stack, "bad", { groupName: "acme-test-bad", vpcId: VPC, description: "x", ruleLabel: "a b" })).toThrow(
      /ruleLabel must be/,
    );
  });

  test("a name starting with sg- is rejected", () => {
    const stack = testStack(testConfig(), "network");
    expect(() => new SecurityGroup(stack, "x", { vpcId: VPC, description: "x", groupName: "sg-app" })).toThrow(/groupName must not start/);
  });

  describe("across stacks", () => {
    function twoStacks() {
      const app = Testing.app();
      const config = testConfig();
      const network = new EnvironmentStack(app, { config, layer: "network" });
      const data = new EnvironmentStack(app, { config, layer: "data" });
      const backend = new SecurityGroup(network, "backend-sg", { groupName: "acme-test-backend-sg", vpcId: VPC, description: "Backend" });
      const cache = new SecurityGroup(data, "cache", { groupName: "acme-test-cache", vpcId: VPC, description: "Cache" });
      return { network, data, backend, cache };
    }

    /** Prepares the later stack as app synth does: references to the other stack become remote state. */
    function synthPrepared(...stacks: EnvironmentStack[]) {
      for (const stack of stacks) stack.prepareStack();
      return stacks.map(synth);
    }

    test("a rule the later stack adds lives in the later stack", () => {
      const { network, data, backend, cache } = twoStacks();
      cache.allowFrom(backend, 6379, "Redis from the backend");
      const [networkJson, dataJson] = synthPrepared(network, data);
      expect(resourcesOf(networkJson, "aws_vpc_security_group_ingress_rule")).toHaveLength(0);
      expect(onlyResource(dataJson, "aws_vpc_security_group_ingress_rule").referenced_security_group_id).toMatch(/terraform_remote_state/);
    });

    test("a rule an earlier group opens to a later group also lives in the later stack, so no cycle", () => {
      const { network, data, backend, cache } = twoStacks();
      backend.allowTo(cache, 6379, "Redis to the cache");
      const [networkJson, dataJson] = synthPrepared(network, data);
      expect(resourcesOf(networkJson, "aws_vpc_security_group_egress_rule")).toHaveLength(0);
      const rule = onlyResource(dataJson, "aws_vpc_security_group_egress_rule");
      expect(rule.security_group_id).toMatch(/terraform_remote_state/);
      expect(rule.referenced_security_group_id).toBe(referenceTo(cache.groupResource));
    });
  });
});
