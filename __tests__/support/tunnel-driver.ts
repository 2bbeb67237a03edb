/**
 * Runs `npm run tunnel`'s session (holdTunnel) against whatever `aws` is first on PATH, for the
 * Ctrl-C test in __tests__/scripts/tunnel-interrupt.test.ts: `node --import tsx tunnel-driver.ts <port>`.
 */
import { holdTunnel } from "../../scripts/lib/tunnel";

const localPort = Number(process.argv[2]);
holdTunnel(
  {
    bastionInstanceId: "i-0123456789abcdef0",
    host: "db.internal.example",
    remotePort: 5432,
    localPort,
    region: "us-east-1",
    bastionKeptStopped: false,
    environment: "test",
  },
  { onOutput: (line) => process.stderr.write(`session: ${line}\n`), timeoutMs: 60_000, pollIntervalMs: 100 },
).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
