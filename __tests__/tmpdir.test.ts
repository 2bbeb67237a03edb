import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing } from "cdktf";

// __tests__/support/tmpdir-setup.ts: what cdktf and the tests create in the temp dir goes into a folder
// of this run's own, which tmpdir-teardown.ts removes.
test("the temp dir is this run's own folder, not the system's", () => {
  const system = process.env.INFRA_SYSTEM_TMPDIR!;
  expect(system).toBeDefined();
  expect(tmpdir().startsWith(join(system, "infra-jest-"))).toBe(true);
  expect(existsSync(tmpdir())).toBe(true);
});

test("cdktf's test apps write their outdirs into it", () => {
  const app = Testing.app();
  expect(app.outdir.startsWith(tmpdir())).toBe(true);
});
