import { Testing } from "cdktf";
import { ConfigError } from "../../config/load";
import { LIMITS } from "../../constructs/aws-limits";
import { PropError } from "../../constructs/errors";
import { buildEnvironment } from "../../stacks";
import { fromConfig } from "../../stacks/config-errors";
import { safeBucketTestConfig, testConfig } from "../helpers";

// The schema refuses these values first; a resolved config is edited here to reach the construct's own check.
describe("a construct error reached from config names the config field", () => {
  test("an alarm threshold the schema did not see is reported as monitoring.cpuHighPercent", () => {
    const config = testConfig();
    const edited = { ...config, monitoring: { ...config.monitoring, cpuHighPercent: 100 } };
    expect(() => buildEnvironment(Testing.app(), edited)).toThrow(
      new ConfigError([`test.json: monitoring.cpuHighPercent: ${LIMITS.alarmPercent.rule} (got 100)`]),
    );
  });

  test("a renamed prop is reported under its config name: FargateService memoryMiB is services.<name>.memory", () => {
    const config = safeBucketTestConfig();
    const loki = { ...config.services.loki, memory: 700 };
    const edited = { ...config, services: { ...config.services, loki } };
    expect(() => buildEnvironment(Testing.app(), edited)).toThrow(
      /^invalid configuration:\n {2}test\.json: services\.loki\.memory: must be a Fargate size for cpu 512/,
    );
  });

  test("a prop that did not come from the section keeps the construct's own message", () => {
    const error = new PropError("Queue", "s/q", "queueName", "must be 1-80 characters");
    expect(() =>
      fromConfig(testConfig(), "monitoring", () => {
        throw error;
      }),
    ).toThrow(error);
  });

  test("any other error passes through unchanged", () => {
    const error = new Error("boom");
    expect(() =>
      fromConfig(testConfig(), "monitoring", () => {
        throw error;
      }),
    ).toThrow(error);
  });
});
