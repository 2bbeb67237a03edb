import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFiles, formatPath, loadConfigs } from "../../config/load";
import { MINIMAL_DOCUMENT } from "../helpers";

const dir = mkdtempSync(join(tmpdir(), "load-test-"));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problemsOf(files: string[]): string[] {
  try {
    loadConfigs(files);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

test("the environment is named after the file", () => {
  const [config] = loadConfigs([file("qa.json", JSON.stringify(MINIMAL_DOCUMENT))]);
  expect(config.environment).toBe("qa");
  expect(config.database.identifier).toBe("acme-multi-tenant-qa");
});

test("a file that is not JSON is named in the error", () => {
  expect(problemsOf([file("broken.json", "{ project: ")])).toEqual([expect.stringMatching(/^broken\.json: not valid JSON/)]);
});

test("a missing file is named in the error", () => {
  expect(problemsOf([join(dir, "nowhere.json")])).toEqual(["nowhere.json: file not found"]);
});

test("problems of several files are all listed, each prefixed by its file", () => {
  const problems = problemsOf([
    file("a.json", JSON.stringify({ ...MINIMAL_DOCUMENT, region: "mars" })),
    file("b.json", JSON.stringify({ ...MINIMAL_DOCUMENT, extra: 1 })),
  ]);
  expect(problems).toEqual([expect.stringMatching(/^a\.json: region:/), expect.stringMatching(/^b\.json: extra: unknown key/)]);
});

test("the error message lists one problem per line and carries no stack trace", () => {
  let err: Error | undefined;
  try {
    loadConfigs([file("c.json", JSON.stringify({ project: "x" }))]);
  } catch (e) {
    err = e as Error;
  }
  expect(err?.message.split("\n")).toEqual([
    "invalid configuration:",
    "  c.json: project: must be a lowercase DNS-safe slug: 3-32 of a-z, 0-9, '-', starting with a letter (got \"x\")",
    "  c.json: region: is required",
    "  c.json: state: is required",
  ]);
});

test("INFRA_CONFIG selects exactly one file", () => {
  expect(configFiles({ INFRA_CONFIG: "/some/where/qa.json" })).toEqual(["/some/where/qa.json"]);
});

test("without INFRA_CONFIG every JSON file of the folder is used, sorted", () => {
  const folder = mkdtempSync(join(tmpdir(), "configs-"));
  writeFileSync(join(folder, "prod.json"), "{}");
  writeFileSync(join(folder, "dev.json"), "{}");
  writeFileSync(join(folder, "schema.ts"), "");
  expect(configFiles({}, folder)).toEqual([join(folder, "dev.json"), join(folder, "prod.json")]);
});

test("paths print as JSON paths", () => {
  expect(formatPath(["network", "publicSubnetCidrs", 1])).toBe("network.publicSubnetCidrs[1]");
});
