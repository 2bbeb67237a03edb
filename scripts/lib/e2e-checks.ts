/**
 * The pure parts of `npm run e2e`: the check ledger and its closing line, reading the project's own
 * command output (deploy step lines, the plan and drift report, status), the emulator artefacts
 * and the timings. scripts/e2e.ts runs the commands; everything here is tested without them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

// ---------------------------------------------------------------- the ledger

export type Outcome = { readonly check: string } & (
  { readonly result: "ok" } | { readonly result: "FAIL"; readonly reason: string } | { readonly result: "skip"; readonly reason: string }
);

/** Collects one line per check as it happens; skips are printed but never counted as passes. */
export class Ledger {
  readonly outcomes: Outcome[] = [];
  constructor(private readonly write: (line: string) => void) {}

  pass(check: string): void {
    this.record({ check, result: "ok" });
  }

  fail(check: string, reason: string): void {
    this.record({ check, result: "FAIL", reason });
  }

  skip(check: string, reason: string): void {
    this.record({ check, result: "skip", reason });
  }

  /** pass when `problem` is undefined, else fail with it. */
  expect(check: string, problem: string | undefined): boolean {
    if (problem === undefined) this.pass(check);
    else this.fail(check, problem);
    return problem === undefined;
  }

  get passed(): number {
    return this.outcomes.filter((o) => o.result === "ok").length;
  }

  get failed(): number {
    return this.outcomes.filter((o) => o.result === "FAIL").length;
  }

  /** `N passed, M failed`: the line .ci/run adds up. */
  summary(): string {
    return `${this.passed} passed, ${this.failed} failed`;
  }

  private record(outcome: Outcome): void {
    this.outcomes.push(outcome);
    this.write(formatOutcome(outcome));
  }
}

export function formatOutcome(o: Outcome): string {
  if (o.result === "ok") return `ok   ${o.check}`;
  const [first, ...rest] = o.reason.split("\n");
  return [`${o.result === "FAIL" ? "FAIL" : "skip"} ${o.check}: ${first}`, ...rest.map((l) => `       ${l}`)].join("\n");
}

// ---------------------------------------------------------------- command output

/** One line of a child's output and the time it arrived (ms since the epoch). */
export interface TimedLine {
  readonly at: number;
  readonly text: string;
}

/** A deploy or destroy step line (scripts/lib/operator/run.ts STEP_MARK): `==> dev-network: plan [2/5]`, `==> start-bastion`. */
export const STEP_LINE = /^==> (?:([\w-]+): (init|plan|apply) \[\d+\/\d+\]|([\w-]+)$)/;

/** The line that ends a stack or step (scripts/lib/operator/run.ts END_MARK): `<== dev-network: done [2/5]`, `<== open-tunnel: done`. */
export const END_LINE = /^<== ([\w-]+): (?:done|failed|stopped)\b/;

/**
 * Seconds per stack of a deploy or destroy run, from its step lines (`==> dev-network: init [2/5]` ...):
 * a stack's time runs from its first step line to its end line (`<== dev-network: done [2/5]`); stacks
 * run side by side, so the next stack's first line is only the fallback, for output without end lines.
 */
export function stackTimings(lines: readonly TimedLine[]): { stack: string; seconds: number }[] {
  const starts: { stack: string; at: number }[] = [];
  const ends = new Map<string, number>();
  for (const line of lines) {
    const step = line.text.match(STEP_LINE);
    const name = step ? (step[1] ?? step[3]) : undefined;
    if (name && !starts.some((s) => s.stack === name)) starts.push({ stack: name, at: line.at });
    const end = line.text.match(END_LINE);
    if (end) ends.set(end[1], line.at);
  }
  const last = lines.length > 0 ? lines[lines.length - 1].at : 0;
  return starts.map((s, i) => ({ stack: s.stack, seconds: ((ends.get(s.stack) ?? starts[i + 1]?.at ?? last) - s.at) / 1000 }));
}

/** One change line of the plan or drift report. */
export interface ReportedChange {
  readonly stack: string;
  /** `+`, `~`, `-/+`, `-` for plan changes; `drift` for out-of-band ones. */
  readonly kind: string;
  readonly address: string;
  /** Resource type, from the address (`aws_db_instance.x` -> `aws_db_instance`; module paths dropped). */
  readonly type: string;
  /** The attributes the report names; empty when it names none. */
  readonly attributes: readonly string[];
  readonly line: string;
}

export interface ParsedReport {
  /** Stacks the report planned, with their change line. */
  readonly planned: readonly string[];
  /** `stack: reason` of stacks skipped or in error. */
  readonly skipped: readonly { stack: string; reason: string }[];
  readonly errors: readonly { stack: string; reason: string }[];
  readonly changes: readonly ReportedChange[];
}

const STACK_LINE = /^(\S+)\s+(?:create \d+\s+update \d+\s+replace \d+\s+delete \d+\s+drift \d+|no drift|drift \d+)$/;
const OTHER_STACK_LINE = /^(\S+)\s+(ERROR|skipped): (.*)$/;
const CHANGE_LINE = /^\s{2}(\+|~|-\/\+|-)\s+(\S+)(?:\s+DANGER)?(?:\s+\((.*)\))?$/;
/** `  drift <address>[  DANGER]: description "a" -> "b", tags` (plan-review.ts driftDetail). */
const DRIFT_LINE = /^\s{2}drift\s+(\S+?)(?:\s+DANGER)?: (.*)$/;

