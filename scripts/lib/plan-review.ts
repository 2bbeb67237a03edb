/**
 * Reading `terraform show -json` plan documents: what each stack would create, update, replace or
 * delete, why, which of those lose data (DANGER), and what changed outside Terraform (drift).
 * Pure functions over the documents, so tests feed them plans they build by hand.
 *
 * Planned changes are shown by address, action, reason and attribute names only, because plan
 * documents carry secrets in their before/after values. Drift also shows `before -> after` for an
 * attribute whose two values are short scalars that Terraform does not mark sensitive and whose name
 * does not look like a credential (`backup_retention_period 7 -> 3`); anything else by name only.
 *
 * What counts as drift: an attribute that changed outside Terraform (the refresh's `resource_drift`)
 * AND that the next apply would set back (the same attribute changes in `resource_changes` of the same
 * normal plan), plus resources deleted outside Terraform. So:
 * - computed values that move by themselves (`aws_db_instance.latest_restorable_time`), attributes the
 *   configuration does not set (a null read back as `[]`, an SG's `ingress` filled by separate rule
 *   resources), `ignore_changes` and values the provider treats as equal are not drift: no apply
 *   would touch them, and a refresh-only plan lists them on every run, so a drift check built on it
 *   never comes back clean;
 * - a configuration change not yet deployed is not drift either: it is in `resource_changes` only
 *   (`npm run plan` reviews it);
 * - an out-of-band change of an attribute the configuration sets (backup retention, an alarm's
 *   threshold, a rule's CIDR, tags) is in both, and is drift.
 * Security group rules added by hand are found apart, across all of an environment's plans
 * (scripts/lib/unmanaged-rules.ts): no single plan shows them.
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
    /** Which parts of `before` / `after` are sensitive: `true`, or the same shape as the value. */
    readonly before_sensitive?: unknown;
    readonly after_sensitive?: unknown;
  };
}

