import { RedisCache, RedisCacheAlarms, type RedisCacheProps } from "../../constructs/redis-cache";
import { Role } from "../../constructs/role";
import { bare, type Json, onlyResource, resourceAt, resourcesOf, synth, synthWithHandles, testStack } from "../helpers";

const BASE = { subnetGroupName: "acme-test-cache", securityGroupIds: ["sg-0123456789abcdef0"] };

function redis(props: Partial<RedisCacheProps> = {}) {
  const stack = testStack();
  const cache = new RedisCache(stack, "redis", { ...BASE, ...props });
  return { stack, cache, json: synth(stack) };
}

const group = (json: Json): Json => onlyResource(json, "aws_elasticache_replication_group");
const userNamed = (json: Json, name: string): Json => {
  const found = resourcesOf(json, "aws_elasticache_user").filter((u) => u.user_name === name);
  if (found.length !== 1) throw new Error(`expected one user named ${name}, found ${found.length}`);
  return found[0];
};

describe("RedisCache", () => {
  test("Redis 7 in the given subnet group and security groups, on 6379", () => {
    expect(group(redis().json)).toMatchObject({
      replication_group_id: "acme-test-redis",
      engine: "redis",
      engine_version: "7.1",
      node_type: "cache.t4g.micro",
      subnet_group_name: "acme-test-cache",
      security_group_ids: ["sg-0123456789abcdef0"],
      port: 6379,
    });
  });

  test("encrypted at rest and in transit, plaintext refused", () => {
    expect(group(redis().json)).toMatchObject({
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
      transit_encryption_mode: "required",
    });
  });

  test("the user group is attached to the replication group and holds the app and default users", () => {
    const { json } = redis();
    const users = onlyResource(json, "aws_elasticache_user_group");
    const [userGroup] = group(json).user_group_ids;
    expect(resourceAt(json, userGroup)).toBe(users);
    expect(users.user_ids.map((id: string) => resourceAt(json, id).user_name)).toEqual(["default", "acme-test-redis-app"]);
  });

  test("the default user is switched off with no permissions, under its own user id", () => {
    const user = userNamed(redis().json, "default");
    expect(user).toMatchObject({ user_id: "acme-test-redis-default", access_string: "off -@all" });
    expect(user.user_id).not.toBe("default");
  });

  test("the app user authenticates through IAM: no password anywhere in the JSON", () => {
    const { json } = redis();
    const app = userNamed(json, "acme-test-redis-app");
    expect(app).toMatchObject({ user_id: "acme-test-redis-app", authentication_mode: { type: "iam" } });
    for (const user of resourcesOf(json, "aws_elasticache_user")) {
      expect(user.passwords).toBeUndefined();
      expect(user.authentication_mode.passwords).toBeUndefined();
    }
    expect(group(json).auth_token).toBeUndefined();
  });

  test("no secret is exposed: IAM auth needs none", () => {
    expect(redis().cache.secretArn).toBeUndefined();
  });

  test("parameter group redis7 evicts with allkeys-lru", () => {
    const { json } = redis();
    const parameters = onlyResource(json, "aws_elasticache_parameter_group");
    expect(parameters.family).toBe("redis7");
    expect(parameters.parameter).toEqual([{ name: "maxmemory-policy", value: "allkeys-lru" }]);
    expect(resourceAt(json, group(json).parameter_group_name)).toBe(parameters);
  });

  test("the slow log goes to a CloudWatch log group with retention", () => {
    const { json } = redis({ slowLogRetentionDays: 7 });
    const logGroup = onlyResource(json, "aws_cloudwatch_log_group");
    expect(logGroup).toMatchObject({ name: "/aws/elasticache/acme-test-redis/slow-log", retention_in_days: 7 });
    expect(group(json).log_delivery_configuration).toEqual([
      expect.objectContaining({ destination_type: "cloudwatch-logs", log_type: "slow-log", log_format: "json" }),
    ]);
  });

  test("snapshots and maintenance follow the given windows", () => {
    expect(
      group(redis({ snapshotRetentionDays: 1, snapshotWindow: "02:00-03:00", maintenanceWindow: "mon:04:00-mon:05:00" }).json),
    ).toMatchObject({
      snapshot_retention_limit: 1,
      snapshot_window: "02:00-03:00",
      maintenance_window: "mon:04:00-mon:05:00",
    });
  });

  test("one node: no Multi-AZ, no automatic failover", () => {
    expect(group(redis().json)).toMatchObject({ num_cache_clusters: 1, multi_az_enabled: false, automatic_failover_enabled: false });
  });

  test("two or more nodes: Multi-AZ with automatic failover", () => {
    expect(group(redis({ numNodes: 2 }).json)).toMatchObject({
      num_cache_clusters: 2,
      multi_az_enabled: true,
      automatic_failover_enabled: true,
    });
  });

  test("a final snapshot is taken on destroy unless turned off", () => {
    // named after the group's creation time and then frozen, like the RDS instance's (no DBSnapshotAlreadyExists on a second destroy)
    expect(group(redis().json).final_snapshot_identifier).toBe('acme-test-redis-final-${formatdate("YYYYMMDDhhmmss", timestamp())}');
    expect(group(redis().json).lifecycle.ignore_changes).toEqual(["final_snapshot_identifier"]);
    expect(group(redis({ finalSnapshot: false }).json).final_snapshot_identifier).toBeUndefined();
  });

  test("grantConnect allows elasticache:Connect on this group and this user only", () => {
    const stack = testStack(undefined, "access");
    const cache = new RedisCache(stack, "redis", BASE);
    const role = new Role(stack, "app-role", { roleName: "acme-test-app-role", assumedBy: ["ecs-tasks.amazonaws.com"] });
    cache.grantConnect(role);
    const { json, refs } = synthWithHandles(stack, { group: cache.replicationGroupArn, user: cache.userArn });
    const policy = onlyResource(json, "aws_iam_role_policy").policy as string;
    expect(policy).toContain(`"Action" = ["elasticache:Connect"], "Resource" = [${bare(refs.group)}, ${bare(refs.user)}]`);
  });

  test("invalid props are rejected naming the prop", () => {
    expect(() => redis({ numNodes: 7 })).toThrow(/numNodes must be between 1 and 6 \(got 7\)/);
    expect(() => redis({ replicationGroupId: "a".repeat(33) })).toThrow(/replicationGroupId must be 2-32/);
    expect(() => redis({ slowLogRetentionDays: 2 })).toThrow(/slowLogRetentionDays must be one of/);
    expect(() => redis({ securityGroupIds: [] })).toThrow(/securityGroupIds needs at least one group/);
  });
});

describe("RedisCacheAlarms", () => {
  test("engine CPU and memory alarms on every node of the group", () => {
    const stack = testStack(undefined, "observability");
    const cache = new RedisCache(stack, "redis", { ...BASE, numNodes: 2 });
    new RedisCacheAlarms(stack, "redis-alarms", { cache, topicArn: "arn:topic", memoryHighPercent: 85 });
    const alarms = resourcesOf(synth(stack), "aws_cloudwatch_metric_alarm");
    expect(alarms.map((a) => `${a.dimensions.CacheClusterId} ${a.metric_name} ${a.threshold}`).sort()).toEqual([
      "acme-test-redis-001 DatabaseMemoryUsagePercentage 85",
      "acme-test-redis-001 EngineCPUUtilization 70",
      "acme-test-redis-002 DatabaseMemoryUsagePercentage 85",
      "acme-test-redis-002 EngineCPUUtilization 70",
    ]);
    for (const alarm of alarms)
      expect(alarm).toMatchObject({ namespace: "AWS/ElastiCache", alarm_actions: ["arn:topic"], ok_actions: ["arn:topic"] });
  });
});
