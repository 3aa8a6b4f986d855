// Benchmark: parse + validate + expand a matrix of 10,000 up-front runs (the requirement is
// < 2 s for expand, validate and enqueue together; enqueue is measured by the queue's bench).
// Run: node --import=tsx --conditions=seconet-source bench/expand.ts [--json]

import { performance } from 'node:perf_hooks';
import { expandMatrix, parseSpec } from '@seconet/core';
import { BENCH_SPEC, caps, hosts } from './lib/matrix-10k.js';

function once(): { parseMs: number; expandMs: number; runs: number; cells: number; skipped: number } {
  const t0 = performance.now();
  const spec = parseSpec(BENCH_SPEC);
  const t1 = performance.now();
  const plan = expandMatrix(spec, { experimentId: 'bench', hosts, capabilities: caps });
  const t2 = performance.now();
  return { parseMs: t1 - t0, expandMs: t2 - t1, runs: plan.runs.length, cells: plan.cells.length, skipped: plan.skipped.length };
}

const first = once();
const rounds = Array.from({ length: 5 }, once);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const result = {
  runs: first.runs,
  cells: first.cells,
  skipped: first.skipped,
  coldMs: +(first.parseMs + first.expandMs).toFixed(1),
  parseMs: +median(rounds.map((r) => r.parseMs)).toFixed(1),
  expandMs: +median(rounds.map((r) => r.expandMs)).toFixed(1),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else {
  console.log(`matrix: ${result.cells} cells (${result.skipped} skipped with reasons), ${result.runs} runs up front`);
  console.log(`parse+validate ${result.parseMs} ms, expand ${result.expandMs} ms (median of 5 warm rounds); first (cold) round ${result.coldMs} ms`);
  console.log(`share of the 2 s budget: ${(((result.parseMs + result.expandMs) / 2000) * 100).toFixed(1)} % warm, ${((result.coldMs / 2000) * 100).toFixed(1)} % cold`);
}
