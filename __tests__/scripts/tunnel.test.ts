import { EventEmitter } from "node:events";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkTunnelPrerequisites,
  findOnPath,
  startTunnel,
  tunnelCommand,
  TunnelPrerequisitesMissing,
  type TunnelDeps,
  type TunnelProcess,
} from "../../scripts/lib/tunnel";

const TARGET = {
  bastionInstanceId: "i-0123456789abcdef0",
  host: "acme-multi-tenant-test.abc123.us-east-1.rds.amazonaws.com",
  remotePort: 5432,
  localPort: 15432,
  region: "us-east-1",
};

describe("tunnelCommand", () => {
  test("forwards the local port to the RDS host through the bastion with the SSM remote-host document", () => {
    const { command, args } = tunnelCommand(TARGET);
    expect(command).toBe("aws");
    expect(args.slice(0, 2)).toEqual(["ssm", "start-session"]);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    expect(flag("--target")).toBe("i-0123456789abcdef0");
    expect(flag("--region")).toBe("us-east-1");
    expect(flag("--document-name")).toBe("AWS-StartPortForwardingSessionToRemoteHost");
    expect(JSON.parse(flag("--parameters"))).toEqual({
      host: ["acme-multi-tenant-test.abc123.us-east-1.rds.amazonaws.com"],
      portNumber: ["5432"],
      localPortNumber: ["15432"],
    });
  });
});

describe("findOnPath", () => {
  const dir = mkdtempSync(join(tmpdir(), "tunnel-path-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("finds an executable file on PATH and ignores one that cannot run", () => {
    writeFileSync(join(dir, "session-manager-plugin"), "#!/bin/sh\n");
    chmodSync(join(dir, "session-manager-plugin"), 0o755);
    writeFileSync(join(dir, "aws"), "not executable");
    chmodSync(join(dir, "aws"), 0o644);
    const env = { PATH: ["/nonexistent", dir].join(":") };
    expect(findOnPath("session-manager-plugin", env)).toBe(join(dir, "session-manager-plugin"));
    expect(findOnPath("aws", env)).toBeUndefined();
  });
});

describe("checkTunnelPrerequisites", () => {
  const access = { bastion_instance_id: "i-0123456789abcdef0" };
  const data = { db_instance_address: TARGET.host, db_instance_port: 5432 };
  const everything = (name: string) => `/usr/local/bin/${name}`;

  function missing(input: Partial<Parameters<typeof checkTunnelPrerequisites>[0]>): readonly string[] {
    try {
      checkTunnelPrerequisites({ environment: "prod", access, data, findExecutable: everything, ...input });
    } catch (err) {
      if (err instanceof TunnelPrerequisitesMissing) return err.missing;
      throw err;
    }
    return [];
  }

  test("returns the target when everything is there", () => {
    expect(checkTunnelPrerequisites({ environment: "prod", access, data, findExecutable: everything })).toEqual({
      bastionInstanceId: "i-0123456789abcdef0",
      host: TARGET.host,
      remotePort: 5432,
    });
  });

  test("a missing aws CLI is named", () => {
    expect(missing({ findExecutable: (n) => (n === "aws" ? undefined : everything(n)) })).toEqual([
      expect.stringMatching(/^aws CLI: not found on PATH/),
    ]);
  });

  test("a missing session-manager-plugin is named", () => {
    expect(missing({ findExecutable: (n) => (n === "session-manager-plugin" ? undefined : everything(n)) })).toEqual([
      expect.stringMatching(/^session-manager-plugin: not found on PATH/),
    ]);
  });

  test("a missing bastion output is named with its stack", () => {
    expect(missing({ access: {} })).toEqual([expect.stringMatching(/^prod-access output bastion_instance_id: missing/)]);
  });

  test("missing RDS address and port are named with their stack", () => {
    expect(missing({ data: {} })).toEqual([
      expect.stringMatching(/^prod-data output db_instance_address: missing/),
      expect.stringMatching(/^prod-data output db_instance_port: missing/),
    ]);
  });

  test("outputs that could not be read say why", () => {
    expect(missing({ data: new Error("prod-data: no usable AWS credentials (set AWS_PROFILE or run `aws sso login`)") })).toEqual([
      "prod-data outputs: no usable AWS credentials (set AWS_PROFILE or run `aws sso login`)",
    ]);
  });

  test("every missing piece is reported at once", () => {
    expect(missing({ findExecutable: () => undefined, access: {}, data: {} })).toHaveLength(5);
  });

  test("a bastion id that is not an instance id is rejected", () => {
    expect(missing({ access: { bastion_instance_id: "bastion" } })).toEqual([
      expect.stringMatching(/bastion_instance_id: must be an EC2 instance id .*\(got bastion\)/),
    ]);
  });
});

