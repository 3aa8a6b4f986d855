// Benchmark: where one controller's store and queue stop, and how far several controllers on a
// shared PostgreSQL store go. All in one run, each figure next to its baseline:
//   - result writes (recordRunResult of a realistic run: pairs x metrics, series, host samples,
//     raw outputs) from 1, 2 and 4 writer processes, on SQLite (one file, WAL) and on
//     PostgreSQL (a private server, started here);
//   - progress events (addEvent), the report's read of a 1,000-run experiment, and storing a
//     10,080-run plan (what submit stores), on both;
//   - Redis: BullMQ jobs through one queue with a no-op handler, and host-lock acquire/release.
// Run (root, Debian's postgresql and redis-server installed):
//   node --import=tsx --conditions=seconet-source bench/store-scale.ts [--runs N] [--pairs N] [--json]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseSpec, type WorkloadInstance } from '@seconet/core';
import { ExperimentQueue, openStore, planExperiment, type RunResultData, type Store, type StoreBackend } from '@seconet/controller';
import { startRedis } from '../test/helpers/redis.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { BENCH_SPEC, caps, hosts } from './lib/matrix-10k.js';

const SELF = fileURLToPath(import.meta.url);
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

const latency: WorkloadInstance = { id: 'latency-basic/icmp/56', kind: 'latency-basic', engine: 'ping', protocol: 'icmp', payload: 56, durationMs: 5000, params: {}, seed: 0 };

/** An experiment of `runs` runs over 4 cells, stored the way submit stores it. */
function createExperiment(store: Store, id: string, runs: number): string[] {
  const cells = Array.from({ length: 4 }, (_, i) => ({
    id: `c${i}`, index: i, network: 'bridge', tunnel: 'none', filter: 'none', rules: 0, containers: 8, placement: 'spread', recipe: '', ruleMatch: 'address', hosts: ['h1', 'h2'],
  }));
  const keys = Array.from({ length: runs }, (_, i) => ({ id: `${id}-r${i}`, experiment: id, cell: `c${i % 4}`, workload: latency, repetition: Math.floor(i / 4), order: i }));
  store.createExperiment({ id, name: id, hosts: ['h1', 'h2'], cells, runs: keys, skipped: [], repetitions: { min: 1, max: 1, ciRelWidth: 1 } } as never, {});
  return keys.map((k) => k.id);
}

/** One run's results: `pairs` pairs x 10 metrics, a 10-value series per pair, 2 hosts x 20 columns x 10 samples, a 2 KiB raw output per pair. */
function runResult(pairs: number, seed: number): RunResultData {
  const metrics = [];
  const series = [];
  const raw = [];
  for (let p = 0; p < pairs; p++) {
    for (let m = 0; m < 10; m++) metrics.push({ pair: `p${p}`, flow: '', metric: `m${m}`, value: seed + p + m / 10, unit: 'ms' });
    series.push({ pair: `p${p}`, name: 'rtt', unit: 'ms', intervalS: 0.5, values: Array.from({ length: 10 }, (_, i) => seed + i) });
    raw.push({ pair: `p${p}`, tool: 'ping', argv: ['ping', '-c', '10'], text: 'x'.repeat(2048) });
  }
  const hostSamples = [];
  for (const host of ['h1', 'h2']) for (let c = 0; c < 20; c++) for (let s = 0; s < 10; s++) hostSamples.push({ host, timestamp: s, column: `col${c}`, value: s * c });
  return { metrics, series, raw, hostSamples, provenance: { engine: 'ping' } };
}

function backendOf(kind: string, url: string): StoreBackend {
  return kind === 'postgres' ? { kind: 'postgres', url } : { kind: 'sqlite' };
}

// ---------------------------------------------------------------------------------------------
// Child: one writer (a controller's store) writing its own experiment's results.

if (process.argv[2] === '--child') {
  const [, , , kind, url, dir, id, runsS, pairsS, startAtS] = process.argv;
  const store = openStore(dir!, backendOf(kind!, url!));
  const ids = createExperiment(store, id!, Number(runsS));
  const data = Array.from({ length: 4 }, (_, i) => runResult(Number(pairsS), i));
  const wait = Number(startAtS) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const t0 = Date.now();
  for (const [i, r] of ids.entries()) {
    store.startRun(r);
    await store.recordRunResult(r, data[i % 4]!);
  }
  const t1 = Date.now();
  store.close();
  process.stdout.write(`${JSON.stringify({ start: t0, end: t1, runs: ids.length })}\n`);
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Parent

const RUNS = arg('--runs', 200);
const PAIRS = arg('--pairs', 8);
const rowsPerRun = PAIRS * 10 + PAIRS + 2 * 20 * 10 + PAIRS;

async function writers(kind: string, url: string, dir: string, n: number, tag: string): Promise<{ runsPerS: number; rowsPerS: number; wallS: number }> {
  const startAt = Date.now() + 4000 + n * 500;
  const outs = await Promise.all(Array.from({ length: n }, (_, i) => new Promise<{ start: number; end: number; runs: number }>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', SELF, '--child', kind, url, dir, `${tag}-w${i}`, String(RUNS), String(PAIRS), String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { start: number; end: number; runs: number }) : reject(new Error(`writer ${i} exited ${code}`))));
  })));
  const wallS = (Math.max(...outs.map((o) => o.end)) - Math.min(...outs.map((o) => o.start))) / 1000;
  const runs = outs.reduce((a, o) => a + o.runs, 0);
  return { runsPerS: runs / wallS, rowsPerS: (runs * rowsPerRun) / wallS, wallS };
}

function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
}

