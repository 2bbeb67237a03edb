import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing, type TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { suppress, suppressionsOf } from "../../constructs/guardrails";
import { testStack, type Json } from "../helpers";
import { ruleIds, safeDatabase, safeGroup, summaries, violationsOf } from "./fixtures";

/** The `"//"` metadata of the one resource `type` in the stack's full synth output (Testing.synth strips it). */
function metadataOf(stack: TerraformStack, type: string): Json {
  const outdir = Testing.fullSynth(stack);
  const json = JSON.parse(readFileSync(join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
  const [resource] = Object.values(json.resource[type]) as Json[];
  return resource["//"];
}

/** Our rules' suppressions in a resource's metadata (the scanner skips recorded next to them have `scanner`). */
function ruleSuppressions(metadata: Json): Json[] {
  return (metadata.guardrails.suppressed as Json[]).filter((entry) => entry.scanner === undefined);
}

describe("suppress", () => {
  test("a suppressed violation passes synth", () => {
    const build = (s: TerraformStack) =>
      suppress(safeDatabase(s, { publiclyAccessible: true }), "rds-private", "read replica for a vendor's BI tool, IP-allowlisted");
    expect(summaries(violationsOf(build))).toEqual([]);
  });

  test("the reason appears in the resource's synthesized metadata", () => {
    const stack = testStack();
    suppress(safeDatabase(stack, { publiclyAccessible: true }), "rds-private", "read replica for a vendor's BI tool, IP-allowlisted");
    expect(ruleSuppressions(metadataOf(stack, "aws_db_instance"))).toEqual([
      { rule: "rds-private", reason: "read replica for a vendor's BI tool, IP-allowlisted" },
    ]);
  });

  test("cdktf's own metadata stays next to the suppression", () => {
    const stack = testStack();
    suppress(safeDatabase(stack, { publiclyAccessible: true }), "rds-private", "read replica for a vendor's BI tool, IP-allowlisted");
    expect(metadataOf(stack, "aws_db_instance").metadata.path).toBe("test-data/db");
  });

  test("a suppression on a parent construct covers its resources and says where it was declared", () => {
    const stack = testStack();
    const parent = new Construct(stack, "reporting");
    safeDatabase(parent, { publiclyAccessible: true });
    suppress(parent, "rds-private", "vendor BI tool reaches it over an allowlist");
    expect(ruleSuppressions(metadataOf(stack, "aws_db_instance"))).toEqual([
      { rule: "rds-private", reason: "vendor BI tool reaches it over an allowlist", declaredOn: "test-data/reporting" },
    ]);
  });

  test("suppressing one rule leaves the others in force", () => {
    const build = (s: TerraformStack) =>
      suppress(
        safeDatabase(s, { publiclyAccessible: true, storageEncrypted: false }),
        "rds-private",
        "vendor BI tool reaches it over an allowlist",
      );
    expect(ruleIds(violationsOf(build))).toEqual(["rds-encrypted"]);
  });

  test("a suppression applies to its own subtree only", () => {
    const build = (s: TerraformStack) => {
      suppress(safeGroup(s, "exempt", { description: "" }), "sg-description", "imported group, renamed in a later change");
      safeGroup(s, "other", { description: "" });
    };
    expect(summaries(violationsOf(build))).toEqual(["[sg-description] test-data/other: the group has no description"]);
  });

  test("an unknown rule id is refused, listing the known ones", () => {
    expect(() => suppress(testStack(), "rds-public", "a reason long enough")).toThrow(
      /suppress test-data: ruleId must be one of .*rds-private.* \(got "rds-public"\)/,
    );
  });

  test("a suppression without a real reason is refused", () => {
    expect(() => suppress(testStack(), "rds-private", "  ok ")).toThrow(/reason must say why .* \(got "ok"\)/);
  });

  test("suppressionsOf lists a construct's own and inherited suppressions", () => {
    const stack = testStack();
    const parent = new Construct(stack, "parent");
    const child = new Construct(parent, "child");
    suppress(parent, "imdsv2", "AMI without IMDSv2 support, replaced next sprint");
    suppress(child, "ebs-encrypted", "scratch volume holding public data only");
    expect(suppressionsOf(child).map((s) => [s.ruleId, s.declaredOn])).toEqual([
      ["imdsv2", "test-data/parent"],
      ["ebs-encrypted", "test-data/parent/child"],
    ]);
  });
});
