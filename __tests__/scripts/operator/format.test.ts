/** What --dry-run prints (scripts/lib/operator/format.ts): exact commands, refusals, stacks side by side. */
import { formatPlan } from "../../../scripts/lib/operator/format";
import { deployPlan, destroyPlan } from "../../../scripts/lib/operator/plan";
import { testConfig } from "../../helpers";
import { OUT, stacksOf } from "./support";

describe("dry-run text", () => {
  test("prints every command exactly, with folders relative to the working directory", () => {
    const config = testConfig();
    const text = formatPlan(deployPlan(config, stacksOf(config)), {
      cwd: OUT,
      tunnelCommand: (o) => ({
        command: "aws",
        args: ["ssm", "start-session", "--target", o.bastionInstanceId, `localPortNumber=${o.localPort}`],
      }),
    });
    expect(text).toContain("terraform -chdir=stacks/test-network init -input=false -no-color");
    expect(text).toContain(
      "terraform -chdir=stacks/test-network plan -input=false -no-color -detailed-exitcode -lock-timeout=120s -out=deploy.tfplan",
    );
    expect(text).toContain("aws ssm start-session --target <test-access.bastion_instance_id> localPortNumber=15432");
    expect(text.indexOf("test-observability")).toBeLessThan(text.indexOf("start-session"));
    expect(text.indexOf("start-session")).toBeLessThan(text.indexOf("stacks/test-tenants init"));
  });

  test("a refused plan prints only the refusal", () => {
    const config = testConfig();
    const text = formatPlan(destroyPlan(config, stacksOf(config), { destroyRefusal: () => "protected" }));
    expect(text).toBe("destroy test: refused\nprotected");
  });

  test("--dry-run says which stacks run together and what each waits for", () => {
    const config = testConfig();
    const text = formatPlan(deployPlan(config, stacksOf(config)), { cwd: OUT, parallel: 4 });
    expect(text).toContain("at most 4 at once (--parallel)");
    const lines = text.split("\n");
    const together = lines.indexOf("    side by side: test-access, test-observability");
    expect(together).toBeGreaterThan(0);
    // each names what it waits for directly; data's own wait for network and state goes without saying
    expect(lines[together + 1]).toBe(" 4. test-access (waits for test-data)");
    expect(text).toContain(" 5. test-observability (waits for test-data)");
    expect(text).toContain(" 7. test-tenants (waits for test-access)");
    expect(lines.filter((l) => l.includes("side by side:"))).toHaveLength(1);
    const sequential = formatPlan(deployPlan(config, stacksOf(config)), { cwd: OUT, parallel: 1 });
    expect(sequential).toContain("One stack at a time (--parallel 1)");
    expect(sequential).not.toContain("side by side:");
  });

  /**
   * A runner whose terraform calls named in `held` wait until the test releases them (or until the
   * run's stop signal, answered as terraform answers SIGINT: exit 1).
   */
});
