/**
 * `npm run scan`'s model and report: reads checkov's JSON report of the synthesized stacks and the
 * workflow scanners' JSON (zizmor, actionlint), applies the scanner skips each stack's JSON carries
 * (constructs/guardrails/scanner-skips.ts writes them into `//.guardrails.suppressed`), and formats one
 * table per stack plus the closing `N passed, M failed` line. No process is started here (scripts/scan.ts
 * runs the tools), so every function is tested on recorded shapes.
 */

/** One checkov result as its JSON report writes it (the fields we read). */
export interface CheckovRecord {
  readonly check_id: string;
  readonly check_name?: string;
  /** `aws_s3_bucket.logs` from graph checks, `resource.logs` (no type) from the terraform_json runner's resource checks. */
  readonly resource: string;
  /** Relative to the scanned folder: `/<stack>/cdk.tf.json`. */
  readonly file_path: string;
}

/** One runner's report (checkov prints an object for one runner, a list for several, a bare summary when nothing was found). */
interface CheckovReport {
  readonly check_type?: string;
  readonly results?: {
    readonly passed_checks?: readonly CheckovRecord[];
    readonly failed_checks?: readonly CheckovRecord[];
    readonly skipped_checks?: readonly CheckovRecord[];
    readonly parsing_errors?: readonly string[];
  };
}

export interface CheckovResults {
  readonly passed: readonly CheckovRecord[];
  readonly failed: readonly CheckovRecord[];
  /** Checks checkov itself skipped (none with our setup: it cannot skip inside *.tf.json). */
  readonly skipped: readonly CheckovRecord[];
  /** Files checkov could not read: those stacks were not scanned at all. */
  readonly parsingErrors: readonly string[];
}

/** Parses checkov's `-o json` output. Throws when it is not a checkov report (a crash, a usage error). */
export function parseCheckovOutput(text: string): CheckovResults {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`checkov printed no JSON report: ${firstLine(text)}`);
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as CheckovReport[];
  if (!reports.every((r) => typeof r === "object" && r !== null && ("results" in r || "passed" in r))) {
    throw new Error(`checkov printed JSON that is not a report: ${firstLine(text)}`);
  }
  const all = (key: "passed_checks" | "failed_checks" | "skipped_checks") => reports.flatMap((r) => r.results?.[key] ?? []);
  return {
    passed: all("passed_checks"),
    failed: all("failed_checks"),
    skipped: all("skipped_checks"),
    parsingErrors: reports.flatMap((r) => r.results?.parsing_errors ?? []),
  };
}

/** A scanner skip read back from a synthesized stack. */
export interface RecordedSkip {
  /** Terraform address, e.g. `aws_s3_bucket.state-bucket_828F7150`. */
  readonly address: string;
  readonly check: string;
  readonly reason: string;
}

/** What scan needs from one synthesized stack's cdk.tf.json. */
export interface StackIndex {
  /** Logical id -> resource type: the terraform_json runner reports `resource.<id>` without the type. */
  readonly typeOf: ReadonlyMap<string, string>;
  readonly skips: readonly RecordedSkip[];
}

/** Reads the resource types and the recorded checkov skips of a stack's synthesized JSON. */
export function indexStack(tfJson: unknown, scanner = "checkov"): StackIndex {
  const typeOf = new Map<string, string>();
  const skips: RecordedSkip[] = [];
  const resources = (isRecord(tfJson) && isRecord(tfJson.resource) ? tfJson.resource : {}) as Record<string, unknown>;
  for (const [type, byName] of Object.entries(resources)) {
    if (!isRecord(byName)) continue;
    for (const [name, body] of Object.entries(byName)) {
      typeOf.set(name, type);
      const suppressed = isRecord(body) ? dig(body, ["//", "guardrails", "suppressed"]) : undefined;
      for (const entry of Array.isArray(suppressed) ? suppressed : []) {
        if (isRecord(entry) && entry.scanner === scanner && typeof entry.rule === "string") {
          skips.push({ address: `${type}.${name}`, check: entry.rule, reason: String(entry.reason ?? "") });
        }
      }
    }
  }
  return { typeOf, skips };
}

