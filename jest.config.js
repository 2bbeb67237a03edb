/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // swc strips types only; `npm run typecheck` runs tsc separately.
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }] },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 30000,
  // One private temp dir for the run, removed afterwards (cdktf's Testing never cleans its outdirs).
  globalSetup: "<rootDir>/__tests__/support/tmpdir-setup.ts",
  globalTeardown: "<rootDir>/__tests__/support/tmpdir-teardown.ts",
  // Jest defaults to cores - 1 workers (one, here); the slow suites wait on terraform child
  // processes, so a second worker overlaps them with the synth-only suites.
  maxWorkers: 2,
};
