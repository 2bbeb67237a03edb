import { planArguments, planWithTunnel, sqlLayerPlanned } from "../../scripts/lib/plan-tunnel";
import type { CommandRunner, TunnelProcess } from "../../scripts/lib/tunnel";
import { safeBucketTestConfig, testConfig } from "../helpers";

const stopped = testConfig({ bastion: { running: false } }, "dev");
const TARGET = { bastionInstanceId: "i-0123456789abcdef0", host: "db.internal.example", remotePort: 5432 };

describe("sqlLayerPlanned", () => {
  test("--include-tenants plans the tenants stack, so it needs the tunnel", () => {
    expect(sqlLayerPlanned(stopped, ["dev", "--include-tenants"])).toBe(true);
  });

  test("a plain plan leaves tenants out and needs no tunnel", () => {
    expect(sqlLayerPlanned(stopped, ["dev", "--fail-on-danger", "--markdown", "review.md"])).toBe(false);
  });

  test("the environment is the first argument that is neither a flag nor a flag's value", () => {
    expect(planArguments(["--markdown", "review.md", "dev", "tenants"])).toEqual({
      environment: "dev",
      requested: ["tenants"],
      includeTenants: false,
    });
    // --parallel's value is no stack name: --include-tenants still opens the tunnel
    expect(planArguments(["dev", "--parallel", "3", "--include-tenants"])).toEqual({
      environment: "dev",
      requested: [],
      includeTenants: true,
    });
  });

  test("naming the tenants stack (short or full name) plans it", () => {
    expect(sqlLayerPlanned(stopped, ["dev", "tenants"])).toBe(true);
    expect(sqlLayerPlanned(stopped, ["dev", "dev-tenants"])).toBe(true);
  });

  test("naming other stacks only needs no tunnel, --include-tenants or not", () => {
    expect(sqlLayerPlanned(stopped, ["dev", "data", "--include-tenants"])).toBe(false);
  });

  test("a direct connection never needs the tunnel", () => {
    expect(sqlLayerPlanned(testConfig({ tenants: { connection: "direct" } }, "dev"), ["dev", "--include-tenants"])).toBe(false);
  });

  test("SafeBucket's SQL layer is its database stack", () => {
    expect(sqlLayerPlanned(safeBucketTestConfig({}, "dev"), ["dev", "database"])).toBe(true);
  });
});

describe("planWithTunnel, bastion.running: false", () => {
  /** The aws CLI (describe says stopped), the session and the plan, recording everything in one timeline. */
  function world(portAlreadyOpen = false) {
    const timeline: string[] = [];
    let opened = false;
    const run: CommandRunner = async (argv) => {
      timeline.push(`aws ${argv[2]}`);
      return { code: 0, stdout: argv[2] === "describe-instances" ? "stopped\n" : "", stderr: "" };
    };
    let exit: (code: number) => void = () => undefined;
    const session: TunnelProcess = {
      exited: new Promise((resolve) => (exit = resolve)),
      kill: (signal) => {
        timeline.push(`session ${signal}`);
        exit(0);
      },
    };
    return {
      timeline,
      deps: {
        run,
        log: () => undefined,
        signal: new AbortController().signal,
        readTarget: async () => TARGET,
        spawn: () => {
          timeline.push("session start");
          opened = true;
          return session;
        },
        isPortOpen: async () => portAlreadyOpen || opened,
        delay: async () => undefined,
      },
    };
  }

  test("--include-tenants starts the bastion, plans through the tunnel, then closes it and stops the bastion", async () => {
    const { timeline, deps } = world();
    const code = await planWithTunnel(stopped, ["dev", "--include-tenants"], async () => (timeline.push("plan"), 2), deps);
    expect(code).toBe(2);
    expect(timeline).toEqual([
      "aws describe-instances",
      "aws start-instances",
      "aws wait",
      "session start",
      "plan",
      "session SIGTERM",
      "aws stop-instances",
    ]);
  });

  test("a plan that throws still closes the tunnel and stops the bastion", async () => {
    const { timeline, deps } = world();
    await expect(
      planWithTunnel(stopped, ["dev", "--include-tenants"], async () => Promise.reject(new Error("terraform crashed")), deps),
    ).rejects.toThrow("terraform crashed");
    expect(timeline.slice(-2)).toEqual(["session SIGTERM", "aws stop-instances"]);
  });

  test("a tunnel already open on the port (npm run tunnel elsewhere) is used: no bastion start, no session", async () => {
    const { timeline, deps } = world(true);
    await planWithTunnel(stopped, ["dev", "--include-tenants"], async () => (timeline.push("plan"), 0), deps);
    expect(timeline).toEqual(["plan"]);
  });

  test("a plan without the tenants stack touches neither the bastion nor the tunnel", async () => {
    const { timeline, deps } = world();
    await planWithTunnel(stopped, ["dev"], async () => (timeline.push("plan"), 0), deps);
    expect(timeline).toEqual(["plan"]);
  });
});
