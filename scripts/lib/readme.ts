/** README's generated settings section, between its markers. */
import { settingsTable } from "../../config/docs";

export const SETTINGS_BEGIN = "<!-- section:settings -->";
export const SETTINGS_END = "<!-- /section:settings -->";

const INTRO = `## Settings

Every field of an environment file, generated from \`config/schema.ts\` by \`npm run docs:config\`.
Unknown keys are errors. Defaults reproduce StartupWebApp's production; "derived" defaults are told in
the meaning column.`;

/** `readme` with its settings section replaced by the current table. */
export function renderSettingsSection(readme: string): string {
  const start = readme.indexOf(SETTINGS_BEGIN);
  const end = readme.indexOf(SETTINGS_END);
  if (start < 0 || end < start) throw new Error(`README.md needs ${SETTINGS_BEGIN} ... ${SETTINGS_END}`);
  return `${readme.slice(0, start)}${SETTINGS_BEGIN}\n${INTRO}\n\n${settingsTable()}\n${readme.slice(end)}`;
}
