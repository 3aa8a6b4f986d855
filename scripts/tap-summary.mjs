#!/usr/bin/env node
// Reads tap's TAP stream on stdin, passes it through, and ends with one line
// "N passed, N failed[, N skipped]" counting leaf assertions. A subtest (test file or t.test)
// that failed without a failing assertion of its own (a crash, a timeout) counts as one
// failure. Exit code 1 when anything failed or nothing ran.
//
// Before that last line it lists every skip (and todo) with where it is and its reason, so a
// skip is read, not just counted:
//   3 skipped:
//     test/a.test.ts > a subtest: needs root for network namespaces
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
/** Every skip or todo, as "path > name: reason". */
const skips = [];
// One frame per open "# Subtest" at a given indentation: its name and failures counted inside it.
const stack = [];

/** The directive of a result line: { kind: 'SKIP' | 'TODO', reason } or undefined. */
function directive(line) {
  const m = /\s#\s*(SKIP|TODO)\b\S*\s*(.*)$/i.exec(line);
  return m ? { kind: m[1].toUpperCase(), reason: m[2].trim() } : undefined;
}

function recordSkip(line, name) {
  const d = directive(line);
  const where = [...stack.map((f) => f.name), name].filter((x) => x).join(' > ');
  const reason = d?.reason || (d?.kind === 'TODO' ? 'todo' : 'no reason given');
  skips.push(`${where}: ${d?.kind === 'TODO' ? `todo: ${reason}` : reason}`);
}

/** The test name of a result line "ok 3 - name # SKIP why". */
function resultName(line) {
  const m = /^\s*(?:not ok|ok) \d+(?: - )?(.*?)(?:\s+#\s*(?:SKIP|TODO|time=).*)?$/i.exec(line);
  return m ? m[1] : '';
}

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  process.stdout.write(line + '\n');
  const indent = line.length - line.trimStart().length;
  const sub = /^\s*# Subtest(?::\s*(.*))?$/.exec(line);
  if (sub) {
    stack.push({ indent, failedBefore: failed, name: sub[1] ?? '' });
    continue;
  }
  const m = /^\s*(not ok|ok) \d+/.exec(line);
  if (!m) continue;
  const top = stack[stack.length - 1];
  if (top && top.indent === indent) {
    stack.pop();
    if (m[1] === 'not ok' && failed === top.failedBefore) failed++;
    else if (directive(line) && failed === top.failedBefore) recordSkip(line, top.name);
    continue;
  }
  if (directive(line)) recordSkip(line, resultName(line));
  else if (m[1] === 'ok') passed++;
  else failed++;
}
if (passed + failed === 0) failed = 1;
if (skips.length > 0) {
  console.log(`${skips.length} skipped:`);
  for (const s of skips) console.log(`  ${s}`);
}
console.log(`${passed} passed, ${failed} failed${skips.length ? `, ${skips.length} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