/** The parts of Terraform's JSON plan representation (format 1.x) this module reads. */
export interface ShowJsonPlan {
  readonly resource_changes?: readonly PlannedResourceChange[];
  readonly resource_drift?: readonly PlannedResourceChange[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
  readonly errored?: boolean;
  /** The refreshed state the plan starts from (scripts/lib/unmanaged-rules.ts reads groups and rules there). */
  readonly prior_state?: { readonly values?: { readonly root_module?: StateModule } };
  /** The configuration: per resource, the arguments it sets (`expressions`). */
  readonly configuration?: {
    readonly root_module?: {
      readonly resources?: readonly { readonly address: string; readonly expressions?: Readonly<Record<string, unknown>> }[];
    };
  };
}

/** A module of a state representation: its resources' values, and its child modules. */
export interface StateModule {
  readonly resources?: readonly {
    readonly address: string;
    readonly type: string;
    readonly mode?: string;
    readonly values?: Record<string, unknown>;
  }[];
  readonly child_modules?: readonly StateModule[];
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
  /** Drift only: `7 -> 3` by attribute, for the attributes whose values may be shown (see the top of this file). */
  readonly values?: Readonly<Record<string, string>>;
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
  /** Out-of-band changes the next apply would set back (see the top of this file). */
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
  const drift = driftOf(plan);
  const counts: Record<keyof ChangeCounts, number> = { ...NO_COUNTS };
  for (const c of changes) if (c.action !== "forget") counts[c.action]++;
  const outputChanges = Object.entries(plan.output_changes ?? {})
    .filter(([, o]) => toAction(o.actions) !== undefined)
    .map(([name]) => name)
    .sort();
  return { stack, status: "planned", counts, changes, drift, outputChanges };
}

/** A stack whose plan changes nothing: what reviewPlan makes of a plan with only no-op changes. */
export function unchangedStack(stack: string): StackReview {
  return { stack, status: "planned", counts: NO_COUNTS, changes: [], drift: [], outputChanges: [] };
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

/**
 * Drift as defined at the top of this file: per resource of `resource_drift`, the changed attributes
 * that `resource_changes` changes back (to a known value; a value only "known after apply" is the
 * provider recomputing, not a revert). A resource deleted outside Terraform is drift as a whole.
 */
export function driftOf(plan: ShowJsonPlan): ReviewedChange[] {
  const planned = new Map((plan.resource_changes ?? []).map((c) => [c.address, c]));
  return (plan.resource_drift ?? []).flatMap((drift) => {
    if (drift.mode === "data") return [];
    const action = toAction(drift.change.actions);
    if (action === "delete") return reviewChange(drift, "drift");
    if (action !== "update") return [];
    const revert = planned.get(drift.address);
    const revertAction = revert ? toAction(revert.change.actions) : undefined;
    if (!revert || (revertAction !== "update" && revertAction !== "replace")) return [];
    const unknown = asRecord(revert.change.after_unknown);
    const reverted = new Set(changedAttributes(revert.change.before, revert.change.after).filter((a) => !isUnknown(unknown[a])));
    const attributes = changedAttributes(drift.change.before, drift.change.after).filter((a) => reverted.has(a));
    if (attributes.length === 0) return [];
    const values = Object.fromEntries(attributes.flatMap((a) => shownValues(drift, a)));
    return [{ ...reviewChange(drift, "drift")[0], changedAttributes: attributes, ...(Object.keys(values).length > 0 ? { values } : {}) }];
  });
}

/** Attribute names whose values are never shown, sensitive or not. */
const CREDENTIAL_NAME = /password|secret|token|private|key_material|credential|user_data/i;

/** `[attribute, "7 -> 3"]` when both values of a drifted attribute may be shown, else nothing. */
function shownValues(drift: PlannedResourceChange, attribute: string): [string, string][] {
  if (CREDENTIAL_NAME.test(attribute)) return [];
  if (
    marksSensitive(asRecord(drift.change.before_sensitive)[attribute]) ||
    marksSensitive(asRecord(drift.change.after_sensitive)[attribute])
  ) {
    return [];
  }
  const before = scalar(asRecord(drift.change.before)[attribute]);
  const after = scalar(asRecord(drift.change.after)[attribute]);
  return before !== undefined && after !== undefined ? [[attribute, `${before} -> ${after}`]] : [];
}

function marksSensitive(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.some(marksSensitive);
  if (value && typeof value === "object") return Object.values(value).some(marksSensitive);
  return false;
}

/** A number, boolean, null or short one-line string as written in the report; undefined for anything else. */
function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string" && value.length <= 64 && !/[\r\n]/.test(value)) return JSON.stringify(value);
  return undefined;
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
 * `npm run drift`: 1 on any error, 2 when something changed outside Terraform that an apply would set
 * back, else 0. Pending code changes (configuration not yet deployed) are counted but are not drift.
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
  /** Lines about the run as a whole (a check that could not run), printed before the result. */
  readonly notes?: readonly string[];
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

/** `backup_retention_period 7 -> 3, tags`, or `deleted outside Terraform`. */
export function driftDetail(c: ReviewedChange): string {
  if (c.action === "delete") return "deleted outside Terraform";
  return c.changedAttributes.map((a) => (c.values?.[a] ? `${a} ${c.values[a]}` : a)).join(", ");
}

/** The planned changes of a drift check that drift does not explain: configuration not yet deployed. */
function pendingBesidesDrift(r: StackReview): number {
  const drifted = new Set(r.drift.map((d) => d.address));
  return r.changes.filter((c) => !drifted.has(c.address)).length + r.outputChanges.length;
}

function describe(c: ReviewedChange): string {
  const parts: string[] = [];
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
    const driftLines = r.drift.map((c) => `  drift ${c.address}${c.danger ? "  DANGER" : ""}: ${driftDetail(c)}`);
    if (options.mode === "drift") {
      // What an apply would also change is a code change not yet deployed: counted here, reviewed by npm run plan.
      const pending = pendingBesidesDrift(r);
      lines.push(`${r.stack}  ${r.drift.length === 0 ? "no drift" : `drift ${r.drift.length}`}`, ...driftLines);
      if (pending > 0) lines.push(`  (${pending} pending code change(s), not drift: npm run plan -- ${options.environment} shows them)`);
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
    lines.push(...driftLines);
  }
  const danger = dangers(reviews);
  if (danger.length > 0) {
    lines.push("", `DANGER: ${danger.length} stateful resource(s) would be destroyed or replaced:`);
    lines.push(...danger.map(({ stack, change }) => `  ${stack}: ${change.action} ${change.address}`));
  }
  if (options.notes?.length) lines.push("", ...options.notes.map((n) => `note: ${n}`));
  lines.push("", `result: ${verdict(options)}`);
  return lines.join("\n");
}

/** Markdown for a PR comment and `$GITHUB_STEP_SUMMARY`; starts with REVIEW_MARKER. */
export function renderMarkdown(reviews: readonly StackReview[], options: RenderOptions): string {
  const title = options.mode === "plan" ? `Terraform plan review: \`${options.environment}\`` : `Drift report: \`${options.environment}\``;
  const out = [REVIEW_MARKER, `## ${title}`, "", `**Result: ${verdict(options)}**`, ""];
  if (options.notes?.length) out.push(...options.notes.map((n) => `_Note: ${n}._`), "");

  const danger = dangers(reviews);
  if (danger.length > 0) {
    out.push(`> [!CAUTION]`, `> **DANGER**: ${danger.length} stateful resource(s) would be destroyed or replaced.`);
    for (const { stack, change } of danger) out.push(`> - \`${change.address}\` in \`${stack}\`: ${change.action}${suffix(change)}`);
    out.push("");
  }

  if (options.mode === "drift") return fit(out.concat(driftMarkdown(reviews, options)).join("\n"));

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
    if (r.drift.length > 0) out.push("", "Changed outside Terraform (drift):", ...listed(r.drift, driftItem));
  }
  return fit(out.join("\n"));
}

/** The drift report's table (drift and a note per stack) and, per stack, what drifted. */
function driftMarkdown(reviews: readonly StackReview[], options: RenderOptions): string[] {
  const out = ["| stack | drift | note |", "| --- | ---: | --- |"];
  for (const r of reviews) {
    if (r.status === "planned") {
      const pending = pendingBesidesDrift(r);
      const notes = [r.drift.some((c) => c.danger) ? "**DANGER**" : "", pending > 0 ? `${pending} pending code change(s), not drift` : ""];
      out.push(`| \`${r.stack}\` | ${r.drift.length} | ${notes.filter(Boolean).join("; ")} |`);
    } else {
      const note = r.status === "error" ? `**error**: ${oneLine(r.note?.split("\n")[0])} (below)` : `skipped: ${oneLine(r.note)}`;
      out.push(`| \`${r.stack}\` | | ${note} |`);
    }
  }
  for (const r of reviews) {
    if (r.status === "error") out.push("", `### \`${r.stack}\`: error`, "", "```", r.note ?? "", "```");
    else if (r.drift.length > 0) out.push("", `### \`${r.stack}\``, "", "Changed outside Terraform:", ...listed(r.drift, driftItem));
  }
  if (reviews.some((r) => r.status === "planned" && pendingBesidesDrift(r) > 0)) {
    out.push("", `Pending code changes are not drift: \`npm run plan -- ${options.environment}\` reviews them.`);
  }
  return out;
}

function driftItem(c: ReviewedChange): string {
  return `- ${c.danger ? "**DANGER** " : ""}\`${c.address}\`: ${driftDetail(c)}`;
}

function fit(text: string): string {
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
