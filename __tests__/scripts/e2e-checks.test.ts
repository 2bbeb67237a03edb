/**
 * The pure parts of `npm run e2e`: reading the project's own command output, the artefact rule,
 * the ledger's closing line, and which environment carries which extra check.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assignRoles } from "../../scripts/e2e";
import {
  driftAttributes,
  Ledger,
  loadArtefacts,
  parseReport,
  parseStatus,
  resourceType,
  stackTimings,
  unexplained,
  type Artefact,
} from "../../scripts/lib/e2e-checks";
import { shippedConfig } from "../helpers";

const PLAN = `Plan review: dev

dev-state  skipped: local backend and no state file in this checkout (/x/terraform.dev-state.tfstate)
dev-network  create 0  update 1  replace 0  delete 0  drift 1
  ~   aws_vpc_security_group_ingress_rule.database-sg_from-bastion_B7CD1F97  (attributes: description)
  drift aws_vpc_security_group_ingress_rule.database-sg_from-bastion_B7CD1F97: description null -> "PostgreSQL from the bastion (operators, tenants)"
dev-data  create 1  update 1  replace 0  delete 0  drift 0
  +   aws_secretsmanager_secret.app_secret_1
  ~   aws_db_parameter_group.postgres_parameters_7354F6DC  (attributes: parameter)
dev-access  ERROR: terraform plan failed:
Error: something

result: changes pending (exit 2)`;

const DRIFT = `Drift report: dev

dev-network  no drift
dev-data  drift 1
  drift aws_db_instance.postgres_instance_919E2690  DANGER: backup_retention_period 1 -> 3
dev-observability  drift 2
  drift aws_cloudwatch_metric_alarm.cpu-high_1: threshold 80 -> 160, alarm_description "a, b \\"c\\", d" -> "x"
  drift aws_sns_topic.alerts_2: deleted outside Terraform
  (1 pending code change(s), not drift: npm run plan -- dev shows them)

result: drift found (exit 2)`;

test("the plan report is read stack by stack: changes with their attributes, skipped and failed stacks", () => {
  const report = parseReport(PLAN);
  expect(report.planned).toEqual(["dev-network", "dev-data"]);
  expect(report.skipped.map((s) => s.stack)).toEqual(["dev-state"]);
  expect(report.errors).toEqual([{ stack: "dev-access", reason: "terraform plan failed:" }]);
  expect(report.changes.map((c) => [c.stack, c.kind, c.type, c.attributes])).toEqual([
    ["dev-network", "~", "aws_vpc_security_group_ingress_rule", ["description"]],
    ["dev-network", "drift", "aws_vpc_security_group_ingress_rule", ["description"]],
    ["dev-data", "+", "aws_secretsmanager_secret", []],
    ["dev-data", "~", "aws_db_parameter_group", ["parameter"]],
  ]);
});

test("drift lines give attribute names even when quoted values hold commas and quotes", () => {
  const report = parseReport(DRIFT);
  expect(report.planned).toEqual(["dev-network", "dev-data", "dev-observability"]);
  expect(report.changes.map((c) => [c.address, c.attributes])).toEqual([
    ["aws_db_instance.postgres_instance_919E2690", ["backup_retention_period"]],
    ["aws_cloudwatch_metric_alarm.cpu-high_1", ["threshold", "alarm_description"]],
    ["aws_sns_topic.alerts_2", []],
  ]);
  expect(driftAttributes('tags, description null -> "x, y"')).toEqual(["tags", "description"]);
});

test("resource types come from addresses, module paths and indexes dropped", () => {
  expect(resourceType("module.net.aws_subnet.private[1]")).toBe("aws_subnet");
  expect(resourceType("data.aws_region.current")).toBe("data.aws_region");
  expect(resourceType('aws_route.r["a.b"]')).toBe("aws_route");
});

const ARTEFACTS: Artefact[] = [
  { type: "aws_vpc_security_group_ingress_rule", attribute: "description", aws: "AWS keeps a rule's description as written." },
  { type: "aws_db_parameter_group", attribute: "parameter", aws: "AWS lists the parameters a group sets." },
];

test("only in-place updates and drift whose every attribute is listed for its type are artefacts", () => {
  const left = unexplained(parseReport(PLAN).changes, ARTEFACTS);
  // the creation is never an artefact; both description changes and the parameter update are listed
  expect(left.map((c) => c.address)).toEqual(["aws_secretsmanager_secret.app_secret_1"]);
  const drift = parseReport(DRIFT).changes;
  expect(unexplained(drift, ARTEFACTS)).toHaveLength(3);
  const partly = [{ ...drift[1], type: "aws_db_parameter_group", attributes: ["parameter", "family"] }];
  expect(unexplained(partly, ARTEFACTS)).toHaveLength(1);
});

test("the shipped artefact list names, for each entry, the AWS behaviour it stands in for", () => {
  const artefacts = loadArtefacts();
  for (const a of artefacts) expect(a.type).toMatch(/^aws_/);
  const dir = mkdtempSync(join(tmpdir(), "artefacts-"));
  const file = join(dir, "a.json");
  writeFileSync(file, JSON.stringify({ artefacts: [{ type: "aws_instance", attribute: "x", aws: "" }] }));
  expect(() => loadArtefacts(file)).toThrow(/artefacts\[0\] needs type, attribute and aws/);
  rmSync(dir, { recursive: true, force: true });
});

test("per-stack times run from a stack's first step line to the next stack's", () => {
  const at = (s: number, text: string) => ({ at: s * 1000, text });
  const timings = stackTimings([
    at(0, "deploy dev: synthesizing..."),
    at(2, "==> dev-state: init [1/2]"),
    at(5, "==> dev-state: plan [1/2]"),
    at(30, "==> dev-network: init [2/2]"),
    at(31, "==> dev-network: apply [2/2]"),
    at(50, "deploy dev: done."),
  ]);
  expect(timings).toEqual([
    { stack: "dev-state", seconds: 28 },
    { stack: "dev-network", seconds: 20 },
  ]);
});

test("per-stack times of stacks side by side run from each one's first step line to its own end line", () => {
  const at = (s: number, text: string) => ({ at: s * 1000, text });
  const timings = stackTimings([
    at(0, "==> dev-data: init [3/5]"),
    at(200, "<== dev-data: done [3/5]"),
    at(201, "==> dev-access: init [4/5]"),
    at(202, "==> dev-observability: init [5/5]"),
    at(230, "<== dev-observability: done [5/5]"),
    at(250, "<== dev-access: failed [4/5]"),
    at(260, "deploy dev: stopped after a failure (see above); nothing after it ran except cleanup."),
  ]);
  expect(timings).toEqual([
    { stack: "dev-data", seconds: 200 },
    { stack: "dev-access", seconds: 49 },
    { stack: "dev-observability", seconds: 28 },
  ]);
});

test("status is read per stack: deployed or not, and its fact lines", () => {
  const status = parseStatus(`dev (startupwebapp, us-east-1): 1/2 stacks deployed

  [x] dev-network  (25 resources)
        VPC: vpc-1234
  [?] dev-tenants  unknown: terraform error
        Error: Failed to query available provider packages

next: ...`);
  expect(status.get("dev-network")).toEqual({ deployed: true, facts: ["VPC: vpc-1234"] });
  expect(status.get("dev-tenants")?.deployed).toBe(false);
});

test("the ledger prints a line per check, never counts a skip as a pass, and ends with the counts", () => {
  const lines: string[] = [];
  const ledger = new Ledger((l) => lines.push(l));
  ledger.pass("deploy dev");
  ledger.skip("dev-tenants", "needs PostgreSQL");
  ledger.expect("plan dev", "2 changes\naws_x.y");
  expect(lines).toEqual(["ok   deploy dev", "skip dev-tenants: needs PostgreSQL", "FAIL plan dev: 2 changes\n       aws_x.y"]);
  expect(ledger.summary()).toBe("1 passed, 1 failed");
});

test("the slow extra checks go to different environments: Ctrl-C where deploy starts a bastion, the lock elsewhere", () => {
  const configs = ["dev", "prod", "safebucket-dev", "safebucket-prod"].map((n) => shippedConfig(n));
  const roles = assignRoles(configs);
  const by = (pick: (r: (typeof roles)[number]) => boolean) => configs.filter((_, i) => pick(roles[i])).map((c) => c.environment);
  expect(by((r) => r.redeploy)).toEqual(["dev"]);
  expect(by((r) => r.lock)).toEqual(["prod"]);
  expect(by((r) => r.drift)).toEqual(["prod", "safebucket-dev", "safebucket-prod"]);
  expect(new Set(roles.filter((r) => r.drift).map((r) => r.changeKind)).size).toBe(3);
  // one environment alone still gets every check
  expect(assignRoles([configs[0]])).toEqual([{ drift: true, changeKind: "backup-retention", lock: true, redeploy: true }]);
});
