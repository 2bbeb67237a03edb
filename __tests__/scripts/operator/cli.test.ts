/** The operator commands' shared command line (scripts/lib/operator/cli.ts). */
import { parseOperatorArgs, UsageError } from "../../../scripts/lib/operator/cli";

describe("command line", () => {
  test("the command line takes an environment, layers and known flags only", () => {
    expect(parseOperatorArgs(["prod", "tenants", "--dry-run"])).toMatchObject({
      environment: "prod",
      only: ["tenants"],
      dryRun: true,
      yes: false,
    });
    expect(() => parseOperatorArgs(["prod", "--force"])).toThrow(
      new UsageError("unknown option --force (allowed: --dry-run, --yes, --parallel N)"),
    );
    expect(() => parseOperatorArgs(["prod", "cache"])).toThrow(/unknown stack layer "cache" \(allowed: state, network/);
    // --parallel takes a value, which is no layer; a command that does not offer it refuses it
    expect(parseOperatorArgs(["prod", "--parallel", "3", "data"])).toMatchObject({ only: ["data"], parallel: 3 });
    expect(parseOperatorArgs(["prod", "--parallel=1"], ["--parallel"]).parallel).toBe(1);
    expect(() => parseOperatorArgs(["prod", "--parallel", "x"])).toThrow(
      new UsageError("--parallel: must be a whole number of at least 1 (got x)"),
    );
    expect(() => parseOperatorArgs(["prod", "--parallel", "2"], ["--free-tier"])).toThrow(/unknown option --parallel/);
    expect(() => parseOperatorArgs([])).toThrow(/name the environment/);
  });
});
