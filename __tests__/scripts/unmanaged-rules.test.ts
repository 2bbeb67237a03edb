/**
 * Security group rules nobody declared, found by comparing refreshed groups with the refreshed rule
 * resources of all of an environment's plans. Plans are built here in `terraform show -json` shape,
 * after what Terraform 1.11 and the AWS provider 5.100 write (groups list their rules inline,
 * another account's group as `<account>/sg-...`).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reviewPlan, type ShowJsonPlan } from "../../scripts/lib/plan-review";
import { checkUnmanagedRules } from "../../scripts/lib/run-plan";
import { unmanagedRuleDrift, withDrift } from "../../scripts/lib/unmanaged-rules";

const entry = (over: Record<string, unknown>) => ({
  cidr_blocks: [],
  ipv6_cidr_blocks: [],
  prefix_list_ids: [],
  security_groups: [],
  self: false,
  description: "",
  protocol: "tcp",
  ...over,
});
const group = (address: string, id: string, ingress: object[], egress: object[] = []) => ({
  address,
  type: "aws_security_group",
  mode: "managed",
  values: { id, ingress, egress },
});
const rule = (address: string, kind: "ingress" | "egress", values: Record<string, unknown>) => ({
  address,
  type: `aws_vpc_security_group_${kind}_rule`,
  mode: "managed",
  values: { ip_protocol: "tcp", cidr_ipv4: null, referenced_security_group_id: null, ...values },
});
const plan = (resources: object[], configured: Record<string, Record<string, unknown>> = {}): ShowJsonPlan =>
  ({
    prior_state: { values: { root_module: { resources } } },
    configuration: { root_module: { resources: Object.entries(configured).map(([address, expressions]) => ({ address, expressions })) } },
  }) as ShowJsonPlan;

const database = group("aws_security_group.database", "sg-db", [
  entry({ from_port: 5432, to_port: 5432, security_groups: ["111122223333/sg-backend"] }),
]);
const backend = group(
  "aws_security_group.backend",
  "sg-backend",
  [],
  [
    entry({ from_port: 443, to_port: 443, cidr_blocks: ["0.0.0.0/0"] }),
    entry({ from_port: 5432, to_port: 5432, security_groups: ["sg-db"] }),
  ],
);
const networkRules = [
  rule("aws_vpc_security_group_ingress_rule.db_from_backend", "ingress", {
    security_group_id: "sg-db",
    from_port: 5432,
    to_port: 5432,
    referenced_security_group_id: "sg-backend",
  }),
  rule("aws_vpc_security_group_egress_rule.backend_to_db", "egress", {
    security_group_id: "sg-backend",
    from_port: 5432,
    to_port: 5432,
    referenced_security_group_id: "sg-db",
  }),
];
const servicesRule = rule("aws_vpc_security_group_egress_rule.backend_https", "egress", {
  security_group_id: "sg-backend",
  from_port: 443,
  to_port: 443,
  cidr_ipv4: "0.0.0.0/0",
});

test("groups holding exactly their declared rules are no drift, even with the rules in another stack", () => {
  const drift = unmanagedRuleDrift([
    { stack: "prod-network", plan: plan([database, backend, ...networkRules]) },
    { stack: "prod-services", plan: plan([servicesRule]) },
  ]);
  expect([...drift]).toEqual([]);
});

test("a rule added by hand is drift of its group's ingress, shown as the rule", () => {
  const opened = group("aws_security_group.database", "sg-db", [
    ...database.values.ingress,
    entry({ from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] }),
  ]);
  const drift = unmanagedRuleDrift([
    { stack: "prod-network", plan: plan([opened, backend, ...networkRules]) },
    { stack: "prod-services", plan: plan([servicesRule]) },
  ]);
  expect(drift.get("prod-network")).toEqual([
    expect.objectContaining({
      address: "aws_security_group.database",
      changedAttributes: ["ingress"],
      values: { ingress: "+ tcp 22 from 0.0.0.0/0" },
    }),
  ]);
  expect(drift.has("prod-services")).toBe(false);
});

test("without the stack that declares a group's rules, those rules look undeclared", () => {
  const drift = unmanagedRuleDrift([{ stack: "prod-network", plan: plan([database, backend, ...networkRules]) }]);
  expect(drift.get("prod-network")?.[0].values).toEqual({ egress: "+ tcp 443 to 0.0.0.0/0" });
});

test("all-traffic rules match whatever ports each side reports", () => {
  const open = group(
    "aws_security_group.lb",
    "sg-lb",
    [],
    [entry({ protocol: "-1", from_port: 0, to_port: 0, cidr_blocks: ["0.0.0.0/0"] })],
  );
  const all = rule("aws_vpc_security_group_egress_rule.all", "egress", {
    security_group_id: "sg-lb",
    ip_protocol: "-1",
    from_port: null,
    to_port: null,
    cidr_ipv4: "0.0.0.0/0",
  });
  expect([...unmanagedRuleDrift([{ stack: "s", plan: plan([open, all]) }])]).toEqual([]);
  expect(unmanagedRuleDrift([{ stack: "s", plan: plan([open]) }]).get("s")?.[0].values).toEqual({ egress: "+ all traffic to 0.0.0.0/0" });
});

test("a group whose configuration sets its rules inline is left to the plan's own drift", () => {
  const inline = group("aws_security_group.legacy", "sg-legacy", [entry({ from_port: 80, to_port: 80, cidr_blocks: ["0.0.0.0/0"] })]);
  const configured = { "aws_security_group.legacy": { ingress: { constant_value: [] } } };
  expect([...unmanagedRuleDrift([{ stack: "s", plan: plan([inline], configured) }])]).toEqual([]);
});

test("found rules join the group's other drift in one entry", () => {
  const review = reviewPlan("prod-network", {
    resource_drift: [
      {
        address: "aws_security_group.database",
        type: "aws_security_group",
        mode: "managed",
        change: { actions: ["update"], before: { tags: { a: "1" } }, after: { tags: { a: "2" } } },
      },
    ],
    resource_changes: [
      {
        address: "aws_security_group.database",
        type: "aws_security_group",
        mode: "managed",
        change: { actions: ["update"], before: { tags: { a: "2" } }, after: { tags: { a: "1" } } },
      },
    ],
  });
  const merged = withDrift(review, [
    {
      address: "aws_security_group.database",
      type: "aws_security_group",
      action: "update",
      replacePaths: [],
      changedAttributes: ["ingress"],
      danger: false,
      values: { ingress: "+ tcp 22 from 0.0.0.0/0" },
    },
  ]);
  expect(merged.drift).toEqual([
    expect.objectContaining({ changedAttributes: ["ingress", "tags"], values: { ingress: "+ tcp 22 from 0.0.0.0/0" } }),
  ]);
});

describe("checkUnmanagedRules over an environment's stacks", () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), "unmanaged-rules-"))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const stack = (name: string, resource: object) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cdk.tf.json"), JSON.stringify({ resource }));
    return { name, dir, dependencies: [] };
  };
  const opened = group("aws_security_group.database", "sg-db", [entry({ from_port: 22, to_port: 22, cidr_blocks: ["0.0.0.0/0"] })]);

  test("adds the drift when every stack that declares rules was planned", () => {
    const stacks = [stack("prod-network", { aws_security_group: {} }), stack("prod-data", {})];
    const reviews = new Map([["prod-network", reviewPlan("prod-network", {})]]);
    expect(checkUnmanagedRules(stacks, [{ stack: "prod-network", plan: plan([opened]) }], reviews)).toEqual([]);
    expect(reviews.get("prod-network")?.drift.map((d) => d.address)).toEqual(["aws_security_group.database"]);
  });

  test("does not look, and says so, when a stack that declares rules was not planned", () => {
    const stacks = [
      stack("prod-network", { aws_security_group: {} }),
      stack("prod-services", { aws_vpc_security_group_egress_rule: { x: {} } }),
    ];
    const reviews = new Map([["prod-network", reviewPlan("prod-network", {})]]);
    expect(checkUnmanagedRules(stacks, [{ stack: "prod-network", plan: plan([opened]) }], reviews)).toEqual([
      "security group rules added outside Terraform were not looked for: not planned, and declaring rules: prod-services",
    ]);
    expect(reviews.get("prod-network")?.drift).toEqual([]);
  });
});
