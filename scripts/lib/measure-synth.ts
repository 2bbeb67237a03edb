/**
 * Runs main.ts exactly as cdktf.json's app command does and, on exit, writes the process's peak
 * resident memory to the file named by MEASURE_OUT. Used by `npm run bench` only.
 */
import { writeFileSync } from "node:fs";
// The app synthesizes synchronously while this import is evaluated; the exit hook below still runs after it.
import "../../main";

process.on("exit", () => {
  if (process.env.MEASURE_OUT) writeFileSync(process.env.MEASURE_OUT, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
});
