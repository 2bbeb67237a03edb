/** jest globalTeardown: removes the run's temporary directory (tmpdir-setup.ts) and all in it. */
import { rmSync } from "node:fs";

export default function teardown(): void {
  const own = process.env.TMPDIR;
  const system = process.env.INFRA_SYSTEM_TMPDIR;
  if (!own || !system || own === system) return;
  process.env.TMPDIR = system;
  rmSync(own, { recursive: true, force: true });
}
