/**
 * A throwaway PostgreSQL server for the tenant SQL test: Debian's binaries, a private data directory,
 * a free loopback port, TLS with a certificate made for this run, password (SCRAM) logins over TCP only,
 * and a bootstrap superuser reachable only through the Unix socket in the temporary directory.
 * Started and stopped by the caller; `stop()` removes everything, also after a failure.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** RDS's own superuser is `rdsadmin`; ours has that name so the master cannot be mistaken for it. */
export const BOOTSTRAP_SUPERUSER = "rdsadmin";

export interface ServerOptions {
  /** Deadline for the server to accept connections. @default 30 s */
  readonly startTimeoutMs?: number;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The directory of Debian's PostgreSQL binaries (newest major installed), or undefined. */
export function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors.length > 0 ? join(root, majors[0], "bin") : undefined;
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export class ThrowawayServer {
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  port = 0;
  /** The server's major version, e.g. 15. */
  major = 0;
  private started = false;
  private readonly asPostgres: boolean;

  constructor(
    readonly bin: string,
    private readonly options: ServerOptions = {},
  ) {
    this.dir = mkdtempSync(join(tmpdir(), "tenant-sql-"));
    this.dataDir = join(this.dir, "data");
    this.socketDir = join(this.dir, "socket");
    // initdb and postgres refuse to run as root: CI runs as root, so the server runs as `postgres`.
    this.asPostgres = process.geteuid?.() === 0;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    if (this.asPostgres) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(this.dir, uid, gid);
    }
    chmodSync(this.dir, 0o700);
    this.asServerUser("mkdir", ["-p", this.socketDir]);
    const init = this.asServerUser(join(this.bin, "initdb"), [
      "-D",
      this.dataDir,
      "-U",
      BOOTSTRAP_SUPERUSER,
      "--auth-local=trust",
      "--auth-host=reject",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]);
    if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr.trim()}`);
    this.major = Number(this.asServerUser(join(this.bin, "postgres"), ["--version"]).stdout.match(/(\d+)\.\d+/)?.[1] ?? 0);

    // A certificate for this run only: the provider connects with sslmode=require.
    const key = join(this.dataDir, "server.key");
    const cert = join(this.dataDir, "server.crt");
    const ssl = this.asServerUser("openssl", [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      key,
      "-out",
      cert,
    ]);
    if (ssl.code !== 0) throw new Error(`openssl failed: ${ssl.stderr.trim()}`);
    this.asServerUser("chmod", ["600", key]);
    // Like RDS with rds.force_ssl: TCP only with TLS and a password; the bootstrap superuser only locally.
    const hba = [
      `local all ${BOOTSTRAP_SUPERUSER} trust`,
      "local all all reject",
      "hostssl all all 127.0.0.1/32 scram-sha-256",
      "host all all 127.0.0.1/32 reject",
    ].join("\n");
    this.writeAsServerUser(join(this.dataDir, "pg_hba.conf"), `${hba}\n`);
    const settings = [
      "listen_addresses = '127.0.0.1'",
      `port = ${this.port}`,
      `unix_socket_directories = '${this.socketDir}'`,
      "ssl = on",
      "password_encryption = 'scram-sha-256'",
      "fsync = off",
      "logging_collector = off",
      // a failed CREATE ROLE would otherwise be logged with its password
      "log_min_error_statement = panic",
    ].join("\n");
    this.writeAsServerUser(join(this.dataDir, "postgresql.auto.conf"), `${settings}\n`);

    const start = this.asServerUser(join(this.bin, "pg_ctl"), [
      "-D",
      this.dataDir,
      "-l",
      join(this.dir, "server.log"),
      "-w",
      "-t",
      "30",
      "start",
    ]);
    this.started = true;
    if (start.code !== 0) throw new Error(`pg_ctl start failed: ${start.stderr.trim() || start.stdout.trim()}`);
    await this.waitReady(this.options.startTimeoutMs ?? 30_000);
  }

  /** Polls pg_isready until the server accepts connections, or throws at the deadline. */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ready = spawnSync(join(this.bin, "pg_isready"), [
        "-h",
        this.socketDir,
        "-p",
        String(this.port),
        "-U",
        BOOTSTRAP_SUPERUSER,
        "-d",
        "postgres",
      ]);
      if (ready.status === 0) return;
      if (Date.now() > deadline) throw new Error(`the server did not accept connections within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the server (fast) and removes the temporary directory; safe to call twice. */
  stop(): void {
    if (this.started) {
      this.asServerUser(join(this.bin, "pg_ctl"), ["-D", this.dataDir, "-m", "fast", "-w", "-t", "30", "stop"]);
      this.started = false;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server log, for a failure report. */
  logTail(lines = 20): string {
    const log = spawnSync("tail", ["-n", String(lines), join(this.dir, "server.log")]);
    return log.stdout?.toString() ?? "";
  }

  /**
   * Runs psql: as the bootstrap superuser through the socket (no `login`), or as a login role over
   * TCP with TLS and its password (passed in the environment, never on the command line). SQL goes on
   * stdin so no password appears in a process listing.
   */
  psql(database: string, sql: string, login?: { user: string; password: string }): Promise<RunResult> {
    const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", database];
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LC_ALL: "C.UTF-8", PGCONNECT_TIMEOUT: "10" };
    if (login) {
      args.push("-h", "127.0.0.1", "-p", String(this.port), "-U", login.user);
      Object.assign(env, { PGPASSWORD: login.password, PGSSLMODE: "require" });
    } else {
      args.push("-h", this.socketDir, "-p", String(this.port), "-U", BOOTSTRAP_SUPERUSER);
    }
    return new Promise((resolve) => {
      const child = execFile(
        join(this.bin, "psql"),
        args,
        { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
          resolve({ code, stdout: String(stdout), stderr: String(stderr) });
        },
      );
      child.stdin?.end(sql);
    });
  }

  private asServerUser(command: string, args: readonly string[]): RunResult {
    const [cmd, argv] = this.asPostgres ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, [...args]];
    const r = spawnSync(cmd, argv, { env: { PATH: process.env.PATH, LC_ALL: "C.UTF-8" }, timeout: 60_000 });
    return { code: r.status ?? 1, stdout: r.stdout?.toString() ?? "", stderr: r.stderr?.toString() ?? String(r.error ?? "") };
  }

  private writeAsServerUser(path: string, content: string): void {
    writeFileSync(path, content);
    if (this.asPostgres) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      chownSync(path, uid, gid);
    }
  }
}