/** The Terraform address of a checkov record's resource: `resource.x` becomes `<type of x>.x`. */
export function addressOf(resource: string, index: StackIndex): string {
  const match = /^resource\.(.+)$/.exec(resource);
  if (!match) return resource;
  const type = index.typeOf.get(match[1]);
  return type ? `${type}.${match[1]}` : resource;
}

export interface Finding {
  readonly check: string;
  readonly name: string;
  readonly address: string;
  /** Set when the finding is skipped: the reason recorded next to the resource. */
  readonly reason?: string;
}

export interface StackScan {
  readonly stack: string;
  readonly passed: number;
  readonly failed: readonly Finding[];
  readonly skipped: readonly Finding[];
  /** Skips recorded on a resource whose check did not fail there: harmless, but worth a look. */
  readonly unusedSkips: readonly RecordedSkip[];
  /** checkov could not read this stack: it was not scanned. */
  readonly unreadable: boolean;
}

/** The stack a checkov file path belongs to: `/dev-data/cdk.tf.json` -> `dev-data`. */
export function stackOfPath(filePath: string): string {
  const parts = filePath.split(/[\\/]/).filter((p) => p.length > 0);
  return parts.length >= 2 ? parts[parts.length - 2] : (parts[0] ?? "");
}

/**
 * Per stack: checkov's passed checks, its failures minus those the failing resource carries a skip for
 * (those count as skipped, with the recorded reason), and the skips nothing needed.
 */
export function classify(results: CheckovResults, stacks: ReadonlyMap<string, StackIndex>): StackScan[] {
  const unreadable = new Set(results.parsingErrors.map(stackOfPath));
  return [...stacks.entries()].map(([stack, index]) => {
    const mine = (records: readonly CheckovRecord[]) => records.filter((r) => stackOfPath(r.file_path) === stack);
    const failed: Finding[] = [];
    const skipped: Finding[] = [];
    const used = new Set<RecordedSkip>();
    for (const record of [...mine(results.failed), ...mine(results.skipped)]) {
      const address = addressOf(record.resource, index);
      const skip = index.skips.find((s) => s.address === address && s.check === record.check_id);
      const finding = { check: record.check_id, name: record.check_name ?? "", address };
      if (skip) {
        used.add(skip);
        skipped.push({ ...finding, reason: skip.reason });
      } else {
        failed.push(finding);
      }
    }
    return {
      stack,
      passed: mine(results.passed).length,
      failed,
      skipped,
      unusedSkips: index.skips.filter((s) => !used.has(s)),
      unreadable: unreadable.has(stack),
    };
  });
}

/** One workflow scanner's findings (zizmor, actionlint). */
export interface WorkflowScan {
  readonly tool: string;
  readonly files: readonly string[];
  /** `file:line: [rule] message` per finding. */
  readonly findings: readonly string[];
}

interface ZizmorFinding {
  readonly ident: string;
  readonly desc?: string;
  /** True for a finding the workflow ignores with a `# zizmor: ignore[...]` comment. */
  readonly ignored?: boolean;
  readonly locations?: ReadonlyArray<{
    readonly symbolic?: { readonly key?: { readonly Local?: { readonly verbatim_path?: string; readonly given_path?: string } } };
    readonly concrete?: { readonly location?: { readonly start_point?: { readonly row?: number } } };
  }>;
}

/** zizmor's `--format json` output: a list of findings (empty when clean). */
export function parseZizmorOutput(text: string): string[] {
  const parsed = parseJson(text, "zizmor");
  if (!Array.isArray(parsed)) throw new Error(`zizmor printed JSON that is not a list of findings: ${firstLine(text)}`);
  return (parsed as ZizmorFinding[])
    .filter((f) => f.ignored !== true)
    .map((f) => {
      const where = f.locations?.[0];
      const local = where?.symbolic?.key?.Local;
      const file = local?.verbatim_path ?? local?.given_path ?? "?";
      const row = where?.concrete?.location?.start_point?.row;
      return `${file}${row === undefined ? "" : `:${row + 1}`}: [${f.ident}] ${f.desc ?? ""}`.trim();
    });
}

interface ActionlintError {
  readonly message: string;
  readonly filepath: string;
  readonly line: number;
  readonly kind: string;
}