/** A session process under the test's control. */
class FakeSession implements TunnelProcess {
  readonly signals: NodeJS.Signals[] = [];
  private readonly events = new EventEmitter();
  readonly exited = new Promise<number | null>((resolve) => this.events.once("exit", resolve));
  constructor(private readonly exitOn: NodeJS.Signals | "never" = "SIGTERM") {}
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === this.exitOn || signal === "SIGKILL") this.exit(0);
  }
  exit(code: number): void {
    this.events.emit("exit", code);
  }
}

/** Deps where the port opens on the given probe (1 = first probe after spawning), with no real waiting. */
function deps(session: FakeSession, opensOnProbe: number | "never", extra: Partial<TunnelDeps> = {}) {
  const spawned: { command: string; args: readonly string[] }[] = [];
  let probes = 0;
  const d: TunnelDeps = {
    spawn: (command, args, onLine) => {
      spawned.push({ command, args });
      onLine("Starting session with SessionId: test-0123");
      return session;
    },
    isPortOpen: async () => {
      if (spawned.length === 0) return false;
      probes++;
      return opensOnProbe !== "never" && probes >= opensOnProbe;
    },
    delay: () => Promise.resolve(),
    timeoutMs: 5000,
    pollIntervalMs: 500,
    ...extra,
  };
  return { deps: d, spawned };
}

describe("startTunnel", () => {
  test("resolves once the local port accepts connections, having run the tunnel command", async () => {
    const session = new FakeSession();
    const { deps: d, spawned } = deps(session, 3);
    await startTunnel(TARGET, d);
    expect(spawned).toEqual([tunnelCommand(TARGET)]);
    expect(session.signals).toEqual([]);
  });

  test("close() ends the session", async () => {
    const session = new FakeSession();
    const tunnel = await startTunnel(TARGET, deps(session, 1).deps);
    await tunnel.close();
    expect(session.signals).toEqual(["SIGTERM"]);
    await expect(tunnel.ended).resolves.toBe(0);
  });

  test("a session that ignores SIGTERM is killed", async () => {
    const session = new FakeSession("never");
    const tunnel = await startTunnel(TARGET, deps(session, 1).deps);
    await tunnel.close();
    expect(session.signals).toEqual(["SIGTERM", "SIGKILL"]);
  });

  test("a session that ends before the port opens fails with its last output", async () => {
    const session = new FakeSession();
    const { deps: d } = deps(session, "never", {
      isPortOpen: async () => {
        session.exit(255);
        return false;
      },
    });
    await expect(startTunnel(TARGET, d)).rejects.toThrow(/ended before the tunnel opened \(exit code 255\):\n\s+Starting session/);
  });

  test("the wait is bounded: the session is stopped and the error names the port", async () => {
    const session = new FakeSession();
    const { deps: d } = deps(session, "never");
    await expect(startTunnel(TARGET, d)).rejects.toThrow(/did not accept connections on 127\.0\.0\.1:15432 within 5 s/);
    expect(session.signals).toEqual(["SIGTERM"]);
  });

  test("a local port already in use fails before any session starts", async () => {
    const session = new FakeSession();
    const { deps: d, spawned } = deps(session, 1, { isPortOpen: async () => true });
    await expect(startTunnel(TARGET, d)).rejects.toThrow(/127\.0\.0\.1:15432 is already in use/);
    expect(spawned).toEqual([]);
  });
});
