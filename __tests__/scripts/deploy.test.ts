/**
 * npm run deploy, end to end as far as a machine without AWS can go: the shipped prod config is
 * synthesized and --dry-run prints the commands a real run would execute, in order.
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingTools, operate, TUNNEL } from "../../scripts/lib/operator/operate";

let outdir: string;
beforeAll(() => (outdir = mkdtempSync(join(tmpdir(), "deploy-test-"))));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

async function run(argv: string[], extra: Partial<Parameters<typeof operate>[2]> = {}): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await operate("deploy", argv, { write: (t) => lines.push(t), outdir, cwd: outdir, ...TUNNEL, ...extra });
  return { code, text: lines.join("\n") };
}

test("--dry-run prints every stack of prod in deploy order, tenants inside the tunnel", async () => {
  const { code, text } = await run(["prod", "--dry-run"]);
  expect(code).toBe(0);
  const order = [...text.matchAll(/-chdir=stacks\/(prod-[a-z]+) init/g)].map((m) => m[1]);
  expect(order).toEqual([
    "prod-state",
    "prod-network",
    "prod-data",
    "prod-access",
    "prod-observability",
    "prod-email",
    "prod-tenants",
    "prod-web",
  ]);
  const tunnel = text.indexOf("aws ssm start-session --region us-east-1 --target <prod-access.bastion_instance_id>");
  expect(tunnel).toBeGreaterThan(text.indexOf("stacks/prod-email apply"));
  expect(tunnel).toBeLessThan(text.indexOf("stacks/prod-tenants init"));
  expect(text.indexOf("close the tunnel")).toBeGreaterThan(text.indexOf("stacks/prod-tenants apply"));
});

test("--dry-run shows access and observability side by side, from the synthesized stacks' dependencies", async () => {
  const { code, text } = await run(["prod", "--dry-run", "--parallel", "3"]);
  expect(code).toBe(0);
  expect(text).toContain("at most 3 at once (--parallel)");
  expect(text.split("\n").filter((l) => l.includes("side by side:"))).toEqual([
    "    side by side: prod-access, prod-observability",
    "    side by side: prod-email, prod-tenants",
  ]);
  expect(text).toContain("prod-tenants (waits for prod-access)");
});

test("--parallel needs a whole number of at least 1", async () => {
  const { code, text } = await run(["prod", "--dry-run", "--parallel", "0"]);
  expect(code).toBe(1);
  expect(text).toContain("--parallel: must be a whole number of at least 1 (got 0)");
  expect(text).toContain("[--parallel N]");
});

test("--dry-run names the Stripe and SMTP variables to export, from the synthesized tenants stack", async () => {
  const { text } = await run(["prod", "--dry-run"]);
  expect(text).toContain("export TF_VAR_stripe_secret_key=...");
  expect(text).toContain("export TF_VAR_email_password=...");
});

test("an unknown environment is named with the ones that exist", async () => {
  const { code, text } = await run(["staging", "--dry-run"]);
  expect(code).toBe(1);
  expect(text).toMatch(/no environment "staging" \(have: .*prod/);
});

test("a real run stops before running anything when a tool is missing", async () => {
  const { code, text } = await run(["prod"], { findExecutable: () => undefined });
  expect(code).toBe(1);
  expect(text).toContain("session-manager-plugin: not found on PATH");
  expect(text).not.toMatch(/\[1\/\d+\]/);
});

test("only the tools a plan needs are required", () => {
  const find = (name: string) => (name === "terraform" ? "/usr/bin/terraform" : undefined);
  expect(missingTools({ steps: [{ kind: "stack" }] }, find)).toEqual([]);
  expect(missingTools({ steps: [{ kind: "stack" }, { kind: "open-tunnel" }] }, find).map((m) => m.split(":")[0])).toEqual([
    "aws",
    "session-manager-plugin",
  ]);
});

describe("Ctrl-C during a real run (fake terraform and AWS CLI)", () => {
  /** Runs `deploy dev --yes` and delivers SIGINT when a line starting with `at` is written. */
  async function interruptAt(at: string, argv = ["dev", "--yes"]) {
    const signals = new EventEmitter();
    const calls: string[] = [];
    const lines: string[] = [];
    const code = await operate("deploy", argv, {
      write: (t) => {
        lines.push(t);
        if (t.startsWith(at)) signals.emit("SIGINT");
      },
      outdir,
      cwd: outdir,
      signals,
      findExecutable: (name) => `/usr/bin/${name}`,
      runner: {
        terraform: async (args, dir) => {
          calls.push(`${dir.split("/").pop()} ${args[0]}`);
          return args[0] === "plan"
            ? { code: 2, stdout: "Plan: 1 to add, 0 to change, 0 to destroy.", stderr: "" }
            : { code: 0, stdout: "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.", stderr: "" };
        },
        command: async (cmd) => {
          calls.push(cmd.slice(0, 3).join(" "));
          return { code: 0, stdout: "", stderr: "" };
        },
        outputs: async () => ({ bastion_instance_id: "i-0123456789abcdef0", db_instance_address: "db.internal", db_instance_port: 5432 }),
      },
      openTunnel: async () => {
        calls.push("open tunnel");
        return { close: async () => void calls.push("close tunnel") };
      },
    });
    return { code, calls, text: lines.join("\n") };
  }

  test("SIGINT at the tunnel step: exit 130, the tenants stack never plans, the started bastion is stopped", async () => {
    const { code, calls, text } = await interruptAt("==> open-tunnel");
    expect(code).toBe(130);
    expect(calls.filter((c) => c.startsWith("dev-tenants"))).toEqual([]);
    expect(calls.slice(-4)).toEqual(["aws ec2 wait", "open tunnel", "close tunnel", "aws ec2 stop-instances"]);
    expect(text).toMatch(/deploy dev: interrupted during open-tunnel; no later step ran except cleanup/);
  });

  test("SIGINT between stacks: no later stack is planned or applied", async () => {
    const { code, calls } = await interruptAt("[2/7] dev-network: Apply complete!");
    expect(code).toBe(130);
    expect(calls.at(-1)).toBe("dev-network apply");
    expect(calls.some((c) => c.startsWith("dev-data"))).toBe(false);
  });

  test("SIGINT while access and observability run side by side: exit 130, tenants never starts", async () => {
    const { code, calls, text } = await interruptAt("==> dev-observability: apply", ["dev", "--yes", "--parallel", "2"]);
    expect(code).toBe(130);
    expect(calls.filter((c) => c.startsWith("dev-tenants") || c === "open tunnel")).toEqual([]);
    expect(text).toContain("==> dev-access: init [4/7]");
    expect(text).toMatch(/deploy dev: interrupted (before|during) dev-(access|observability): \w+; no later step ran except cleanup/);
  });

  test("without SIGINT the same run completes with exit 0", async () => {
    const { code, calls } = await interruptAt("never printed");
    expect(code).toBe(0);
    expect(calls).toContain("aws ec2 stop-instances");
    // The web layer waits for the tenants (their databases and secrets), then comes last.
    expect(calls.indexOf("dev-web apply")).toBeGreaterThan(calls.indexOf("dev-tenants apply"));
    expect(calls.at(-1)).toBe("dev-web apply");
  });
});
