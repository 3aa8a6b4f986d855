// Benchmark: expand + validate + enqueue a matrix of ~10,000 up-front runs, the way
// ControllerService.submit does it: parseSpec, planExperiment (matrix expansion with agent
// capabilities), storing the experiment with its cells and runs in SQLite (one transaction),
// and adding its job to BullMQ on a private Redis. Requirement: < 2 s in total.
// Run: node --import=tsx --conditions=seconet-source bench/enqueue.ts [--json]

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseSpec } from '@seconet/core';
import { ExperimentQueue, openStore, planExperiment } from '@seconet/controller';
import { startRedis } from '../test/helpers/redis.js';
import { BENCH_SPEC as SPEC, caps, hosts } from './lib/matrix-10k.js';

const redis = await startRedis();
const dir = mkdtempSync(join(tmpdir(), 'sn-bench-enqueue-'));
const store = openStore(dir);
const queue = new ExperimentQueue({ redisUrl: redis.url, prefix: 'bench', handler: async () => 'succeeded', hostsOf: () => hosts });
await queue.queue.waitUntilReady();

interface Round { parseMs: number; planMs: number; storeMs: number; enqueueMs: number; totalMs: number; runs: number; cells: number }
async function once(i: number): Promise<Round> {
  const t0 = performance.now();
  const spec = parseSpec(SPEC);
  const t1 = performance.now();
  const plan = planExperiment(spec, `bench-${i}`, hosts, caps);
  const t2 = performance.now();
  store.createExperiment(plan, spec);
  const t3 = performance.now();
  await queue.enqueue(plan.id);
  const t4 = performance.now();
  return { parseMs: t1 - t0, planMs: t2 - t1, storeMs: t3 - t2, enqueueMs: t4 - t3, totalMs: t4 - t0, runs: plan.runs.length, cells: plan.cells.length };
}

try {
  const rounds: Round[] = [];
  for (let i = 0; i < 4; i++) rounds.push(await once(i));
  const cold = rounds[0]!;
  const warm = rounds.slice(1);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const r = (x: number): number => +x.toFixed(1);
  const result = {
    runs: cold.runs,
    cells: cold.cells,
    coldTotalMs: r(cold.totalMs),
    parseMs: r(median(warm.map((x) => x.parseMs))),
    planMs: r(median(warm.map((x) => x.planMs))),
    storeMs: r(median(warm.map((x) => x.storeMs))),
    enqueueMs: r(median(warm.map((x) => x.enqueueMs))),
    totalMs: r(median(warm.map((x) => x.totalMs))),
    runsInStore: store.progress('bench-0').runsTotal,
    queueDepth: await queue.depth(),
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`matrix: ${result.cells} cells, ${result.runs} runs up front (stored: ${result.runsInStore}); jobs queued: ${result.queueDepth}`);
    console.log(`cold total ${result.coldTotalMs} ms; warm median: parse ${result.parseMs} ms, plan ${result.planMs} ms, store ${result.storeMs} ms, enqueue ${result.enqueueMs} ms, total ${result.totalMs} ms`);
    console.log(result.coldTotalMs < 2000 ? 'OK: under 2 s' : 'OVER the 2 s budget');
  }
  process.exitCode = result.coldTotalMs < 2000 ? 0 : 1;
} finally {
  await queue.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  await redis.stop();
}