/** actionlint's `-format '{{json .}}'` output: a list of errors (`[]` or nothing when clean). */
export function parseActionlintOutput(text: string): string[] {
  if (text.trim() === "") return [];
  const parsed = parseJson(text, "actionlint");
  if (!Array.isArray(parsed)) throw new Error(`actionlint printed JSON that is not a list of errors: ${firstLine(text)}`);
  return (parsed as ActionlintError[]).map((e) => `${e.filepath}:${e.line}: [${e.kind}] ${e.message}`);
}

export interface Totals {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * What the closing line counts: every checkov check result (passed, failed unless skipped; an unreadable
 * stack is one failure), and per workflow scanner one pass per clean workflow file plus one failure per
 * finding.
 */
export function totals(stacks: readonly StackScan[], workflows: readonly WorkflowScan[]): Totals {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const s of stacks) {
    passed += s.passed;
    failed += s.failed.length + (s.unreadable ? 1 : 0);
    skipped += s.skipped.length;
  }
  for (const w of workflows) {
    const dirty = new Set(w.findings.map((f) => w.files.find((file) => f.startsWith(file)) ?? f));
    passed += w.files.filter((file) => !dirty.has(file)).length;
    failed += w.findings.length;
  }
  return { passed, failed, skipped };
}

/** The per-stack table, every unskipped failure, the workflow scanners' findings and the closing line. */
export function formatReport(stacks: readonly StackScan[], workflows: readonly WorkflowScan[]): string {
  const name = Math.max(5, ...stacks.map((s) => s.stack.length));
  const row = (cells: readonly string[]) =>
    `${cells[0].padEnd(name)}  ${cells
      .slice(1)
      .map((c) => c.padStart(7))
      .join("  ")}`;
  const lines = ["checkov (terraform_json) per stack:", row(["stack", "passed", "failed", "skipped"])];
  for (const s of stacks) {
    lines.push(row([s.stack, String(s.passed), s.unreadable ? "unread" : String(s.failed.length), String(s.skipped.length)]));
  }
  const t = totals(stacks, []);
  lines.push(row(["total", String(t.passed), String(t.failed), String(t.skipped)]));
  const failures = stacks.flatMap((s) => [
    ...(s.unreadable ? [`  ${s.stack}: checkov could not parse cdk.tf.json, nothing in it was checked`] : []),
    ...s.failed.map((f) => `  ${s.stack}: ${f.check} ${f.address}: ${f.name}`),
  ]);
  if (failures.length > 0) {
    lines.push(
      "",
      "FAILED (fix it in the construct, or add a skip with its reason to constructs/guardrails/scanner-skips.ts):",
      ...failures,
    );
  }
  const unused = stacks.flatMap((s) => s.unusedSkips.map((u) => `  ${s.stack}: ${u.check} ${u.address}`));
  if (unused.length > 0) {
    lines.push(
      "",
      `note: ${unused.length} recorded skip(s) matched no failure (the check passed there, or does not run on that resource):`,
      ...unused,
    );
  }
  for (const w of workflows) {
    lines.push("", `${w.tool} on ${w.files.length} workflow(s): ${w.findings.length === 0 ? "clean" : `${w.findings.length} finding(s)`}`);
    lines.push(...w.findings.map((f) => `  ${f}`));
  }
  const all = totals(stacks, workflows);
  lines.push("", `${all.skipped} checkov checks skipped with a recorded reason`, `${all.passed} passed, ${all.failed} failed`);
  return lines.join("\n");
}

/**
 * The stack JSON as checkov's terraform_json runner can read it: checkov 3.3.30 rejects the whole file
 * when `moved` is a list of blocks (valid HCL JSON, what cdktf writes), so the scan copy leaves `moved`
 * out; moved blocks only rename addresses and hold no configuration to check.
 */
export function forCheckov(tfJson: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tfJson).filter(([key]) => key !== "moved"));
}

function parseJson(text: string, tool: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${tool} printed no JSON: ${firstLine(text)}`);
  }
}

function dig(value: Record<string, unknown>, path: readonly string[]): unknown {
  let at: unknown = value;
  for (const key of path) {
    if (!isRecord(at)) return undefined;
    at = at[key];
  }
  return at;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 200) || "(nothing)";
}
