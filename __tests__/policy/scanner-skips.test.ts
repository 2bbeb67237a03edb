import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { Testing, type TerraformStack } from "cdktf";
import { SCANNER_SKIPS, scopeOf, suppress } from "../../constructs/guardrails";
import { indexStack } from "../../scripts/lib/scan";
import { synthesize } from "../../scripts/lib/synth";
import { shippedSafeBucket, testStack, type Json } from "../helpers";
import { safeBucket, safeDatabase } from "./fixtures";

/** The `//.guardrails.suppressed` list of every resource of `type`, by logical id (full synth keeps `//`). */
function suppressedOf(stack: TerraformStack, type: string): Record<string, Json[]> {
  const outdir = Testing.fullSynth(stack);
  const json = JSON.parse(readFileSync(join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
  return Object.fromEntries(
    Object.entries(json.resource[type] as Record<string, Json>).map(([id, r]) => [id, r["//"]?.guardrails?.suppressed ?? []]),
  );
}

const checksOn = (entries: readonly Json[]) => entries.filter((e) => e.scanner === "checkov").map((e) => e.rule as string);

describe("scanner skips", () => {
  test("each names a checkov check, says why in a sentence, and appears once per resource type", () => {
    for (const skip of SCANNER_SKIPS) {
      expect(skip.check).toMatch(/^CKV2?_AWS_\d+$/);
      expect(skip.reason.length).toBeGreaterThanOrEqual(40);
      expect(skip.resourceType).toMatch(/^aws_[a-z0-9_]+$/);
    }
    const pairs = SCANNER_SKIPS.map((s) => `${s.check} ${s.resourceType}`);
    expect(new Set(pairs).size).toBe(pairs.length);
  });

  test("a skip is written into the resource's metadata with its reason, marked as checkov's", () => {
    const stack = testStack();
    safeBucket(stack, "data");
    const [entries] = Object.values(suppressedOf(stack, "aws_s3_bucket"));
    expect(entries).toContainEqual({
      rule: "CKV_AWS_144",
      scanner: "checkov",
      reason: SCANNER_SKIPS.find((s) => s.check === "CKV_AWS_144")?.reason,
    });
  });

  test("our rule suppressions and the scanner skips share the one list, ours first", () => {
    const stack = testStack();
    suppress(safeDatabase(stack, { publiclyAccessible: true }), "rds-private", "read replica for a vendor's BI tool, IP-allowlisted");
    const [entries] = Object.values(suppressedOf(stack, "aws_db_instance"));
    expect(entries[0]).toEqual({ rule: "rds-private", reason: "read replica for a vendor's BI tool, IP-allowlisted" });
    expect(checksOn(entries.slice(1)).length).toBe(entries.length - 1);
  });

  test("a scoped skip follows the setting: Multi-AZ off is skipped, Multi-AZ on is checked", () => {
    const single = testStack();
    safeDatabase(single, { multiAz: false });
    const multi = testStack();
    safeDatabase(multi, { multiAz: true });
    expect(checksOn(Object.values(suppressedOf(single, "aws_db_instance"))[0])).toContain("CKV_AWS_157");
    expect(checksOn(Object.values(suppressedOf(multi, "aws_db_instance"))[0])).not.toContain("CKV_AWS_157");
  });

  test("versioning is skipped only on a load balancer's access-log bucket", () => {
    const stack = testStack();
    const logs = safeBucket(stack, "logs");
    safeBucket(stack, "data");
    new Lb(stack, "lb", { name: "app", internal: true, accessLogs: { bucket: logs.bucket, enabled: true } });
    const byId = suppressedOf(stack, "aws_s3_bucket");
    const withVersioningSkip = Object.keys(byId).filter((id) => checksOn(byId[id]).includes("CKV_AWS_21"));
    expect(withVersioningSkip).toEqual([logs.friendlyUniqueId]);
  });
});

describe("a config never seen: eu-west-1, three AZs, NAT, private tasks and a certificate", () => {
  const outdir = mkdtempSync(join(tmpdir(), "scanner-skips-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
  const config = shippedSafeBucket("safebucket-prod", {
    region: "eu-west-1",
    network: {
      availabilityZones: azs,
      publicSubnetCidrs: ["10.21.1.0/24", "10.21.2.0/24", "10.21.3.0/24"],
      privateSubnetCidrs: ["10.21.10.0/24", "10.21.11.0/24", "10.21.12.0/24"],
      natGateway: true,
    },
    mail: { smtpHost: "email-smtp.eu-west-1.amazonaws.com" },
    services: { certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789" },
  });
  const skipped = () =>
    synthesize(outdir, [config]).flatMap((stack) =>
      indexStack(JSON.parse(readFileSync(join(stack.dir, "cdk.tf.json"), "utf8"))).skips.map((s) => s.check),
    );

  test("records no plain-HTTP or public-IP skip: with HTTPS and NAT those checks must pass on their own", () => {
    const checks = skipped();
    expect(checks).toContain("CKV_AWS_144");
    for (const check of ["CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_20", "CKV_AWS_333"]) expect(checks).not.toContain(check);
  });
});

describe("README scanners section", () => {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("<!-- section:scanner-skips -->"), readme.indexOf("<!-- /section:scanner-skips -->"));

  test.each(SCANNER_SKIPS.map((s) => [`${s.check} on ${s.resourceType}`, s] as const))(
    "lists %s with its scope and reason",
    (_name, skip) => {
      expect(section).toContain(`| ${skip.check} | ${scopeOf(skip)} | ${skip.reason} |`);
    },
  );

  test("lists no skip that does not exist", () => {
    const listed = [...section.matchAll(/^\| (CKV2?_AWS_\d+) \| ([a-z0-9_]+):/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(listed).toEqual(SCANNER_SKIPS.map((s) => `${s.check} ${s.resourceType}`));
  });
});
