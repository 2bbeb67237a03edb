/**
 * The tenant SQL test: synthesize each config, start one throwaway PostgreSQL server, make an RDS-like
 * master, replay the provider model of every stack that speaks SQL, and check isolation, the master's
 * access, and that a second apply (and its plan) changes nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { loadConfigs } from "../../../config/load";
import { synthesize } from "../synth";
import {
  CATALOG_SNAPSHOT_SQL,
  expectedIsolation,
  isNoOpPrivilegeWarning,
  publicPrivilegesSql,
  secretFormPassword,
  snapshotDifferences,
} from "./isolation";
import { describeChanges, ProviderModel, readTenantStack, type TenantStackModel } from "./provider-model";
import { findPostgresBin, ThrowawayServer } from "./server";
import { PsqlSession, redact } from "./session";

/** The master's name when the stack reads it ephemerally: RDS's default, as PostgresInstance sets. */
const DEFAULT_MASTER = "postgres";
const STRANGER = "stranger";

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail?: string;
}

export interface Target {
  /** What the lines are prefixed with: the environment (and variant). */
  readonly label: string;
  /** The config file to synthesize. */
  readonly file: string;
}

export interface RunReport {
  readonly checks: Check[];
  readonly timings: Record<string, number>;
}

/**
 * The targets for `files`: each config itself and, for a StartupWebApp config with shared isolation
 * and two or more databases, the same config with per-database isolation (written to `scratch`).
 */
export function targetsFor(files: readonly string[], scratch: string): Target[] {
  const targets: Target[] = [];
  for (const file of files) {
    const env = basename(file, ".json");
    targets.push({ label: env, file });
    const doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    const app = doc.application ?? "startupwebapp";
    const tenants = doc.tenants ?? {};
    if (app === "startupwebapp" && (tenants.isolation ?? "shared") === "shared" && (tenants.databases?.length ?? 0) >= 2) {
      const variant = join(scratch, `${env.slice(0, 14)}-per-db.json`);
      // The web layer runs no tenant SQL, and its AWS names (load balancer, target groups) may not fit the
      // variant's longer environment name: the variant leaves it out.
      const { web: _web, ...rest } = doc; // eslint-disable-line @typescript-eslint/no-unused-vars
      writeFileSync(variant, JSON.stringify({ ...rest, tenants: { ...tenants, isolation: "per-database" } }));
      targets.push({ label: `${env} (per-database)`, file: variant });
    }
  }
  return targets;
}

/** Every stack of a synthesized folder that configures the postgresql provider, with its JSON. */
export function sqlStacks(outdir: string, configFile: string): { name: string; json: Record<string, unknown> }[] {
  return synthesize(outdir, loadConfigs([configFile]))
    .map((s) => ({ name: s.name, json: JSON.parse(readFileSync(join(s.dir, "cdk.tf.json"), "utf8")) as Record<string, unknown> }))
    .filter((s) => (s.json as { provider?: Record<string, unknown> }).provider?.postgresql !== undefined);
}

export interface RunOptions {
  /** Receives every statement the model sent, per stack (passwords redacted). */
  readonly transcript?: (stack: string, lines: readonly string[]) => void;
}

