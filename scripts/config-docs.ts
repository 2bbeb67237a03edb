/** npm run docs:config: rewrites README's settings table from config/schema.ts. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderSettingsSection, SETTINGS_BEGIN } from "./lib/readme";

const readme = join(__dirname, "..", "README.md");
const text = readFileSync(readme, "utf8");
if (!text.includes(SETTINGS_BEGIN)) throw new Error(`README.md has no ${SETTINGS_BEGIN} marker`);
writeFileSync(readme, renderSettingsSection(text));
console.log("README.md settings table rewritten from config/schema.ts");
