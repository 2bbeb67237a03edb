import { Fn, TerraformStack, Testing } from "cdktf";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { readAttribute, readExpression, ReadError, Unknown } from "../../constructs/guardrails/expression";
import { readPolicy } from "../../constructs/guardrails/policy";
import { StackView } from "../../constructs/guardrails/stack-view";
import { allow, denyInsecureTransport, policyDocument } from "../../constructs/iam";

describe("reading synthesized expressions", () => {
  test("a jsonencode'd object reads as data, references as Unknown, templates as strings", () => {
    const value = readAttribute('${jsonencode({"Resource" = [aws_s3_bucket.b.arn, "${aws_s3_bucket.b.arn}/*"], "n" = 3, "ok" = true})}');
    expect(value).toBeInstanceOf(Unknown);
    const [document] = (value as Unknown).call!.args;
    expect(document).toEqual({ Resource: [new Unknown("aws_s3_bucket.b.arn"), "${aws_s3_bucket.b.arn}/*"], n: 3, ok: true });
  });

  test("a string that is not one whole interpolation stays a string", () => {
    expect(readAttribute("arn:${data.aws_partition.p.partition}:s3:::x")).toBe("arn:${data.aws_partition.p.partition}:s3:::x");
    expect(readAttribute("plain")).toBe("plain");
  });

  test("indexed references and nested calls keep their text", () => {
    expect(readExpression("aws_db_instance.db.master_user_secret[0].secret_arn")).toEqual(
      new Unknown("aws_db_instance.db.master_user_secret[0].secret_arn"),
    );
    expect((readExpression('concat(["a"], var.list)') as Unknown).call?.name).toBe("concat");
  });

  test("operators are refused with the position, not guessed", () => {
    expect(() => readExpression('var.public ? "*" : "s3:GetObject"')).toThrow(ReadError);
    expect(() => readExpression('var.public ? "*" : "s3:GetObject"')).toThrow(/at character 11/);
  });

  test("policies written by policyDocument() read back as the statements given", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    const bucket = new S3Bucket(stack, "b", { bucket: "x" });
    new IamRolePolicy(stack, "p", {
      role: "r",
      policy: policyDocument([allow(["s3:GetObject"], [`${bucket.arn}/*`]), denyInsecureTransport([bucket.arn])]),
    });
    const view = new StackView(stack);
    const reading = readPolicy(view.resources("aws_iam_role_policy")[0].attributes.policy, view);
    expect(reading.kind === "statements" && reading.statements.map((s) => [s.effect, s.actions])).toEqual([
      ["Allow", ["s3:GetObject"]],
      ["Deny", ["s3:*"]],
    ]);
  });

  test("a policy Terraform computes is reported as unreadable, with the expression", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    new IamRolePolicy(stack, "p", { role: "r", policy: Fn.file("admin.json") });
    const view = new StackView(stack);
    expect(readPolicy(view.resources("aws_iam_role_policy")[0].attributes.policy, view)).toEqual({
      kind: "unreadable",
      reason: 'it is computed by Terraform (file("admin.json"))',
    });
  });
});
