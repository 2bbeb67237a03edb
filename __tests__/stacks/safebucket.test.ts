import { overlaps, parseCidr } from "../../config/cidr";
import type { EnvironmentConfig } from "../../config/schema";
import type { EnvironmentStacks } from "../../stacks";
import { SAFEBUCKET_NETWORK_OUTPUTS } from "../../stacks/safebucket/outputs";
import {
  allStrings,
  configProblems,
  decodePolicy,
  MINIMAL_DOCUMENT,
  onlyResource,
  preparedEnvironment,
  resourcesOf,
  referenceOf,
  resourcesUnder,
  resourceUnder,
  safeBucketTestConfig,
  shippedConfig,
  shippedStartupWebApp,
  synth,
  testEnvironment,
  type Json,
} from "../helpers";

function build(config: EnvironmentConfig) {
  const stacks = testEnvironment(config);
  return {
    stacks,
    network: synth(stacks.network),
    data: synth(stacks.data),
    access: synth(stacks.access),
    observability: synth(stacks.observability),
    services: stacks.services && synth(stacks.services),
  };
}

/** SafeBucket's task role's inline policy, decoded. */
function taskPolicy({ stacks, services }: ReturnType<typeof build>): Json[] {
  return decodePolicy(resourceUnder(services!, stacks.services!.safebucket.taskRole, "aws_iam_role_policy").policy).Statement;
}

/** The backend role's inline policy, decoded. */
function backendPolicy({ stacks, access }: { stacks: EnvironmentStacks; access: Json }): Json[] {
  return decodePolicy(resourceUnder(access, stacks.access.backendRole, "aws_iam_role_policy").policy).Statement;
}

const actionsOf = (statements: Json[]): string[] => statements.flatMap((s) => s.Action as string[]);

