#!/usr/bin/env node
// Reads tap's TAP stream on stdin, passes it through, and ends with one line
// "N passed, N failed[, N skipped]" counting leaf assertions. A subtest (test file or t.test)
// that failed without a failing assertion of its own (a crash, a timeout) counts as one
// failure. Exit code 1 when anything failed or nothing ran.
import { createInterface } from 'node:readline';

let passed = 0;
let failed = 0;
let skipped = 0;
// One frame per open "# Subtest" at a given indentation: failures counted inside it.
const stack = [];
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  process.stdout.write(line + '\n');
  const indent = line.length - line.trimStart().length;
  if (/^\s*# Subtest\b/.test(line)) {
    stack.push({ indent, failedBefore: failed });
    continue;
  }
  const m = /^\s*(not ok|ok) \d+/.exec(line);
  if (!m) continue;
  const top = stack[stack.length - 1];
  if (top && top.indent === indent) {
    stack.pop();
    if (m[1] === 'not ok' && failed === top.failedBefore) failed++;
    else if (/#\s*SKIP\b/i.test(line) && failed === top.failedBefore) skipped++;
    continue;
  }
  if (/#\s*(SKIP|TODO)\b/i.test(line)) skipped++;
  else if (m[1] === 'ok') passed++;
  else failed++;
}
if (passed + failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
