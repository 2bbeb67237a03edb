/**
 * Reading the plan of this release against the state a previous release left (`npm run upgrade-check`):
 * every resource action other than no-op, by address, with `moved` addresses, and the verdict. A
 * stateful resource (one that holds data, or names and keys other things depend on) deleted or
 * replaced fails the check: an upgrade that does so needs a `moved` block, or a migration plan.
 *
 * Pure functions over `terraform show -json` documents, so tests feed them plans written by hand.
 * Only addresses, actions and attribute NAMES are read out: plan documents carry secret values.
 */
import { changedAttributes, formatPath, isStateful, type PlannedResourceChange } from "./plan-review";

/**
 * Types an upgrade must never delete or replace, on top of plan-review.ts STATEFUL_TYPES (what loses
 * data on destroy): a secret version holds the value the application reads, a parameter group and an
 * alert topic are named by other resources and by people (subscriptions are confirmed by hand).
 */
const UPGRADE_STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws_secretsmanager_secret_version",
  "aws_db_parameter_group",
  "aws_db_subnet_group",
  "aws_elasticache_parameter_group",
  "aws_elasticache_subnet_group",
  "aws_sns_topic",
  "aws_sns_topic_subscription",
  "aws_kms_alias",
  "aws_ecr_repository",
  "aws_sesv2_email_identity",
]);

/** Every S3 bucket resource (`aws_s3_bucket`, `aws_s3_bucket_versioning`, ...): a bucket's settings guard its objects. */
const STATEFUL_PREFIXES = ["aws_s3_bucket"];

/** Whether deleting or replacing a resource of `type` must fail the upgrade check. */
export function isUpgradeStateful(type: string): boolean {
  return isStateful(type) || UPGRADE_STATEFUL_TYPES.has(type) || STATEFUL_PREFIXES.some((p) => type.startsWith(p));
}

/** A resource change as `terraform show -json` writes it, with the address it had before a `moved` block. */
export interface UpgradeResourceChange extends PlannedResourceChange {
  readonly previous_address?: string;
}

export interface UpgradePlanDocument {
  readonly resource_changes?: readonly UpgradeResourceChange[];
}

export type UpgradeAction = "create" | "update" | "replace" | "delete" | "forget" | "move";

export interface UpgradeChange {
  readonly address: string;
  readonly type: string;
  /** The main action; a moved resource that is also updated has action `update` and `movedFrom`. */
  readonly action: UpgradeAction;
  /** The address in the previous release's state, when a `moved` block took it to `address`. */
  readonly movedFrom?: string;
  /** Top-level attributes an update (or replacement) changes, names only. */
  readonly attributes: readonly string[];
  /** What forces a replacement, as `a.b[0]`. */
  readonly replacePaths: readonly string[];
  /** Terraform's action_reason, as it wrote it. */
  readonly reason?: string;
  /** A stateful type deleted or replaced: fails the check. */
  readonly destroysState: boolean;
}

/** Terraform's plan actions as one action; undefined for no-op and reads. */
function actionOf(actions: readonly string[]): Exclude<UpgradeAction, "move"> | undefined {
  if (actions.includes("delete") && actions.includes("create")) return "replace";
  if (actions.length !== 1) return undefined;
  const [only] = actions;
  return only === "create" || only === "update" || only === "delete" || only === "forget" ? only : undefined;
}

/** Every change of one stack's plan other than a no-op, moves included, in the plan's order. */
export function classifyPlan(plan: UpgradePlanDocument): UpgradeChange[] {
  return (plan.resource_changes ?? []).flatMap((c): UpgradeChange[] => {
    if (c.mode === "data") return [];
    const moved = c.previous_address && c.previous_address !== c.address ? c.previous_address : undefined;
    const action = actionOf(c.change.actions) ?? (moved ? "move" : undefined);
    if (!action) return [];
    const destroys = action === "delete" || action === "replace";
    return [
      {
        address: c.address,
        type: c.type,
        action,
        ...(moved ? { movedFrom: moved } : {}),
        attributes:
          action === "update" || action === "replace" ? changedAttributes(c.change.before, c.change.after, c.change.after_unknown) : [],
        replacePaths: action === "replace" ? (c.change.replace_paths ?? []).map(formatPath) : [],
        ...(destroys && c.action_reason ? { reason: c.action_reason } : {}),
        destroysState: destroys && isUpgradeStateful(c.type),
      },
    ];
  });
}

/** Counts by action, `moved` counted apart (a moved resource may also be updated). */
export function countChanges(changes: readonly UpgradeChange[]): Record<UpgradeAction, number> {
  const counts: Record<UpgradeAction, number> = { create: 0, update: 0, replace: 0, delete: 0, forget: 0, move: 0 };
  for (const c of changes) {
    if (c.action !== "move") counts[c.action]++;
    if (c.movedFrom) counts.move++;
  }
  return counts;
}

/** `2 updates, 1 create, 3 moved` (nothing: `no changes`). */
export function summarize(changes: readonly UpgradeChange[]): string {
  const counts = countChanges(changes);
  const parts: string[] = [];
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (counts.replace) parts.push(plural(counts.replace, "replacement"));
  if (counts.delete) parts.push(plural(counts.delete, "delete"));
  if (counts.forget) parts.push(`${counts.forget} forgotten`);
  if (counts.update) parts.push(plural(counts.update, "update"));
  if (counts.create) parts.push(plural(counts.create, "create"));
  if (counts.move) parts.push(`${counts.move} moved`);
  return parts.length ? parts.join(", ") : "no changes";
}

const LABEL: Record<UpgradeAction, string> = {
  replace: "REPLACE",
  delete: "DELETE",
  forget: "forget",
  update: "update",
  create: "create",
  move: "moved",
};

/** One line per change, the dangerous ones first: `REPLACE aws_x.y (stateful): forced by a, b (replace_because_cannot_update)`. */
export function formatChanges(changes: readonly UpgradeChange[]): string[] {
  const rank: Record<UpgradeAction, number> = { replace: 0, delete: 1, forget: 2, update: 3, move: 4, create: 5 };
  return [...changes]
    .sort((a, b) => Number(b.destroysState) - Number(a.destroysState) || rank[a.action] - rank[b.action])
    .map((c) => {
      const from = c.movedFrom ? ` (moved from ${c.movedFrom})` : "";
      const stateful = c.destroysState ? " (stateful)" : "";
      const details: string[] = [];
      if (c.action === "update" && c.attributes.length) details.push(c.attributes.join(", "));
      if (c.replacePaths.length) details.push(`forced by ${c.replacePaths.join(", ")}`);
      if (c.reason) details.push(c.reason);
      return `${LABEL[c.action].padEnd(7)} ${c.address}${from}${stateful}${details.length ? `: ${details.join("; ")}` : ""}`;
    });
}

/** The changes that fail the check. */
export function stateLosses(changes: readonly UpgradeChange[]): UpgradeChange[] {
  return changes.filter((c) => c.destroysState);
}
