import { EventEmitter } from "node:events";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bastionPowerCommands } from "../../scripts/lib/operator/plan";
import { ACCESS_OUTPUTS, DATA_OUTPUTS } from "../../stacks/outputs";
import {
  bastionStateCommand,
  checkTunnelPrerequisites,
  ensureBastionRunning,
  findOnPath,
  startTunnel,
  tunnelCommand,
  TunnelInterrupted,
  TunnelPrerequisitesMissing,
  withTunnel,
  type CommandRunner,
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
  const access = { [ACCESS_OUTPUTS.bastionInstanceId]: "i-0123456789abcdef0" };
  const data = { [DATA_OUTPUTS.dbInstanceAddress]: TARGET.host, [DATA_OUTPUTS.dbInstancePort]: 5432 };
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
    expect(missing({ access: { [ACCESS_OUTPUTS.bastionInstanceId]: "bastion" } })).toEqual([
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

describe("startTunnel interrupted", () => {
  test("an abort during the wait for the port ends the session and rejects with TunnelInterrupted", async () => {
    const session = new FakeSession();
    const controller = new AbortController();
    const { deps: d } = deps(session, "never", {
      signal: controller.signal,
      delay: async () => controller.abort("SIGINT"),
    });
    await expect(startTunnel(TARGET, d)).rejects.toBeInstanceOf(TunnelInterrupted);
    expect(session.signals).toEqual(["SIGTERM"]);
  });

  test("after the leader exits, what is left of its process group is reaped", async () => {
    const session = Object.assign(new FakeSession(), { reaped: 0, reap: () => session.reaped++ });
    const tunnel = await startTunnel(TARGET, deps(session, 1).deps);
    await tunnel.close();
    expect(session.reaped).toBe(1);
  });
});

/** An aws CLI that answers describe-instances with `state` and records every command, in order. */
function fakeAws(state: string, failing: (argv: readonly string[]) => boolean = () => false) {
  const calls: string[] = [];
  const run: CommandRunner = async (argv) => {
    calls.push(argv.slice(1, 3).join(" "));
    if (failing(argv)) return { code: 255, stdout: "", stderr: "An error occurred (UnauthorizedOperation)" };
    return { code: 0, stdout: argv[2] === "describe-instances" ? `${state}\n` : "", stderr: "" };
  };
  return { run, calls };
}

describe("ensureBastionRunning (bastion.running: false)", () => {
  const id = TARGET.bastionInstanceId;

  test("describes the bastion with the instance-state query", () => {
    expect(bastionStateCommand("us-east-1", id)).toEqual([
      "aws",
      "ec2",
      "describe-instances",
      "--region",
      "us-east-1",
      "--instance-ids",
      id,
      "--query",
      "Reservations[0].Instances[0].State.Name",
      "--output",
      "text",
    ]);
  });

  test("a stopped bastion is started with deploy's commands, waited for, and reported as started", async () => {
    const commands: (readonly string[])[] = [];
    const aws = fakeAws("stopped");
    const started = await ensureBastionRunning("us-east-1", id, {
      run: (argv, signal) => {
        commands.push(argv);
        return aws.run(argv, signal);
      },
    });
    expect(started).toBe(true);
    expect(commands.slice(1)).toEqual(bastionPowerCommands("us-east-1", id).start);
  });

  test("a running bastion is used and left running: it may be someone else's session", async () => {
    const aws = fakeAws("running");
    expect(await ensureBastionRunning("us-east-1", id, { run: aws.run })).toBe(false);
    expect(aws.calls).toEqual(["ec2 describe-instances", "ec2 wait"]);
  });

  test("a stopping bastion is waited for until stopped, then started", async () => {
    const aws = fakeAws("stopping");
    expect(await ensureBastionRunning("us-east-1", id, { run: aws.run })).toBe(true);
    expect(aws.calls).toEqual(["ec2 describe-instances", "ec2 wait", "ec2 start-instances", "ec2 wait"]);
  });

  test("a terminated bastion is an error that says to deploy the access stack", async () => {
    await expect(ensureBastionRunning("us-east-1", id, { run: fakeAws("terminated").run })).rejects.toThrow(
      /is terminated: it cannot be started \(deploy the access stack again\)/,
    );
  });

  test("a failure while waiting for the started bastion stops it again", async () => {
    const aws = fakeAws("stopped", (argv) => argv[2] === "wait");
    await expect(ensureBastionRunning("us-east-1", id, { run: aws.run })).rejects.toThrow(/UnauthorizedOperation/);
    expect(aws.calls).toEqual(["ec2 describe-instances", "ec2 start-instances", "ec2 wait", "ec2 stop-instances"]);
  });

  test("Ctrl-C while waiting for the started bastion stops it again", async () => {
    const controller = new AbortController();
    const aws = fakeAws("stopped");
    const run: CommandRunner = async (argv, signal) => {
      const result = await aws.run(argv, signal);
      if (argv[2] === "wait") controller.abort("SIGINT");
      return result;
    };
    await expect(ensureBastionRunning("us-east-1", id, { run, signal: controller.signal })).rejects.toBeInstanceOf(TunnelInterrupted);
    expect(aws.calls.at(-1)).toBe("ec2 stop-instances");
  });
});

describe("withTunnel", () => {
  const options = { ...TARGET, bastionKeptStopped: true };

  test("a bastion kept stopped is started, the tunnel opened, the body run, the tunnel closed, the bastion stopped", async () => {
    const aws = fakeAws("stopped");
    const order: string[] = [];
    const session = new FakeSession();
    const { deps: d } = deps(session, 1);
    const result = await withTunnel(
      options,
      { ...d, run: aws.run, log: (l) => order.push(l.split(" ").slice(0, 2).join(" ")) },
      async () => {
        order.push(`body (commands so far: ${aws.calls.join(", ")})`);
        return 7;
      },
    );
    expect(result).toBe(7);
    expect(order).toEqual([
      "starting the",
      "body (commands so far: ec2 describe-instances, ec2 start-instances, ec2 wait)",
      "closing the",
      "stopping the",
    ]);
    expect(session.signals).toEqual(["SIGTERM"]);
    expect(aws.calls.at(-1)).toBe("ec2 stop-instances");
  });

  test("a body that fails still closes the tunnel and stops the bastion", async () => {
    const aws = fakeAws("stopped");
    const session = new FakeSession();
    await expect(
      withTunnel(options, { ...deps(session, 1).deps, run: aws.run }, async () => {
        throw new Error("plan failed");
      }),
    ).rejects.toThrow("plan failed");
    expect(session.signals).toEqual(["SIGTERM"]);
    expect(aws.calls.at(-1)).toBe("ec2 stop-instances");
  });

  test("a tunnel that never opens still stops the bastion", async () => {
    const aws = fakeAws("stopped");
    await expect(withTunnel(options, { ...deps(new FakeSession(), "never").deps, run: aws.run }, async () => 0)).rejects.toThrow(
      /did not accept connections/,
    );
    expect(aws.calls.at(-1)).toBe("ec2 stop-instances");
  });

  test("a running bastion (bastion.running: true) is not touched", async () => {
    const aws = fakeAws("running");
    await withTunnel({ ...TARGET, bastionKeptStopped: false }, { ...deps(new FakeSession(), 1).deps, run: aws.run }, async () => 0);
    expect(aws.calls).toEqual([]);
  });
});
