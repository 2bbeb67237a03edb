import { ConfigError } from "../config/load";
import type { EnvironmentConfig } from "../config/schema";
import { PropError } from "../constructs/errors";

/**
 * Builds a construct from one config section and, if the construct rejects a prop that came from a
 * field of that section, reports it as that field: `prod.json: monitoring.cpuHighPercent: must be ...`
 * rather than `RdsAlarms prod-observability/rds-alarms: cpuHighPercent ...`. The schema catches
 * nearly everything first; this names the field for the rules only a construct knows.
 *
 * `fields` maps props whose names differ from the config's (`memoryMiB` for `memory`); a prop that
 * is neither there nor a key of the section did not come from the config, and its error is left as it is.
 */
export function fromConfig<T>(
  config: EnvironmentConfig,
  section: string,
  build: () => T,
  fields: Readonly<Record<string, string>> = {},
): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof PropError)) throw err;
    const [, head, rest] = /^([A-Za-z_]\w*)(.*)$/.exec(err.prop) ?? [];
    const values = sectionOf(config, section);
    const field = fields[head] ?? (values && head in values ? head : undefined);
    if (field === undefined) throw err;
    throw new ConfigError([`${config.environment}.json: ${section}.${field}${rest}: ${err.rule}`]);
  }
}

function sectionOf(config: EnvironmentConfig, section: string): Record<string, unknown> | undefined {
  let value: unknown = config;
  for (const key of section.split(".")) value = (value as Record<string, unknown> | undefined)?.[key];
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}
