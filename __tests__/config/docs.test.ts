import { readFileSync } from "node:fs";
import { join } from "node:path";
import { settingDocs } from "../../config/docs";
import { renderSettingsSection } from "../../scripts/lib/readme";

test("README's settings table matches config/schema.ts (run `npm run docs:config` after changing the schema)", () => {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  expect(renderSettingsSection(readme)).toBe(readme);
});

test("every setting has a doc line", () => {
  expect(settingDocs().filter((s) => s.description === "")).toEqual([]);
});

test("required settings, defaults and derived defaults are told apart", () => {
  const byPath = Object.fromEntries(settingDocs().map((s) => [s.path, s.default]));
  expect(byPath["state.bucket"]).toBe("required");
  expect(byPath["database.instanceClass"]).toBe('"db.t4g.small"');
  expect(byPath["database.identifier"]).toBe("-");
  expect(byPath["ci.githubRepository"]).toBe("unset");
});
