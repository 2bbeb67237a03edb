/**
 * Reading `terraform show -json` plan documents: what each stack would create, update, replace or
 * delete, why, which of those lose data (DANGER), and what changed outside Terraform (drift).
 * Pure functions over the documents, so tests feed them plans they build by hand.
 *
 * Nothing here prints an attribute value: only addresses, actions, reasons and attribute names,
 * because plan documents carry secrets in their before/after values.
 */

/** One entry of `resource_changes` or `resource_drift` in a plan document. */
export interface PlannedResourceChange {
  readonly address: string;
  readonly type: string;
  readonly mode?: "managed" | "data";
  readonly action_reason?: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: unknown;
    readonly after?: unknown;
    readonly after_unknown?: unknown;
    readonly replace_paths?: readonly (readonly (string | number)[])[];
    readonly importing?: unknown;
  };
}

/** The parts of Terraform's JSON plan representation (format 1.x) this module reads. */
export interface ShowJsonPlan {
  readonly resource_changes?: readonly PlannedResourceChange[];
  readonly resource_drift?: readonly PlannedResourceChange[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
  readonly errored?: boolean;
}

/**
 * Resource types that hold data no apply can bring back: destroying or replacing one loses
 * rows, objects, keys or secret values. Replacing a KMS key orphans everything it encrypted.
 */
export const STATEFUL_TYPES: ReadonlySet<string> = new Set([
  "aws_db_instance",
  "aws_rds_cluster",
  "aws_db_snapshot",
  "aws_s3_bucket",
  "aws_secretsmanager_secret",
  "aws_kms_key",
  "aws_elasticache_replication_group",
  "aws_elasticache_cluster",
  "aws_dynamodb_table",
  "aws_efs_file_system",
  "aws_ebs_volume",
  "aws_sqs_queue",
  "aws_cloudwatch_log_group",
  "postgresql_database",
  "postgresql_role",
  "postgresql_schema",
]);

export function isStateful(type: string): boolean {
  return STATEFUL_TYPES.has(type);
}

export type ChangeAction = "create" | "update" | "replace" | "delete" | "forget";

export interface ReviewedChange {
  readonly address: string;
  readonly type: string;
  readonly action: ChangeAction;
  /** Terraform's `action_reason` in words, for replacements and deletions. */
  readonly reason?: string;
  /** Attributes that force a replacement (`replace_paths`), as `a.b[0]`. */
  readonly replacePaths: readonly string[];
  /** Top-level attributes an update or drift changes; names only, never values. */
  readonly changedAttributes: readonly string[];
  /** A stateful type that would be destroyed (planned delete or replace, or deleted outside Terraform). */
  readonly danger: boolean;
}

export interface ChangeCounts {
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly delete: number;
}

export interface StackReview {
  readonly stack: string;
  readonly status: "planned" | "skipped" | "error";
  /** Why the stack was skipped, or what failed. */
  readonly note?: string;
  readonly counts: ChangeCounts;
  /** Pending code changes: what an apply would do (`resource_changes`). */
  readonly changes: readonly ReviewedChange[];
  /** Out-of-band changes found by the refresh (`resource_drift`). */
  readonly drift: readonly ReviewedChange[];
  /** Outputs an apply would add, change or remove (a code change, never drift). */
  readonly outputChanges: readonly string[];
}

/** Hidden marker the plan workflow uses to find its own PR comment and update it in place. */
export const REVIEW_MARKER = "<!-- infra-plan-review -->";

const NO_COUNTS: ChangeCounts = { create: 0, update: 0, replace: 0, delete: 0 };

/** Terraform's `action_reason` values (plan JSON format 1.x), in an operator's words. */
const REASONS: Record<string, string> = {
  replace_because_cannot_update: "an attribute cannot be updated in place",
  replace_because_tainted: "the resource is tainted",
  replace_by_request: "replacement was requested (-replace)",
  replace_by_triggers: "replace_triggered_by fired",
  delete_because_no_resource_config: "no longer in the configuration",
  delete_because_no_module: "its module is no longer in the configuration",
  delete_because_wrong_repetition: "count/for_each was added or removed",
  delete_because_count_index: "its count index is out of range",
  delete_because_each_key: "its for_each key is gone",
  delete_because_no_move_target: "the target of its moved block is not in the configuration",
};

/** The review of one stack's plan. */
export function reviewPlan(stack: string, plan: ShowJsonPlan): StackReview {
  const changes = (plan.resource_changes ?? []).flatMap((c) => reviewChange(c, "planned"));
  const drift = (plan.resource_drift ?? []).flatMap((c) => reviewChange(c, "drift"));
  const counts: Record<keyof ChangeCounts, number> = { ...NO_COUNTS };
  for (const c of changes) if (c.action !== "forget") counts[c.action]++;
  const outputChanges = Object.entries(plan.output_changes ?? {})
    .filter(([, o]) => toAction(o.actions) !== undefined)
    .map(([name]) => name)
    .sort();
  return { stack, status: "planned", counts, changes, drift, outputChanges };
}

export function skippedStack(stack: string, note: string): StackReview {
  return { stack, status: "skipped", note, counts: NO_COUNTS, changes: [], drift: [], outputChanges: [] };
}

export function failedStack(stack: string, note: string): StackReview {
  return { stack, status: "error", note, counts: NO_COUNTS, changes: [], drift: [], outputChanges: [] };
}

/** `["delete", "create"]` -> replace, `["no-op"]` and data reads -> undefined. */
export function toAction(actions: readonly string[]): ChangeAction | undefined {
  if (actions.includes("delete") && actions.includes("create")) return "replace";
  const [only] = actions;
  if (actions.length !== 1) return undefined;
  return only === "create" || only === "update" || only === "delete" || only === "forget" ? only : undefined;
}

/** `[["ingress", 0, "cidr_blocks"]]` -> `["ingress[0].cidr_blocks"]`. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${p}`)).join("");
}

/** Top-level attribute names whose values differ or become unknown; values themselves are never returned. */
export function changedAttributes(before: unknown, after: unknown, afterUnknown: unknown = {}): string[] {
  const b = asRecord(before);
  const a = asRecord(after);
  const unknown = asRecord(afterUnknown);
  const keys = new Set([...Object.keys(b), ...Object.keys(a), ...Object.keys(unknown)]);
  return [...keys]
    .filter((k) => k !== "tags_all") // mirrors `tags` plus provider default tags: noise next to `tags`
    .filter((k) => isUnknown(unknown[k]) || JSON.stringify(b[k] ?? null) !== JSON.stringify(a[k] ?? null))
    .sort();
}

function reviewChange(change: PlannedResourceChange, kind: "planned" | "drift"): ReviewedChange[] {
  if (change.mode === "data") return [];
  const action = toAction(change.change.actions);
  if (!action) return [];
  const destroys = action === "delete" || action === "replace";
  return [
    {
      address: change.address,
      type: change.type,
      action,
      reason: destroys && change.action_reason ? (REASONS[change.action_reason] ?? change.action_reason) : undefined,
      replacePaths: action === "replace" ? (change.change.replace_paths ?? []).map(formatPath) : [],
      changedAttributes:
        action === "update" || (kind === "planned" && action === "replace")
          ? changedAttributes(change.change.before, change.change.after, change.change.after_unknown)
          : [],
      danger: destroys && isStateful(change.type),
    },
  ];
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function isUnknown(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

// ---------------------------------------------------------------- verdicts and exit codes

export const EXIT = { noChanges: 0, error: 1, changes: 2, danger: 3 } as const;

/** Planned destroys of stateful resources, across stacks. */
export function dangers(reviews: readonly StackReview[]): { stack: string; change: ReviewedChange }[] {
  return reviews.flatMap((r) => r.changes.filter((c) => c.danger).map((change) => ({ stack: r.stack, change })));
}

function hasPendingChanges(r: StackReview): boolean {
  return r.changes.length > 0 || r.outputChanges.length > 0;
}

/**
 * `npm run plan`: 1 when any stack could not be planned (an incomplete review must never pass a
 * gate, whatever else it found), then 3 for DANGER under `failOnDanger`, 2 for changes, else 0.
 */
export function planExitCode(reviews: readonly StackReview[], options: { failOnDanger?: boolean } = {}): number {
  if (reviews.some((r) => r.status === "error")) return EXIT.error;
  if (options.failOnDanger && dangers(reviews).length > 0) return EXIT.danger;
  return reviews.some(hasPendingChanges) ? EXIT.changes : EXIT.noChanges;
}

/**
 * `npm run drift`: 1 on any error, 2 when something changed outside Terraform, else 0. Pending code
 * changes (a refresh-only plan also lists outputs not yet applied) are reported but are not drift.
 */
export function driftExitCode(reviews: readonly StackReview[]): number {
  if (reviews.some((r) => r.status === "error")) return EXIT.error;
  return reviews.some((r) => r.drift.length > 0) ? EXIT.changes : EXIT.noChanges;
}

// ---------------------------------------------------------------- renderers

export type ReviewMode = "plan" | "drift";

export interface RenderOptions {
  readonly mode: ReviewMode;
  readonly environment: string;
  /** The exit code the command returns, stated at the end of the report. */
  readonly exitCode: number;
}

const SYMBOL: Record<ChangeAction, string> = { create: "+", update: "~", replace: "-/+", delete: "-", forget: "." };

/** Lists longer than this collapse into a count: a PR comment holds at most 65,536 characters. */
const MAX_LISTED = 60;
const MAX_MARKDOWN = 60_000;

const VERDICT: Record<ReviewMode, Record<number, string>> = {
  plan: {
    0: "no changes",
    1: "error: at least one stack could not be planned",
    2: "changes pending",
    3: "DANGER: a stateful resource would be destroyed or replaced",
  },
  drift: { 0: "no drift", 1: "error: at least one stack could not be checked", 2: "drift found: resources changed outside Terraform" },
};

function verdict(options: RenderOptions): string {
  return `${VERDICT[options.mode][options.exitCode] ?? "unknown"} (exit ${options.exitCode})`;
}

function describe(c: ReviewedChange, drift = false): string {
  const parts: string[] = [];
  if (drift) parts.push(c.action === "delete" ? "deleted outside Terraform" : "changed outside Terraform");
  if (c.reason) parts.push(c.reason);
  if (c.replacePaths.length > 0) parts.push(`forced by ${c.replacePaths.join(", ")}`);
  if (c.changedAttributes.length > 0) parts.push(`attributes: ${c.changedAttributes.join(", ")}`);
  return parts.join("; ");
}

/** Plain text for a terminal: one header line per stack, then its changes. */
export function renderText(reviews: readonly StackReview[], options: RenderOptions): string {
  const lines = [`${options.mode === "plan" ? "Plan review" : "Drift report"}: ${options.environment}`, ""];
  for (const r of reviews) {
    if (r.status !== "planned") {
      lines.push(`${r.stack}  ${r.status === "error" ? "ERROR" : "skipped"}: ${r.note}`);
      continue;
    }
    const { create, update, replace, delete: del } = r.counts;
    lines.push(`${r.stack}  create ${create}  update ${update}  replace ${replace}  delete ${del}  drift ${r.drift.length}`);
    const ordered = [...r.changes].sort((a, b) => rank(a) - rank(b) || a.address.localeCompare(b.address));
    for (const c of ordered) {
      const detail = describe(c);
      lines.push(`  ${SYMBOL[c.action].padEnd(3)} ${c.address}${c.danger ? "  DANGER" : ""}${detail ? `  (${detail})` : ""}`);
    }
    if (r.outputChanges.length > 0) lines.push(`  outputs not yet applied (pending code change): ${r.outputChanges.join(", ")}`);
    for (const c of r.drift) lines.push(`  drift ${c.address}${c.danger ? "  DANGER" : ""}  (${describe(c, true)})`);
  }
  const danger = dangers(reviews);
  if (danger.length > 0) {
    lines.push("", `DANGER: ${danger.length} stateful resource(s) would be destroyed or replaced:`);
    lines.push(...danger.map(({ stack, change }) => `  ${stack}: ${change.action} ${change.address}`));
  }
  lines.push("", `result: ${verdict(options)}`);
  return lines.join("\n");
}

/** Markdown for a PR comment and `$GITHUB_STEP_SUMMARY`; starts with REVIEW_MARKER. */
export function renderMarkdown(reviews: readonly StackReview[], options: RenderOptions): string {
  const title = options.mode === "plan" ? `Terraform plan review: \`${options.environment}\`` : `Drift report: \`${options.environment}\``;
  const out = [REVIEW_MARKER, `## ${title}`, "", `**Result: ${verdict(options)}**`, ""];

  const danger = dangers(reviews);
  if (danger.length > 0) {
    out.push(`> [!CAUTION]`, `> **DANGER**: ${danger.length} stateful resource(s) would be destroyed or replaced.`);
    for (const { stack, change } of danger) out.push(`> - \`${change.address}\` in \`${stack}\`: ${change.action}${suffix(change)}`);
    out.push("");
  }

  out.push("| stack | create | update | replace | delete | drift | note |", "| --- | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of reviews) {
    if (r.status === "planned") {
      const { create, update, replace, delete: del } = r.counts;
      const note = r.changes.some((c) => c.danger) ? "**DANGER**" : "";
      out.push(`| \`${r.stack}\` | ${create} | ${update} | ${replace} | ${del} | ${r.drift.length} | ${note} |`);
    } else {
      const note = r.status === "error" ? `**error**: ${oneLine(r.note?.split("\n")[0])} (below)` : `skipped: ${oneLine(r.note)}`;
      out.push(`| \`${r.stack}\` | | | | | | ${note} |`);
    }
  }

  for (const r of reviews) {
    const destroys = r.changes.filter((c) => c.action === "replace" || c.action === "delete");
    const updates = r.changes.filter((c) => c.action === "update");
    const creates = r.changes.filter((c) => c.action === "create");
    if (r.status === "error") {
      out.push("", `### \`${r.stack}\`: error`, "", "```", r.note ?? "", "```");
      continue;
    }
    if (destroys.length + updates.length + creates.length + r.drift.length + r.outputChanges.length === 0) continue;
    out.push("", `### \`${r.stack}\``);
    if (destroys.length > 0) {
      out.push("", "Replaced or deleted:");
      out.push(...destroys.map((c) => `- ${c.danger ? "**DANGER** " : ""}${c.action} \`${c.address}\`${suffix(c)}`));
    }
    if (updates.length > 0) out.push("", "Updated in place:", ...listed(updates, (c) => `- \`${c.address}\`${suffix(c)}`));
    if (creates.length > 0) {
      out.push("", `<details><summary>Created: ${creates.length}</summary>`, "");
      out.push(...listed(creates, (c) => `- \`${c.address}\``), "", "</details>");
    }
    if (r.outputChanges.length > 0) {
      out.push("", `Outputs not yet applied (a pending code change, not drift): ${r.outputChanges.map((o) => `\`${o}\``).join(", ")}`);
    }
    if (r.drift.length > 0) {
      out.push("", "Changed outside Terraform (drift):");
      out.push(...listed(r.drift, (c) => `- ${c.danger ? "**DANGER** " : ""}\`${c.address}\`: ${describe(c, true)}`));
    }
  }
  const text = out.join("\n");
  return text.length <= MAX_MARKDOWN ? text : `${text.slice(0, MAX_MARKDOWN)}\n\n_(cut at ${MAX_MARKDOWN} characters: see the job log)_`;
}

function suffix(c: ReviewedChange): string {
  const detail = describe(c);
  return detail ? `: ${detail}` : "";
}

function listed(changes: readonly ReviewedChange[], line: (c: ReviewedChange) => string): string[] {
  const shown = changes.slice(0, MAX_LISTED).map(line);
  if (changes.length > MAX_LISTED) shown.push(`- ... and ${changes.length - MAX_LISTED} more (see the job log)`);
  return shown;
}

function rank(c: ReviewedChange): number {
  return ["replace", "delete", "update", "create", "forget"].indexOf(c.action);
}

function oneLine(text = ""): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}
