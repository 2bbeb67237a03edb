/**
 * IAM policies as data. A statement is actions plus resources (plus optional principals and
 * conditions); `policyDocument` turns statements into the JSON Terraform sends, through
 * `jsonencode`, so tokens of other resources stay references and nothing is concatenated by hand.
 */
import { Fn } from "cdktf";

export interface PolicyStatement {
  readonly sid?: string;
  /** @default "Allow" */
  readonly effect?: "Allow" | "Deny";
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  /** e.g. `{ Service: ["monitoring.rds.amazonaws.com"] }` or `{ AWS: ["*"] }`. */
  readonly principals?: Readonly<Record<string, readonly string[]>>;
  /** `{ Bool: { "aws:SecureTransport": "false" } }`, as IAM writes them. */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** Allows `actions` on exactly `resources`. Refuses `*` on `*` at construction. */
export function allow(actions: readonly string[], resources: readonly string[], sid?: string): PolicyStatement {
  return checked({ sid, effect: "Allow", actions, resources });
}

/** A trust policy statement letting `service` (e.g. `ec2.amazonaws.com`) assume the role. */
export function trustService(...services: string[]): PolicyStatement {
  return { effect: "Allow", actions: ["sts:AssumeRole"], resources: [], principals: { Service: services } };
}

/** Denies every request to `resources` that does not arrive over TLS. */
export function denyInsecureTransport(resources: readonly string[]): PolicyStatement {
  return {
    sid: "DenyInsecureTransport",
    effect: "Deny",
    actions: ["s3:*"],
    resources,
    principals: { AWS: ["*"] },
    conditions: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/** The policy JSON for `statements`, as a Terraform expression. */
export function policyDocument(statements: readonly PolicyStatement[]): string {
  if (statements.length === 0) throw new Error("policyDocument: a policy needs at least one statement");
  return Fn.jsonencode({ Version: "2012-10-17", Statement: statements.map(toIam) });
}

/** A managed policy ARN that works in every partition (aws, aws-cn, aws-us-gov). */
export function awsManagedPolicyArn(partition: string, path: string): string {
  return `arn:${partition}:iam::aws:policy/${path}`;
}

function checked(statement: PolicyStatement): PolicyStatement {
  if (statement.actions.length === 0)
    throw new Error(`policy statement ${statement.sid ?? ""}: needs at least one action`.replace("  ", " "));
  if (statement.actions.includes("*") && statement.resources.includes("*")) {
    throw new Error(
      `policy statement ${statement.sid ?? "(no sid)"}: "*" actions on "*" resources is never allowed; name the actions and ARNs`,
    );
  }
  return statement;
}

function toIam(s: PolicyStatement): Record<string, unknown> {
  const out: Record<string, unknown> = { Effect: s.effect ?? "Allow", Action: [...s.actions] };
  if (s.sid) out.Sid = s.sid;
  if (s.resources.length > 0) out.Resource = [...s.resources];
  if (s.principals) out.Principal = s.principals;
  if (s.conditions) out.Condition = s.conditions;
  return out;
}
