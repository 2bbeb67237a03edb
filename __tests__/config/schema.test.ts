import { configProblems, MINIMAL_DOCUMENT, shippedStartupWebApp, testConfig } from "../helpers";

const withDoc = (patch: Record<string, unknown>) => ({ ...MINIMAL_DOCUMENT, ...patch });

describe("defaults", () => {
  test("a minimal config gets StartupWebApp's production settings", () => {
    const config = testConfig();
    expect(config.network).toMatchObject({
      vpcCidr: "10.0.0.0/16",
      publicSubnetCidrs: ["10.0.1.0/24", "10.0.2.0/24"],
      privateSubnetCidrs: ["10.0.10.0/24", "10.0.11.0/24"],
      natGateway: false,
    });
    expect(config.database).toMatchObject({
      engineVersion: "16",
      instanceClass: "db.t4g.small",
      allocatedStorageGb: 20,
      maxAllocatedStorageGb: 100,
      backupRetentionDays: 7,
      backupWindow: "03:00-04:00",
      maintenanceWindow: "sun:04:00-sun:05:00",
      multiAz: false,
      deletionProtection: true,
      performanceInsightsRetentionDays: 7,
      monitoringIntervalSeconds: 60,
    });
    expect(config.tenants).toMatchObject({ appUser: "django_app", tunnelPort: 15432, isolation: "shared" });
    expect(config.monitoring).toMatchObject({ cpuHighPercent: 70, connectionsHigh: 80, freeStorageLowGb: 2, freeMemoryLowMb: 500 });
  });

  test("names default from project and environment", () => {
    const config = testConfig({}, "qa");
    expect(config.database.identifier).toBe("acme-multi-tenant-qa");
    expect(config.tenants.secretName).toBe("acme/qa/app");
  });

  test("application secrets keep 30 days of recovery in production and none elsewhere, unless the config says", () => {
    expect(testConfig({}, "prod").tenants.secretRecoveryWindowDays).toBe(30);
    expect(testConfig({}, "dev").tenants.secretRecoveryWindowDays).toBe(0);
    expect(testConfig({ tenants: { secretRecoveryWindowDays: 7 } }, "dev").tenants.secretRecoveryWindowDays).toBe(7);
    expect(testConfig({ tenants: { secretRecoveryWindowDays: 0 } }, "prod").tenants.secretRecoveryWindowDays).toBe(0);
  });

  test("availability zones default to the region's a and b", () => {
    expect(testConfig({ region: "eu-west-1", network: {} }).network.availabilityZones).toEqual(["eu-west-1a", "eu-west-1b"]);
  });

  test.each([
    ["prod", true],
    ["safebucket-prod", true],
    ["production", true],
    ["dev", false],
    ["products", false],
  ])("environment %s is production: %s, and protection and flow logs follow", (name, production) => {
    const config = testConfig({}, name);
    expect(config.production).toBe(production);
    expect(config.protect).toBe(production);
    expect(config.network.flowLogs).toBe(production);
  });

  test("explicit production, protect and flowLogs win over the name", () => {
    const config = testConfig({ production: false, protect: true, network: { flowLogs: true } }, "prod");
    expect([config.production, config.protect, config.network.flowLogs]).toEqual([false, true, true]);
  });
});

