/**
 * The provider model's SqlSession on a real server: every statement goes through psql as the master
 * user over TLS, each call on its own connection to the database it names (as the provider opens one
 * per database). Warnings are collected (a no-op GRANT or REVOKE only warns); no output that could
 * hold a password is surfaced unredacted.
 */
import type { SqlSession } from "./provider-model";
import type { RunResult, ThrowawayServer } from "./server";

export interface Login {
  readonly user: string;
  readonly password: string;
}

/** Replaces every secret in `text` with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join("***");
  return out;
}

/** PostgreSQL WARNING lines of a psql run. */
export function warningsOf(stderr: string): string[] {
  return stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("WARNING:"))
    .map((l) => l.replace(/^WARNING:\s+/, ""));
}

export class PsqlSession implements SqlSession {
  /** Every WARNING the server sent, with the database it came from. */
  readonly warnings: { database: string; message: string }[] = [];
  statements = 0;
  /** What ran where, passwords redacted, when `transcript` was asked for. */
  readonly transcript: string[] = [];

  constructor(
    private readonly server: ThrowawayServer,
    private readonly login: Login,
    private readonly secrets: readonly string[],
    private readonly keepTranscript = false,
  ) {}

  private note(database: string, lines: readonly string[]): void {
    if (this.keepTranscript) for (const line of lines) this.transcript.push(`${database}> ${redact(line, this.secrets)}`);
  }

  async exec(database: string, statements: readonly string[], options: { transaction: boolean }): Promise<void> {
    const body = statements.map((s) => `${s};`).join("\n");
    const sql = options.transaction ? `BEGIN;\n${body}\nCOMMIT;\n` : `${body}\n`;
    this.statements += statements.length;
    this.note(database, options.transaction ? ["BEGIN", ...statements, "COMMIT"] : statements);
    this.check(database, await this.server.psql(database, sql, this.login));
  }

  async query(database: string, sql: string): Promise<Record<string, unknown>[]> {
    this.statements += 1;
    this.note(database, [sql]);
    const wrapped = `SELECT coalesce(json_agg(q), '[]'::json) FROM (${sql}) AS q;\n`;
    const result = this.check(database, await this.server.psql(database, wrapped, this.login));
    return JSON.parse(result.stdout.trim() || "[]") as Record<string, unknown>[];
  }

  private check(database: string, result: RunResult): RunResult {
    for (const message of warningsOf(result.stderr)) {
      this.warnings.push({ database, message: redact(message, this.secrets) });
      this.note(database, [`-- WARNING: ${message}`]);
    }
    if (result.code !== 0) {
      const reason = redact(result.stderr.trim().split("\n")[0] ?? `psql exit ${result.code}`, this.secrets);
      throw new Error(`as ${this.login.user} on ${database}: ${reason}`);
    }
    return result;
  }
}
