#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (unit, namespace, lab end-to-end).
# Ends with one line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p .tap
npx tap --reporter=tap "$@" | tee .tap/last-run.tap | node scripts/tap-summary.mjs