describe("rejections name the field", () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ["a project that is not a slug", { project: "Acme_App" }, /^project: must be a lowercase DNS-safe slug/],
    ["a made-up region", { region: "moon-base-1a" }, /^region: must be an AWS region/],
    [
      "a recovery window AWS refuses",
      { tenants: { secretRecoveryWindowDays: 5 } },
      /^tenants\.secretRecoveryWindowDays: must be 0 or 7-30 \(got 5\)/,
    ],
    ["a missing state bucket", { state: { bucket: undefined } }, /^state\.bucket: is required/],
    ["a bucket name with capitals", { state: { bucket: "Acme" } }, /^state\.bucket: must be a valid S3 bucket name/],
    ["a CIDR with host bits", { network: { vpcCidr: "10.0.0.1/16" } }, /^network\.vpcCidr: must be an IPv4 CIDR/],
    ["a VPC larger than /16", { network: { vpcCidr: "10.0.0.0/8" } }, /^network\.vpcCidr: must have a prefix between \/16 and \/28/],
    [
      "a subnet outside the VPC",
      { network: { publicSubnetCidrs: ["10.0.1.0/24", "10.9.2.0/24"] } },
      /^network\.publicSubnetCidrs\[1\]: must lie inside vpcCidr 10\.0\.0\.0\/16 \(got 10\.9\.2\.0\/24\)/,
    ],
    [
      "overlapping subnets",
      { network: { privateSubnetCidrs: ["10.0.10.0/24", "10.0.1.0/25"] } },
      /^network\.privateSubnetCidrs\[1\]: overlaps network\.publicSubnetCidrs\[0\]/,
    ],
    [
      "a single AZ",
      { network: { availabilityZones: ["us-east-1a"], publicSubnetCidrs: ["10.0.1.0/24"], privateSubnetCidrs: ["10.0.10.0/24"] } },
      /^network\.availabilityZones: needs at least 2 AZs/,
    ],
    [
      "an AZ of another region",
      { network: { availabilityZones: ["us-east-1a", "us-west-2b"] } },
      /^network\.availabilityZones\[1\]: must be an AZ of us-east-1/,
    ],
    [
      "fewer subnets than AZs",
      { network: { privateSubnetCidrs: ["10.0.10.0/24"] } },
      /^network\.privateSubnetCidrs: needs one subnet per AZ: 2 AZs, 1 subnets/,
    ],
    ["NAT per AZ without NAT", { network: { natGatewayPerAz: true } }, /^network\.natGatewayPerAz: needs network\.natGateway: true/],
    [
      "an instance class without db.",
      { database: { instanceClass: "t4g.small" } },
      /^database\.instanceClass: must be an RDS instance class/,
    ],
    ["PostgreSQL 12", { database: { engineVersion: "12" } }, /^database\.engineVersion: must be a PostgreSQL major version 13-17/],
    ["a full engine version", { database: { engineVersion: "16.3" } }, /^database\.engineVersion:/],
    ["storage under 20 GB", { database: { allocatedStorageGb: 10 } }, /^database\.allocatedStorageGb: must be at least 20/],
    [
      "a ceiling under the allocation",
      { database: { allocatedStorageGb: 50, maxAllocatedStorageGb: 40 } },
      /^database\.maxAllocatedStorageGb: must be at least allocatedStorageGb \(50\) \(got 40\)/,
    ],
    [
      "40 days of backups",
      { database: { backupRetentionDays: 40 } },
      /^database\.backupRetentionDays: must be between 0 and 35 \(got 40\)/,
    ],
    [
      "30 days of Performance Insights",
      { database: { performanceInsightsRetentionDays: 30 } },
      /^database\.performanceInsightsRetentionDays: must be 7 or a multiple of 31 up to 731 \(got 30\)/,
    ],
    [
      "a 7 s monitoring interval",
      { database: { monitoringIntervalSeconds: 7 } },
      /^database\.monitoringIntervalSeconds: must be one of 0, 1, 5, 10, 15, 30, 60/,
    ],
    [
      "a backup window in the wrong form",
      { database: { backupWindow: "3am-4am" } },
      /^database\.backupWindow: must be a daily UTC window hh:mm-hh:mm/,
    ],
    [
      "a maintenance window in the wrong form",
      { database: { maintenanceWindow: "sunday 04:00" } },
      /^database\.maintenanceWindow: must be a weekly UTC window/,
    ],
    ["a 15-minute backup window", { database: { backupWindow: "03:00-03:15" } }, /^database\.backupWindow: must last at least 30 minutes/],
    [
      "windows that overlap",
      { database: { maintenanceWindow: "sun:03:30-sun:04:30" } },
      /^database\.maintenanceWindow: must not overlap backupWindow/,
    ],
    [
      "an uppercase database name",
      { tenants: { databases: ["Shop"] } },
      /^tenants\.databases\[0\]: must be a lowercase PostgreSQL identifier/,
    ],
    [
      "a 64-character database name",
      { tenants: { databases: ["a".repeat(64)] } },
      /^tenants\.databases\[0\]: must be a lowercase PostgreSQL identifier/,
    ],
    ["a reserved database name", { tenants: { databases: ["template1"] } }, /^tenants\.databases\[0\]: "template1" is reserved/],
    ["a database listed twice", { tenants: { databases: ["shop", "shop"] } }, /^tenants\.databases\[1\]: "shop" is listed twice/],
    ["a reserved app user", { tenants: { appUser: "rdsadmin" } }, /^tenants\.appUser: "rdsadmin" is a role PostgreSQL or RDS reserves/],
    ["a pg_ app user", { tenants: { appUser: "pg_app" } }, /^tenants\.appUser: "pg_app" is a role/],
    ["port 0", { tenants: { tunnelPort: 0 } }, /^tenants\.tunnelPort: must be a port 1-65535 \(got 0\)/],
    [
      "an isolation model that does not exist",
      { tenants: { isolation: "schema" } },
      /^tenants\.isolation: must be one of "shared", "per-database" \(got "schema"\)/,
    ],
    [
      "an e-mail without a domain",
      { monitoring: { alarmEmails: ["ops@"] } },
      /^monitoring\.alarmEmails\[0\]: must be an e-mail address \(got "ops@"\)/,
    ],
    [
      "a CPU threshold of 100 %, which the alarm could never cross",
      { monitoring: { cpuHighPercent: 100 } },
      /^monitoring\.cpuHighPercent: must be more than 0 and less than 100 \(got 100\)/,
    ],
    [
      "a free-memory threshold of 0, an exclusive bound",
      { monitoring: { freeMemoryLowMb: 0 } },
      /^monitoring\.freeMemoryLowMb: must be more than 0 \(got 0\)/,
    ],
    [
      "a CPU threshold of 120 %",
      { monitoring: { cpuHighPercent: 120 } },
      /^monitoring\.cpuHighPercent: must be more than 0 and less than 100 \(got 120\)/,
    ],
    [
      "a log retention CloudWatch does not offer",
      { database: { logRetentionDays: 10 } },
      /^database\.logRetentionDays: must be one of CloudWatch's retention periods/,
    ],
    [
      "a GitHub repository without owner",
      { ci: { githubRepository: "infra" } },
      /^ci\.githubRepository: must be a GitHub repository as owner\/name/,
    ],
    [
      "a string where a number belongs",
      { database: { allocatedStorageGb: "20" } },
      /^database\.allocatedStorageGb: must be a number \(got string "20"\)/,
    ],
  ])("%s", (_what, patch, expected) => {
    const problems = configProblems(deepPatch(patch));
    expect(problems).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  test("an unknown key is an error, at any depth", () => {
    const problems = configProblems(withDoc({ netwrok: {}, database: { instanceClas: "db.t4g.micro" } }));
    expect(problems).toEqual(
      expect.arrayContaining([
        "netwrok: unknown key (check the spelling; README lists every setting)",
        expect.stringMatching(/^database\.instanceClas: unknown key/),
      ]),
    );
  });

  test("every problem of a config is reported at once", () => {
    const problems = configProblems(
      withDoc({
        network: { vpcCidr: "10.0.0.0/16", publicSubnetCidrs: ["10.0.1.0/24", "10.5.0.0/24"] },
        database: { backupRetentionDays: 99 },
        tenants: { databases: ["postgres"] },
        monitoring: { cpuHighPercent: -1 },
        typo: true,
      }),
    );
    expect(problems).toHaveLength(5);
  });

  test("an environment name that cannot be part of AWS names is rejected", () => {
    expect(configProblems(MINIMAL_DOCUMENT, "QA_1")).toEqual([expect.stringMatching(/^environment name "QA_1"/)]);
  });
});

