import { onlyResource, synth, testConfig, testEnvironment } from "../helpers";

const stacks = testEnvironment(testConfig({ tags: { Application: "Acme", Owner: "platform" } }, "qa"));

test("an environment has the six stacks, named <env>-<layer>", () => {
  expect(Object.values(stacks).map((s) => s.node.id)).toEqual([
    "qa-state",
    "qa-network",
    "qa-data",
    "qa-access",
    "qa-observability",
    "qa-tenants",
  ]);
});

test("every S3-backed stack has its own encrypted key and S3-native locking", () => {
  for (const layer of ["network", "data", "access", "observability", "tenants"] as const) {
    expect(synth(stacks[layer]!).terraform.backend.s3).toEqual({
      bucket: "acme-test-tfstate",
      key: `qa/${layer}.tfstate`,
      region: "us-east-1",
      encrypt: true,
      use_lockfile: true,
    });
  }
});

test("the state stack bootstraps on a local backend until told it has migrated", () => {
  expect(Object.keys(synth(stacks.state).terraform.backend)).toEqual(["local"]);
  const migrated = testEnvironment(testConfig({ state: { stateStackBackend: "s3" } }, "qa"));
  expect(synth(migrated.state).terraform.backend.s3.key).toBe("qa/state.tfstate");
});

test("the provider carries the region and default tags, config tags included", () => {
  const provider = onlyResource(synth(stacks.network), "aws", "provider" as never);
  expect(provider.region).toBe("us-east-1");
  expect(provider.default_tags[0].tags).toEqual({
    Application: "Acme",
    Owner: "platform",
    Project: "acme",
    Environment: "qa",
    ManagedBy: "cdktf",
  });
});

test("stacks deploy in layer order", () => {
  expect(stacks.network.dependencies).toContain(stacks.state);
  expect(stacks.data.dependencies).toContain(stacks.network);
  expect(stacks.tenants!.dependencies).toContain(stacks.access);
});
