#!/usr/bin/env bash
# The one-command demo: installs and builds everything (scripts/setup.sh), then runs
# examples/quickstart.yaml on the local lab with the built CLI (lab up, submit, follow, report,
# lab down) and prints where the report is. Exits non-zero when any step fails.
#   SECONET_DEMO_DIR=DIR   where the report and the CSV results go (default: ./demo-output)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

out="${SECONET_DEMO_DIR:-$PWD/demo-output}"
mkdir -p "$out"
report="$out/quickstart-report.html"

echo "demo: running examples/quickstart.yaml on the local lab (a few minutes)" >&2
status=0
node packages/cli/bin/seconet.js run examples/quickstart.yaml -o "$report" || status=$?
if [ "$status" -ne 0 ]; then
  echo "demo: the run failed (exit $status); see docs/errors.md and the lab logs under \${SECONET_LAB_DIR:-/var/lib/seconet/lab}" >&2
  exit "$status"
fi
echo "demo: report written to $report"
echo "demo: results (CSV) written to ${report%.html}.csv"