export async function runTenantSql(
  targets: readonly Target[],
  print: (check: Check) => void,
  options: RunOptions = {},
): Promise<RunReport> {
  const checks: Check[] = [];
  const timings: Record<string, number> = {};
  const record = (check: Check): void => {
    checks.push(check);
    print(check);
  };
  const bin = findPostgresBin();
  if (!bin) {
    record({ name: "PostgreSQL server binaries", ok: false, detail: "none under /usr/lib/postgresql (apt-get install postgresql)" });
    return { checks, timings };
  }
  const scratch = mkdtempSync(join(tmpdir(), "tenant-sql-synth-"));
  /** Every password of this run, so no output shows one. */
  const secrets: string[] = [];
  const server = new ThrowawayServer(bin);
  const stop = (): void => server.stop();
  const onSignal = (): void => {
    stop();
    rmSync(scratch, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    let t = Date.now();
    await server.start();
    timings.serverStartMs = Date.now() - t;
    const masterPassword = secretFormPassword();
    const strangerPassword = secretFormPassword();
    secrets.push(masterPassword, strangerPassword);

    for (const target of targets) {
      t = Date.now();
      const outdir = mkdtempSync(join(scratch, "out-"));
      const stacks = sqlStacks(outdir, target.file);
      if (stacks.length === 0) {
        record({ name: `[${target.label}] has a stack that speaks SQL`, ok: false, detail: "no stack configures the postgresql provider" });
        continue;
      }
      for (const stack of stacks) {
        const model = readTenantStack(stack.json);
        const master = model.provider.username ?? DEFAULT_MASTER;
        await bootstrap(server, master, masterPassword, strangerPassword, record, `[${target.label}]`);
        await replay(
          server,
          model,
          { label: `[${target.label}] ${stack.name}`, master, masterPassword, strangerPassword, secrets, transcript: options.transcript },
          record,
        );
        await reset(server);
        if (model.resources.some((r) => r.type === "postgresql_grant_role")) {
          await bootstrap(server, master, masterPassword, strangerPassword, () => undefined, `[${target.label}]`);
          await upgrade(
            server,
            model,
            { label: `[${target.label}] ${stack.name}`, master, masterPassword, strangerPassword, secrets },
            record,
          );
          await reset(server);
        }
      }
      timings[`replay ${target.label}`] = Date.now() - t;
    }
  } catch (err) {
    record({ name: "tenant SQL run", ok: false, detail: redact(`${(err as Error).message}\n${server.logTail()}`, secrets) });
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { checks, timings };
}

/** As the bootstrap superuser: an RDS-like master (not a superuser) and a stranger login role. */
async function bootstrap(
  server: ThrowawayServer,
  master: string,
  masterPassword: string,
  strangerPassword: string,
  record: (c: Check) => void,
  label: string,
): Promise<void> {
  const q = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const sql = [
    "CREATE ROLE rds_superuser NOLOGIN",
    // what RDS gives rds_superuser that matters to role and database management
    "GRANT pg_monitor, pg_signal_backend TO rds_superuser WITH ADMIN OPTION",
    `CREATE ROLE ${q(master)} LOGIN CREATEROLE CREATEDB NOSUPERUSER INHERIT PASSWORD '${masterPassword}'`,
    `GRANT rds_superuser TO ${q(master)} WITH ADMIN OPTION`,
    `CREATE ROLE ${STRANGER} LOGIN PASSWORD '${strangerPassword}'`,
  ].join(";\n");
  const result = await server.psql("postgres", `${sql};\n`);
  if (result.code !== 0) throw new Error(`bootstrap failed: ${redact(result.stderr, [masterPassword, strangerPassword])}`);
  const check = await server.psql(
    "postgres",
    `SELECT rolsuper, rolcreaterole, rolcreatedb, pg_has_role('${master}', 'rds_superuser', 'MEMBER') FROM pg_roles WHERE rolname = '${master}';\n`,
  );
  record({
    name: `${label} master ${master} is RDS-like: CREATEROLE, CREATEDB, member of rds_superuser, not a superuser`,
    ok: check.stdout.trim() === "f|t|t|t",
    detail: check.stdout.trim(),
  });
}

interface ReplayContext {
  readonly label: string;
  readonly master: string;
  readonly masterPassword: string;
  readonly strangerPassword: string;
  readonly secrets: string[];
  readonly transcript?: (stack: string, lines: readonly string[]) => void;
}

async function replay(server: ThrowawayServer, model: TenantStackModel, ctx: ReplayContext, record: (c: Check) => void): Promise<void> {
  const { label } = ctx;
  const passwords: Record<string, string> = {};
  for (const r of model.resources) if (r.type === "postgresql_role" && r.writeOnlyPassword) passwords[r.name] = secretFormPassword();
  ctx.secrets.push(...Object.values(passwords));
  const secrets = ctx.secrets;
  const session = new PsqlSession(server, { user: ctx.master, password: ctx.masterPassword }, secrets, ctx.transcript !== undefined);
  const provider = new ProviderModel(model, session, { masterUsername: ctx.master, passwords });

  try {
    await provider.apply();
    record({
      name: `${label} apply: ${model.resources.length} resources created as ${ctx.master} (${session.statements} statements)`,
      ok: true,
    });
  } catch (err) {
    record({
      name: `${label} apply: ${model.resources.length} resources created as ${ctx.master}`,
      ok: false,
      detail: (err as Error).message,
    });
    return;
  }
  const noOps = session.warnings.filter((w) => isNoOpPrivilegeWarning(w.message));
  record({
    name: `${label} every GRANT and REVOKE took effect (no "no privileges could be revoked/were granted" warning)`,
    ok: noOps.length === 0,
    detail: noOps.map((w) => `WARNING on ${w.database}: ${w.message}`).join("\n"),
  });

  await planIsEmpty(provider, `${label} plan after apply is empty`, record);

  const expected = expectedIsolation(model);
  for (const db of expected.databases) {
    const r = await server.psql("postgres", `${publicPrivilegesSql(db)};\n`);
    const held = r.stdout.trim();
    record({
      name: `${label} PUBLIC holds neither CONNECT nor TEMPORARY on ${db}`,
      ok: r.code === 0 && held === "",
      detail: `PUBLIC holds: ${held}`,
    });
  }
  for (const [role, reachable] of Object.entries(expected.reach)) {
    for (const db of expected.databases) {
      const should = reachable.includes(db);
      const outcome = await tryLogin(server, db, role, passwords[role], secrets);
      record({
        name: `${label} ${role} ${should ? "logs in to" : "is refused by"} ${db}`,
        ok: outcome.connected === should,
        detail: outcome.message,
      });
    }
  }
  for (const db of expected.databases) {
    const outcome = await tryLogin(server, db, STRANGER, ctx.strangerPassword, secrets);
    record({ name: `${label} a stranger login role is refused by ${db}`, ok: !outcome.connected, detail: outcome.message });
  }
  for (const db of expected.databases) {
    const outcome = await tryLogin(server, db, ctx.master, ctx.masterPassword, secrets);
    record({
      name: `${label} the master still connects to ${db} (the provider's refresh needs it)`,
      ok: outcome.connected,
      detail: outcome.message,
    });
  }

  const before = await snapshot(server);
  let reapplied: string[] = [];
  try {
    reapplied = describeChanges(await provider.reapply());
  } catch (err) {
    record({ name: `${label} second apply runs`, ok: false, detail: (err as Error).message });
    return;
  }
  const after = await snapshot(server);
  const differences = snapshotDifferences(before, after);
  record({
    name: `${label} second apply changes nothing (roles, memberships, database ACLs)`,
    ok: differences.length === 0 && reapplied.length === 0,
    detail: [
      ...reapplied.map((c) => `re-applied ${c}`),
      ...(differences.length > 0 ? [`catalog changed in: ${differences.join(", ")}`] : []),
    ].join("\n"),
  });
  await planIsEmpty(provider, `${label} plan after the second apply is empty`, record);
  ctx.transcript?.(label, session.transcript);
}

/**
 * An environment deployed before the master's memberships existed: apply the stack without its
 * postgresql_grant_role resources (the old design), then apply the whole stack over it.
 */
async function upgrade(server: ThrowawayServer, model: TenantStackModel, ctx: ReplayContext, record: (c: Check) => void): Promise<void> {
  const name = `${ctx.label} upgrade from the design without memberships: one apply makes PUBLIC lose CONNECT and TEMPORARY everywhere`;
  const passwords: Record<string, string> = {};
  for (const r of model.resources) if (r.type === "postgresql_role" && r.writeOnlyPassword) passwords[r.name] = secretFormPassword();
  ctx.secrets.push(...Object.values(passwords));
  const session = new PsqlSession(server, { user: ctx.master, password: ctx.masterPassword }, ctx.secrets);
  const inputs = { masterUsername: ctx.master, passwords };
  const old: TenantStackModel = { ...model, resources: model.resources.filter((r) => r.type !== "postgresql_grant_role") };
  try {
    const databases = expectedIsolation(model).databases;
    const publicHolds = async (): Promise<string[]> => {
      const held: string[] = [];
      for (const db of databases) {
        const r = await server.psql("postgres", `${publicPrivilegesSql(db)};\n`);
        if (r.stdout.trim() !== "") held.push(`${db}: ${r.stdout.trim()}`);
      }
      return held;
    };
    await new ProviderModel(old, session, inputs).apply();
    // The control: the same checks must see the flaw in the design without memberships.
    const before = await publicHolds();
    record({
      name: `${ctx.label} control: without the memberships PUBLIC keeps CONNECT and TEMPORARY on every tenant database`,
      ok: before.length === databases.length && before.every((h) => h.endsWith(": CONNECT,TEMPORARY")),
      detail: `PUBLIC holds ${before.join("; ") || "nothing"}`,
    });
    const provider = new ProviderModel(model, session, inputs);
    await provider.reapply();
    const held = await publicHolds();
    record({ name, ok: held.length === 0, detail: `PUBLIC still holds ${held.join("; ")}` });
    await planIsEmpty(provider, `${ctx.label} plan after the upgrade is empty`, record);
  } catch (err) {
    record({ name, ok: false, detail: (err as Error).message });
  }
}

async function planIsEmpty(provider: ProviderModel, name: string, record: (c: Check) => void): Promise<void> {
  try {
    const changes = describeChanges(await provider.plan());
    record({ name, ok: changes.length === 0, detail: changes.join("\n") });
  } catch (err) {
    record({ name, ok: false, detail: `refresh failed: ${(err as Error).message}` });
  }
}

async function tryLogin(
  server: ThrowawayServer,
  database: string,
  user: string,
  password: string | undefined,
  secrets: readonly string[],
): Promise<{ connected: boolean; message: string }> {
  if (password === undefined) return { connected: false, message: `no password for ${user}` };
  const r = await server.psql(database, "SELECT current_user || '@' || current_database();\n", { user, password });
  const message = redact(r.code === 0 ? `connected as ${r.stdout.trim()}` : (r.stderr.trim().split("\n").pop() ?? ""), secrets);
  return { connected: r.code === 0, message };
}

async function snapshot(server: ThrowawayServer): Promise<string> {
  const r = await server.psql("postgres", `${CATALOG_SNAPSHOT_SQL};\n`);
  if (r.code !== 0) throw new Error(`snapshot failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** Back to a fresh server: drop every database and role the replay and bootstrap made. */
async function reset(server: ThrowawayServer): Promise<void> {
  // DROP DATABASE cannot run inside a transaction block: list the databases, then drop one by one.
  const list = await server.psql(
    "postgres",
    "SELECT datname FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1');\n",
  );
  for (const db of list.stdout.split("\n").filter(Boolean)) {
    const r = await server.psql("postgres", `DROP DATABASE "${db.replace(/"/g, '""')}" WITH (FORCE);\n`);
    if (r.code !== 0) throw new Error(`reset: ${r.stderr}`);
  }
  const roles = await server.psql(
    "postgres",
    "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' AND rolname <> current_user ORDER BY oid DESC;\n",
  );
  for (const role of roles.stdout.split("\n").filter(Boolean)) {
    const r = await server.psql("postgres", `DROP OWNED BY "${role}"; DROP ROLE "${role.replace(/"/g, '""')}";\n`);
    if (r.code !== 0) throw new Error(`reset: ${r.stderr}`);
  }
}