async function storeFigures(kind: string, url: string, dir: string): Promise<Record<string, number>> {
  const store = openStore(dir, backendOf(kind, url));
  try {
    // Events: 2,000 appended to one experiment.
    createExperiment(store, 'ev', 4);
    const [, evMs] = timed(() => {
      for (let i = 0; i < 2000; i++) store.addEvent('ev', 'log', { i });
    });
    // The report's read of a 1,000-run experiment written by the writers' bench.
    createExperiment(store, 'rd', 1000);
    const data = runResult(PAIRS, 1);
    for (const r of store.runs('rd')) {
      store.startRun(r.id);
      await store.recordRunResult(r.id, data);
    }
    const [rows, readMs] = timed(() => store.resultRows('rd').length);
    const [, reportMs] = timed(() => store.reportData('rd'));
    // A 10,080-run plan, as submit stores it.
    const spec = parseSpec(BENCH_SPEC);
    const plan = planExperiment(spec, 'big', hosts, caps);
    const [, planMs] = timed(() => store.createExperiment(plan, spec));
    // Small reads the engine and API make per run: progress, getRun.
    const [, smallMs] = timed(() => {
      for (let i = 0; i < 2000; i++) store.progress('rd');
    });
    return { eventsPerS: 2000 / (evMs / 1000), readRows: rows, readRowsMs: readMs, reportMs, storePlan10kMs: planMs, plannedRuns: plan.runs.length, progressReadUs: (smallMs / 2000) * 1000 };
  } finally {
    store.close();
  }
}

async function redisFigures(url: string): Promise<Record<string, number>> {
  let done = 0;
  const N = 2000;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((r) => (finished = r));
  const queue = new ExperimentQueue({
    redisUrl: url, prefix: 'benchq', concurrency: 16, handler: async () => {
      if (++done === N) finished();
      return 'succeeded';
    },
    hostsOf: (id) => [`a-${id}`, `b-${id}`],
  });
  await queue.queue.waitUntilReady();
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await queue.enqueue(`job-${i}`);
    const t1 = performance.now();
    queue.start();
    await all;
    const t2 = performance.now();
    // Host locks alone: acquire + release of two hosts, one after another.
    const L = 1000;
    const t3 = performance.now();
    for (let i = 0; i < L; i++) {
      const lease = await queue.locks.acquire([`a${i % 8}`, `b${i % 8}`], `lock-${i}`, { ttlMs: 10_000 });
      await lease.release();
    }
    const t4 = performance.now();
    return { enqueuePerS: N / ((t1 - t0) / 1000), jobsPerS: N / ((t2 - t1) / 1000), lockPairsPerS: L / ((t4 - t3) / 1000) };
  } finally {
    await queue.close();
  }
}

const redis = await startRedis();
const pg = await startPostgres();
const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'sn-bench-store-'));
  dirs.push(d);
  return d;
};
const r1 = (x: number): number => +x.toFixed(1);
try {
  const load0 = loadavg()[0]!;
  const out: Record<string, unknown> = { runsPerWriter: RUNS, pairs: PAIRS, rowsPerRun, load: [r1(load0)] };
  const writes: Record<string, Record<number, { runsPerS: number; rowsPerS: number; wallS: number }>> = { sqlite: {}, postgres: {} };
  for (const n of [1, 2, 4]) {
    const liteDir = tmp();
    writes['sqlite']![n] = await writers('sqlite', '', liteDir, n, `s${n}`);
    const url = await pg.database(`w${n}`);
    writes['postgres']![n] = await writers('postgres', url, tmp(), n, `p${n}`);
  }
  out['writes'] = writes;
  out['sqlite'] = await storeFigures('sqlite', '', tmp());
  out['postgres'] = await storeFigures('postgres', await pg.database('figures'), tmp());
  out['redis'] = await redisFigures(redis.url);
  (out['load'] as number[]).push(r1(loadavg()[0]!));
  if (process.argv.includes('--json')) console.log(JSON.stringify(out));
  else {
    console.log(`load average ${String((out['load'] as number[]).join(' -> '))}; a run = ${PAIRS} pairs, ${rowsPerRun} rows (+${PAIRS} raw files of 2 KiB); ${RUNS} runs per writer`);
    console.log('result writes (recordRunResult), aggregate over writer processes:');
    for (const n of [1, 2, 4]) {
      const s = writes['sqlite']![n]!;
      const p = writes['postgres']![n]!;
      console.log(`  ${n} writer(s): SQLite ${r1(s.runsPerS)} runs/s (${Math.round(s.rowsPerS)} rows/s); PostgreSQL ${r1(p.runsPerS)} runs/s (${Math.round(p.rowsPerS)} rows/s) = ${(p.runsPerS / s.runsPerS).toFixed(2)}x SQLite`);
    }
    for (const k of ['sqlite', 'postgres']) {
      const f = out[k] as Record<string, number>;
      console.log(`${k}: events ${Math.round(f['eventsPerS']!)}/s; read ${f['readRows']} rows ${r1(f['readRowsMs']!)} ms, report data ${r1(f['reportMs']!)} ms; store a ${f['plannedRuns']}-run plan ${r1(f['storePlan10kMs']!)} ms; progress() ${r1(f['progressReadUs']!)} us`);
    }
    const rd = out['redis'] as Record<string, number>;
    console.log(`redis: enqueue ${Math.round(rd['enqueuePerS']!)} jobs/s; no-op jobs through one worker (concurrency 16, two host locks each) ${Math.round(rd['jobsPerS']!)}/s; host-lock acquire+release of 2 hosts ${Math.round(rd['lockPairsPerS']!)}/s`);
  }
} finally {
  await pg.stop();
  await redis.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
