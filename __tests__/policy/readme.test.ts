import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RULES } from "../../constructs/guardrails";

const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
const section = readme.slice(readme.indexOf("<!-- section:guardrails -->"), readme.indexOf("<!-- /section:guardrails -->"));

describe("README guardrails section", () => {
  test.each(RULES.map((r) => [r.id, r] as const))("lists %s with its what and why", (id, rule) => {
    expect(section).toContain(`| \`${id}\` | ${rule.what} | ${rule.why} |`);
  });

  test("lists no rule that does not exist", () => {
    const listed = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(RULES.map((r) => r.id));
  });
});