describe("SafeBucket environments", () => {
  const prod = build(shippedConfig("safebucket-prod"));
  const dev = build(shippedConfig("safebucket-dev"));

  test("every stack of both environments synthesizes with the guardrails on", () => {
    for (const name of ["safebucket-dev", "safebucket-prod"]) {
      const stacks = testEnvironment(shippedConfig(name));
      for (const stack of Object.values(stacks)) expect(() => synth(stack)).not.toThrow();
    }
  });

  test("both run in their own VPCs, overlapping neither each other nor StartupWebApp's", () => {
    const cidrs = ["dev", "prod", "safebucket-dev", "safebucket-prod"].map((name) => shippedConfig(name).network.vpcCidr);
    const blocks = cidrs.map((c) => parseCidr(c)!);
    blocks.forEach((a, i) =>
      blocks
        .slice(i + 1)
        .forEach((b, j) => expect([cidrs[i], cidrs[i + 1 + j], overlaps(a, b)]).toEqual([cidrs[i], cidrs[i + 1 + j], false])),
    );
  });

  test("SafeBucket's sizing: prod cache.t3.small on two nodes with failover, dev one cache.t3.micro", () => {
    expect(resourcesOf(prod.data, "aws_elasticache_replication_group")[0]).toMatchObject({
      node_type: "cache.t3.small",
      num_cache_clusters: 2,
      multi_az_enabled: true,
      automatic_failover_enabled: true,
    });
    expect(resourcesOf(dev.data, "aws_elasticache_replication_group")[0]).toMatchObject({
      node_type: "cache.t3.micro",
      num_cache_clusters: 1,
    });
    expect(resourcesOf(prod.data, "aws_db_instance")[0]).toMatchObject({ instance_class: "db.t3.medium", backup_retention_period: 30 });
    expect(resourcesOf(dev.data, "aws_db_instance")[0]).toMatchObject({ instance_class: "db.t3.micro", backup_retention_period: 1 });
  });

  test("the cache runs in its own subnet group over the private subnets", () => {
    const [subnetGroup] = resourcesOf(prod.network, "aws_elasticache_subnet_group");
    expect(subnetGroup.name).toBe("safebucket-prod-cache");
    expect(subnetGroup.subnet_ids).toEqual(resourcesOf(prod.network, "aws_db_subnet_group")[0].subnet_ids);
  });

  test("Redis 6379 is open only from the backend group, and the backend may reach it", () => {
    const backendGroup = prod.stacks.network.securityGroups.backend;
    const backend = referenceOf(backendGroup, backendGroup.securityGroupId);
    const cache = prod.network.output[SAFEBUCKET_NETWORK_OUTPUTS.cacheSecurityGroupId].value;
    const ingress = resourcesOf(prod.network, "aws_vpc_security_group_ingress_rule").filter((r) => r.from_port === 6379);
    expect(ingress).toHaveLength(1);
    expect(ingress[0]).toMatchObject({
      to_port: 6379,
      ip_protocol: "tcp",
      security_group_id: cache,
      referenced_security_group_id: backend,
    });
    expect(ingress[0].cidr_ipv4).toBeUndefined();
    const egress = resourcesOf(prod.network, "aws_vpc_security_group_egress_rule").filter((r) => r.from_port === 6379);
    expect(egress.map((r) => [r.security_group_id, r.referenced_security_group_id])).toEqual([[backend, cache]]);
  });

  test("data stack outputs are named like SafeBucket's", () => {
    expect(Object.keys(prod.data.output)).toEqual(
      expect.arrayContaining([
        "bucket_name",
        "bucket_arn",
        "s3_events_queue_url",
        "notifications_queue_url",
        "object_deletion_queue_url",
        "redis_endpoint",
        "redis_port",
      ]),
    );
  });

  test("bucket events reach the s3-events queue", () => {
    const [notification] = resourcesOf(prod.data, "aws_s3_bucket_notification");
    expect(notification.queue[0].queue_arn).toMatch(/aws_sqs_queue\.queues_s3-events_queue_/);
  });

  test("SafeBucket's task role gets exactly the object actions, the queues' actions and cache connect", () => {
    const statements = taskPolicy(prod);
    expect(actionsOf(statements).sort()).toEqual(
      [
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:ListBucket",
        ...Array(3)
          .fill(["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"])
          .flat(),
        ...Array(2).fill(["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]).flat(),
        "elasticache:Connect",
      ].sort(),
    );
    for (const s of statements) expect(s.Resource).not.toContain("*");
  });

  test("nothing sends to the events queue but S3", () => {
    const sends = taskPolicy(prod).filter((s) => (s.Action as string[]).includes("sqs:SendMessage"));
    const resources = allStrings(sends.map((s) => s.Resource));
    expect(resources).toHaveLength(2);
    expect(resources.join(" ")).not.toMatch(/s3-events|s3_events/);
  });

  test("alarms: each DLQ not empty, each queue's oldest message, Redis CPU and memory per node", () => {
    const alarms = resourcesOf(prod.observability, "aws_cloudwatch_metric_alarm").map((a) => `${a.namespace} ${a.metric_name}`);
    const count = (what: string) => alarms.filter((a) => a === what).length;
    expect(count("AWS/SQS ApproximateNumberOfMessagesVisible")).toBe(3);
    expect(count("AWS/SQS ApproximateAgeOfOldestMessage")).toBe(3);
    expect(count("AWS/ElastiCache EngineCPUUtilization")).toBe(2);
    expect(count("AWS/ElastiCache DatabaseMemoryUsagePercentage")).toBe(2);
    // Request metrics are off in both shipped configs: no billed metrics, no 5xx alarm.
    expect(count("AWS/S3 5xxErrors")).toBe(0);
    expect(resourcesOf(prod.data, "aws_s3_bucket_metric")).toHaveLength(0);
  });

  test("turning request metrics on adds the bucket's metrics configuration and a 5xx alarm on it", () => {
    const withMetrics = build(shippedConfig("safebucket-prod", { objectStorage: { requestMetrics: true } }));
    expect(resourcesOf(withMetrics.data, "aws_s3_bucket_metric")).toHaveLength(1);
    const [alarm] = resourcesOf(withMetrics.observability, "aws_cloudwatch_metric_alarm").filter((a) => a.metric_name === "5xxErrors");
    expect(alarm.dimensions.FilterId).toBe("EntireBucket");
    expect(alarm.dimensions.BucketName).toMatch(/^\$\{.+\}$/);
  });

  test("no password or token reaches the synthesized JSON of the cache", () => {
    for (const user of resourcesOf(prod.data, "aws_elasticache_user")) expect(user.passwords).toBeUndefined();
    expect(resourcesOf(prod.data, "aws_elasticache_replication_group")[0].auth_token).toBeUndefined();
  });
});

describe("environments without SafeBucket's components", () => {
  test("StartupWebApp's prod gets no bucket, queue, cache or component alarm", () => {
    const swa = build(shippedStartupWebApp("prod"));
    expect(resourcesOf(swa.network, "aws_elasticache_subnet_group")).toHaveLength(0);
    for (const type of ["aws_s3_bucket", "aws_sqs_queue", "aws_elasticache_replication_group"])
      expect(resourcesOf(swa.data, type)).toHaveLength(0);
    expect(swa.observability.output.component_alarm_names).toBeUndefined();
    expect(actionsOf(backendPolicy(swa))).toEqual(["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]);
  });
});

describe("SafeBucket config rules", () => {
  const doc = (extra: Json) => ({
    ...MINIMAL_DOCUMENT,
    application: "safebucket",
    services: { safebucket: { image: "a/b:1.0.0" } },
    ...extra,
  });

  test("StartupWebApp's sections are unknown keys in a SafeBucket config, and SafeBucket's in StartupWebApp's", () => {
    expect(configProblems(doc({ tenants: { databases: ["x"] } }))).toEqual([
      "tenants: unknown key (check the spelling; README lists every setting)",
    ]);
    expect(configProblems({ ...MINIMAL_DOCUMENT, queues: {} })).toEqual([
      "queues: unknown key (check the spelling; README lists every setting)",
    ]);
  });

  test("an unknown application is named with the allowed ones", () => {
    expect(configProblems({ ...MINIMAL_DOCUMENT, application: "wordpress" })).toEqual([
      'application: must be one of "startupwebapp", "safebucket" (got "wordpress")',
    ]);
  });

  test("production needs an SMTP relay: Mailpit only catches mail outside production", () => {
    expect(configProblems(doc({}), "prod")).toEqual([expect.stringMatching(/^mail\.smtpHost: is required in production environment prod/)]);
    expect(configProblems(doc({ mail: { smtpHost: "email-smtp.us-east-1.amazonaws.com" } }), "prod")).toEqual([]);
    expect(configProblems(doc({}), "dev")).toEqual([]);
  });

  test("a reserved database or role name is rejected naming appDatabase", () => {
    expect(configProblems(doc({ appDatabase: { name: "postgres", username: "rdsadmin" } }))).toEqual([
      'appDatabase.name: "postgres" is reserved by PostgreSQL or RDS',
      'appDatabase.username: "rdsadmin" is a role PostgreSQL or RDS reserves',
    ]);
  });

  test("the tunnel needs the bastion: the schema says so with the field's path", () => {
    expect(configProblems(doc({ bastion: { enabled: false } }))).toEqual([
      expect.stringMatching(/^appDatabase\.connection: "tunnel" needs the bastion/),
    ]);
    expect(configProblems(doc({ bastion: { enabled: false }, appDatabase: { connection: "direct" } }))).toEqual([]);
  });

  test("the secret's name carries the environment, and outside production it is deleted at once", () => {
    const dev = safeBucketTestConfig({}, "dev");
    expect(dev.credentials).toMatchObject({ secretName: "acme/dev/app", secretRecoveryWindowDays: 0 });
    expect(safeBucketTestConfig({ mail: { smtpHost: "smtp.example.net" } }, "prod").credentials.secretRecoveryWindowDays).toBe(30);
  });

  test("a localhost CORS origin is an error in production and allowed elsewhere", () => {
    const local = doc({
      mail: { smtpHost: "smtp.example.net" },
      objectStorage: { corsAllowedOrigins: ["https://app.example.com", "http://localhost:3000"] },
    });
    expect(configProblems(local, "prod")).toEqual([
      expect.stringMatching(/^objectStorage\.corsAllowedOrigins\[1\]: must not be a local origin in production/),
    ]);
    expect(configProblems(local, "dev")).toEqual([]);
  });

  test("cache windows shorter than an hour or overlapping are rejected", () => {
    const problems = configProblems(doc({ cache: { snapshotWindow: "05:00-05:30", maintenanceWindow: "sun:05:00-sun:07:00" } }));
    expect(problems).toContainEqual("cache.snapshotWindow: must last at least 60 minutes (got 30)");
    expect(problems).toContainEqual(expect.stringMatching(/^cache\.maintenanceWindow: must not overlap cache\.snapshotWindow/));
  });

  test("a replication group id too long for ElastiCache's user ids is rejected naming project", () => {
    expect(configProblems(doc({ project: "a-rather-long-project-name" }), "staging")).toContainEqual(
      expect.stringMatching(/^project: the replication group id a-rather-long-project-name-staging-redis must be at most 32/),
    );
  });
});

describe("SafeBucket is its own module", () => {
  const names = ["safebucket-dev", "safebucket-prod"];

  test("its environments have the core stacks, then database and services; no tenants stack", () => {
    for (const name of names) {
      const stacks = testEnvironment(shippedConfig(name));
      expect(Object.keys(stacks)).toEqual(["state", "network", "data", "access", "observability", "database", "services"]);
    }
  });

  test("no Django or Stripe key and no rds-alerts name anywhere in its resources, variables or outputs", () => {
    for (const name of names) {
      const stacks = preparedEnvironment(shippedConfig(name));
      for (const stack of Object.values(stacks)) {
        const json = synth(stack!);
        const text = JSON.stringify({ resource: json.resource, variable: json.variable, output: json.output, ephemeral: json.ephemeral });
        expect(text).not.toMatch(/django|stripe|rds-alerts|rds_alerts/i);
      }
    }
  });

  test("its secret holds exactly SafeBucket's keys, and the services read them by those names", () => {
    const stacks = preparedEnvironment(shippedConfig("safebucket-prod"));
    const version = onlyResource(synth(stacks.database!), "aws_secretsmanager_secret_version");
    for (const key of ["jwt_secret", "admin_password", "smtp_username", "smtp_password", "username", "password"])
      expect(version.secret_string_wo).toContain(`"${key}"`);
    const task = resourceUnder(synth(stacks.services!), stacks.services!.safebucket, "aws_ecs_task_definition");
    const secrets = JSON.stringify(task.container_definitions);
    for (const [variable, key] of [
      ["APP__JWT_SECRET", "jwt_secret"],
      ["APP__ADMIN_PASSWORD", "admin_password"],
      ["NOTIFIER__SMTP__PASSWORD", "smtp_password"],
    ])
      expect(secrets).toMatch(new RegExp(`${variable}.*?:${key}::`));
  });

  test("the database layer keeps the state and, through moved blocks, the addresses of the former tenants stack", () => {
    const stack = testEnvironment(shippedConfig("safebucket-dev")).database!;
    const json = synth(stack);
    expect(json.terraform.backend.s3.key).toBe("safebucket-dev/tenants.tfstate");
    // The addresses the tenants stack had before SafeBucket had its own module.
    expect(json.moved.map((m: Json) => m.from).sort()).toEqual([
      "aws_secretsmanager_secret_version.credentials-safebucket_value_B8B3676F",
      "postgresql_database.tenants_database-safebucket_8F167172",
      "postgresql_grant.tenants_grant-owner-safebucket_772A42DD",
      "postgresql_grant.tenants_revoke-public-safebucket_A13342CA",
      "postgresql_role.tenants_role-safebucket_61B4A0A0",
    ]);
    for (const move of json.moved) {
      const [type, id] = move.to.split(".");
      expect(json.resource[type][id]).toBeDefined();
    }
  });

  test("the alert topic is renamed and its key keeps its address", () => {
    const json = synth(testEnvironment(shippedConfig("safebucket-dev")).observability);
    expect(onlyResource(json, "aws_sns_topic").name).toBe("safebucket-dev-alerts");
    expect(json.moved).toEqual([{ from: "aws_kms_key.rds-alerts_key_0740B668", to: expect.stringMatching(/^aws_kms_key\.alerts_key_/) }]);
  });

  test("Mailpit runs only without a relay; production sends through the relay with its login from the secret", () => {
    const prod = testEnvironment(shippedConfig("safebucket-prod")).services!;
    expect(prod.mailpit).toBeUndefined();
    expect(
      resourcesOf(synth(prod), "aws_ecs_service")
        .map((s) => s.name)
        .sort(),
    ).toEqual(["safebucket-prod-loki", "safebucket-prod-safebucket"]);
    const dev = testEnvironment(shippedConfig("safebucket-dev")).services!;
    expect(resourcesUnder(synth(dev), dev.mailpit!, "aws_ecs_service")).toHaveLength(1);
  });

  test("its grants are written once, on the task role; the backend role only reads the secret", () => {
    const stacks = testEnvironment(shippedConfig("safebucket-dev"));
    expect(actionsOf(backendPolicy({ stacks, access: synth(stacks.access) }))).toEqual([
      "secretsmanager:GetSecretValue",
      "secretsmanager:DescribeSecret",
    ]);
  });
});