/** Reads the plain-text report of `npm run plan` / `npm run drift` (scripts/lib/plan-review.ts renderText). */
export function parseReport(text: string): ParsedReport {
  const planned: string[] = [];
  const skipped: { stack: string; reason: string }[] = [];
  const errors: { stack: string; reason: string }[] = [];
  const changes: ReportedChange[] = [];
  let stack = "";
  for (const line of text.split("\n")) {
    const header = line.match(STACK_LINE);
    if (header) {
      stack = header[1];
      planned.push(stack);
      continue;
    }
    const other = line.match(OTHER_STACK_LINE);
    if (other) {
      stack = "";
      (other[2] === "ERROR" ? errors : skipped).push({ stack: other[1], reason: other[3] });
      continue;
    }
    const drifted = line.match(DRIFT_LINE);
    if (drifted && stack) {
      const deleted = drifted[2] === "deleted outside Terraform";
      changes.push({
        stack,
        kind: "drift",
        address: drifted[1],
        type: resourceType(drifted[1]),
        attributes: deleted ? [] : driftAttributes(drifted[2]),
        line: line.trim(),
      });
      continue;
    }
    const change = line.match(CHANGE_LINE);
    if (change && stack) {
      const attributes = change[3]?.match(/attributes: ([^;]*)/)?.[1];
      changes.push({
        stack,
        kind: change[1],
        address: change[2],
        type: resourceType(change[2]),
        attributes: attributes ? attributes.split(",").map((a) => a.trim()) : [],
        line: line.trim(),
      });
    }
  }
  return { planned, skipped, errors, changes };
}

/** The attribute names of a drift detail: items split at ", " outside JSON-quoted values, each its first word. */
export function driftAttributes(detail: string): string[] {
  const items: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < detail.length; i++) {
    const ch = detail[i];
    if (ch === "\\" && quoted) {
      current += ch + (detail[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && detail.startsWith(", ", i)) {
      items.push(current);
      current = "";
      i++;
      continue;
    }
    current += ch;
  }
  items.push(current);
  return items.map((item) => item.trim().split(" ")[0]).filter((a) => a !== "");
}

/** `module.a.aws_x.name[0]` -> `aws_x`; `data.aws_y.z` -> `data.aws_y`. */
export function resourceType(address: string): string {
  const parts = address.replace(/\[[^\]]*\]/g, "").split(".");
  while (parts[0] === "module") parts.splice(0, 2);
  return parts[0] === "data" ? `data.${parts[1]}` : parts[0];
}

// ---------------------------------------------------------------- emulator artefacts

/** A difference the emulator reports after apply that AWS would not, and what AWS does instead. */
export interface Artefact {
  readonly type: string;
  readonly attribute: string;
  /** The AWS behaviour the emulator's answer stands in for. */
  readonly aws: string;
}

export const ARTEFACTS_FILE = join(__dirname, "..", "emulator-artefacts.json");

export function loadArtefacts(file: string = ARTEFACTS_FILE): Artefact[] {
  const document = JSON.parse(readFileSync(file, "utf8")) as { artefacts: Artefact[] };
  for (const [i, a] of document.artefacts.entries()) {
    if (!a.type || !a.attribute || !a.aws || a.aws.trim().length < 20) {
      throw new Error(`${file}: artefacts[${i}] needs type, attribute and aws (the AWS behaviour it stands in for, in a sentence)`);
    }
  }
  return document.artefacts;
}

/**
 * The changes no artefact explains: a change is explained only when it is an in-place update (or
 * drift) and every attribute it names is listed for its type. Creations, deletions, replacements
 * and changes that name no attribute are never artefacts.
 */
export function unexplained(changes: readonly ReportedChange[], artefacts: readonly Artefact[]): ReportedChange[] {
  return changes.filter((c) => {
    if (c.kind !== "~" && c.kind !== "drift") return true;
    if (c.attributes.length === 0) return true;
    return !c.attributes.every((attribute) => artefacts.some((a) => a.type === c.type && matchesAttribute(a.attribute, attribute)));
  });
}

/** `tags_all` matches `tags_all`; `parameter` matches `parameter` and `parameter[3].value`-style paths. */
function matchesAttribute(listed: string, reported: string): boolean {
  const top = reported.split(/[.[]/)[0];
  return listed === reported || listed === top;
}

// ---------------------------------------------------------------- status

/** Per stack of `npm run status`: deployed or not, and its fact lines (`VPC: vpc-...`). */
export function parseStatus(text: string): Map<string, { deployed: boolean; facts: string[] }> {
  const stacks = new Map<string, { deployed: boolean; facts: string[] }>();
  let current: { deployed: boolean; facts: string[] } | undefined;
  for (const line of text.split("\n")) {
    const head = line.match(/^\s{2}\[(x| |\?)\]\s+(\S+)/);
    if (head) {
      current = { deployed: head[1] === "x", facts: [] };
      stacks.set(head[2], current);
      continue;
    }
    const fact = line.match(/^\s{8}(\S.*)$/);
    if (fact && current) current.facts.push(fact[1]);
    else if (line.trim() === "") current = undefined;
  }
  return stacks;
}

// ---------------------------------------------------------------- timings

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}