describe("shipped environments", () => {
  test("prod reproduces StartupWebApp's network and database", () => {
    const prod = shippedStartupWebApp("prod");
    expect(prod.production).toBe(true);
    expect(prod.network.availabilityZones).toEqual(["us-east-1a", "us-east-1b"]);
    expect(prod.database.identifier).toBe("startupwebapp-multi-tenant-prod");
    expect(prod.tenants.databases).toEqual(["startupwebapp_prod", "healthtech_experiment", "fintech_experiment"]);
    expect(prod.tags.Application).toBe("StartupWebApp");
  });

  test("dev is cheaper but still keeps a final snapshot", () => {
    const dev = shippedStartupWebApp("dev");
    expect(dev.production).toBe(false);
    expect(dev.database.instanceClass).toBe("db.t4g.micro");
    expect(dev.database.backupRetentionDays).toBe(1);
    expect(dev.database.deletionProtection).toBe(false);
    expect(dev.database.skipFinalSnapshot).toBe(false);
  });
});

function deepPatch(patch: Record<string, unknown>): Record<string, unknown> {
  const doc: Record<string, unknown> = structuredClone(MINIMAL_DOCUMENT);
  for (const [key, value] of Object.entries(patch)) {
    const current = doc[key];
    doc[key] =
      value && typeof value === "object" && !Array.isArray(value) && current && typeof current === "object"
        ? { ...current, ...value }
        : value;
  }
  return doc;
}
