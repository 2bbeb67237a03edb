/**
 * npm run tools: installs (or brings up to date) the Python test tools in .venv/ from the pinned,
 * hash-checked scripts/python/requirements.txt. `npm run e2e` and `npm run scan` do this themselves;
 * this is for installing ahead of time (CI caches, a first run offline afterwards).
 */
import { ensurePythonTools, VENV } from "./lib/python-tools";

ensurePythonTools({ log: (line) => process.stdout.write(`${line}\n`) }).then(
  () => {
    process.stdout.write(`Python test tools ready in ${VENV}\n`);
  },
  (err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  },
);
