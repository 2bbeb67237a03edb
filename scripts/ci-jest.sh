#!/usr/bin/env bash
# npm test (lint + type check + jest) with jest's own counts as the closing "N passed, M failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
results=".jest-results.json"
rm -f "$results"
npm test -- --json --outputFile="$results"
status=$?
if [ -f "$results" ]; then
  # Suites that could not run (syntax error, failed import) count as failures too.
  node -e '
    const r = require(process.argv[1]);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`);
  ' "$PWD/$results"
else
  echo "lint or type check failed, so jest did not run"
  echo "0 passed, 1 failed"
fi
exit $status
