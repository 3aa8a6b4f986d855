// Big reads do not hold the controller: an experiment of 100,000 result rows is streamed as
// JSON and CSV from the store in pages while the event loop stays responsive (the queue's lock
// renewals run on it); the experiment list and /metrics answer without parsing stored specs
// and plans; event streams are capped.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { buildApi } from '../src/api/build-api.js';
import { ControllerServiceImpl } from '../src/controller.js';
import { openStore } from '../src/store/store.js';
import type { AgentRegistry } from '../src/agents/registry.js';
import type { Engine } from '../src/engine/engine.js';
import type { ExperimentQueue } from '../src/queue/experiment-queue.js';
import { cell, plan } from './fixtures.js';

const TOKEN = 'big-results-token-0123456789abcdef';
const RUNS = 1000;
const METRICS = 100;

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; chunks: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), chunks: parts.length }));
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('100,000 result rows', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-big-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const store = openStore(dir);
  t.teardown(() => store.close());
  const p = plan('big', { cells: Array.from({ length: 10 }, (_, i) => cell(i)), repetitions: { min: RUNS / 10, max: RUNS / 10, ciRelWidth: 0.05 } });
  store.createExperiment(p, { name: 'big' });
  t.equal(p.runs.length, RUNS);
  const t0 = performance.now();
  for (const r of p.runs) {
    store.startRun(r.id);
    await store.recordRunResult(r.id, { metrics: Array.from({ length: METRICS }, (_, i) => ({ pair: 'p0', flow: '', metric: `m${String(i).padStart(3, '0')}`, value: i, unit: 'ms' })), series: [], raw: [], hostSamples: [], provenance: {} });
  }
  t.comment(`stored ${RUNS * METRICS} rows in ${Math.round(performance.now() - t0)} ms`);

  let pages = 0;
  let largest = 0;
  let total = 0;
  for (const page of store.resultRowPages('big', 100)) {
    pages++;
    largest = Math.max(largest, page.length);
    total += page.length;
  }
  t.equal(total, RUNS * METRICS);
  t.equal(pages, 10, 'read in pages of whole runs');
  t.equal(largest, 100 * METRICS, 'no page holds more than its runs');

  const service = new ControllerServiceImpl(store, { status: () => [] } as unknown as AgentRegistry, { current: () => undefined } as unknown as Engine, { depth: async () => 0 } as unknown as ExperimentQueue);
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false, maxStreams: 1, heartbeatMs: 60_000 });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const tj = performance.now();
  const json = await get(`${url}/v1/experiments/big/results`);
  const jsonMs = performance.now() - tj;
  const tc = performance.now();
  const csv = await get(`${url}/v1/experiments/big/results?format=csv`);
  const csvMs = performance.now() - tc;
  loop.disable();
  t.comment(`JSON ${Math.round(jsonMs)} ms (${json.chunks} chunks), CSV ${Math.round(csvMs)} ms (${csv.chunks} chunks), longest event-loop stall ${Math.round(loop.max / 1e6)} ms`);
  t.equal(json.status, 200);
  const rows = JSON.parse(json.body) as Array<{ run: string; metric: string; value: number }>;
  t.equal(rows.length, RUNS * METRICS, 'every row as JSON');
  t.match(rows[0], { run: p.runs[0]!.id, metric: 'm000', value: 0 });
  t.ok(json.chunks > 1, 'streamed, not one buffer');
  t.equal(csv.status, 200);
  t.equal(csv.body.split('\r\n').filter((l) => l !== '').length, RUNS * METRICS + 1, 'every row as CSV plus the header');
  t.ok(jsonMs < 60_000 && csvMs < 60_000, 'fast enough');
  t.ok(loop.max / 1e6 < 2000, 'the event loop never stalled for 2 s (queue lock renewals keep running)');
  t.equal((await get(`${url}/v1/experiments/nope/results`)).status, 404, 'an unknown experiment is 404 before any byte is streamed');

  // The list and /metrics never read a spec or plan: make the stored plan unreadable.
  const db = new Database(join(dir, 'seconet.db'));
  db.prepare("UPDATE experiments SET plan = '{not json', spec = '{not json' WHERE id = 'big'").run();
  db.close();
  const list = await get(`${url}/v1/experiments`);
  t.equal(list.status, 200);
  t.match(JSON.parse(list.body), [{ id: 'big', state: 'queued' }]);
  const metrics = await get(`${url}/metrics`);
  t.equal(metrics.status, 200);
  t.match(metrics.body, /^seconet_experiments\{state="queued"\} 1$/m);

  // One event stream at a time (maxStreams 1): a second is refused until the first closes.
  const first = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = request(`${url}/v1/experiments/big/events`, { headers: { authorization: `Bearer ${TOKEN}` } }, resolve);
    req.on('error', reject);
    req.end();
  });
  t.equal(first.statusCode, 200);
  const second = await get(`${url}/v1/experiments/big/events`);
  t.equal(second.status, 429);
  t.match(JSON.parse(second.body), { code: 'RATE_LIMITED', message: /1 event streams are open, the most this controller serves at once \(maxStreams 1\)/ });
  first.destroy();
  await new Promise((r) => setTimeout(r, 200));
  const third = await new Promise<number>((resolve, reject) => {
    const req = request(`${url}/v1/experiments/big/events`, { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(third, 200, 'a slot frees when a stream closes');
});
