#!/usr/bin/env bash
# Sets everything up and runs the whole test suite (unit, namespace, lab end-to-end).
# Ends with one line: "N passed, N failed".
#
# With arguments, they go to tap as they are (`scripts/test.sh test/lab-e2e.test.ts`).
# Without, the suite runs in two lanes, two test files at a time as with tap's `jobs: 2`: the
# tests that boot QEMU guests (about half of the suite's time on 2 cores) in one lane from the
# start, every other file in the other. tap starts files in path order, which put the VM lab
# last, alone for its 15-25 minutes with the second core idle.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
mkdir -p .tap
if [ "$#" -gt 0 ]; then
  npx tap --reporter=tap "$@" | tee .tap/last-run.tap | node scripts/tap-summary.mjs
  exit
fi

guests=(test/vm-lab.test.ts test/fullkernel-tunnels.test.ts test/fullkernel-agent.test.ts)
mapfile -t all < <(npx tap list)
rest=()
for f in "${all[@]}"; do
  case " ${guests[*]} " in *" $f "*) ;; *) rest+=("$f") ;; esac
done
[ "${#rest[@]}" -gt 0 ] || { echo "tap list found no test files"; echo "0 passed, 1 failed"; exit 1; }

npx tap --reporter=tap --jobs=1 "${guests[@]}" > .tap/lane-guests.tap 2>&1 &
guests_pid=$!
npx tap --reporter=tap --jobs=1 "${rest[@]}" 2>&1 | tee .tap/lane-rest.tap
wait "$guests_pid"
echo "# the QEMU guests' lane (${guests[*]}):"
cat .tap/lane-guests.tap
cat .tap/lane-rest.tap .tap/lane-guests.tap > .tap/last-run.tap
node scripts/tap-summary.mjs --quiet < .tap/last-run.tap
