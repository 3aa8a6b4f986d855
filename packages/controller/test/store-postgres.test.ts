// The results store on PostgreSQL (a private server started by the test): the same writes give
// the same report data as on SQLite; two stores on one database (two controller processes)
// keep one copy of a run delivered to both, number events without collisions and hear each
// other's events; schema versions and a bad or unreachable URL are reported naming store.url.

import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@seconet/core';
import { openStore, type RunResultData, type Store } from '../src/store/store.js';
import { SCHEMA_VERSION } from '../src/store/schema.js';
import type { ProgressEvent } from '../src/service.js';
import { cell, latency, plan, throughput } from './fixtures.js';
import { requirePostgres, startPostgres, type TestPostgres } from '../../../test/helpers/postgres.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sn-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const result = (pair: string, v: number): RunResultData => ({
  metrics: [{ pair, flow: '', metric: 'rtt_avg', value: v, unit: 'ms' }, { pair, flow: '', metric: 'loss', value: 0, unit: '%' }, { pair, flow: 'f1', metric: 'rtt_avg', value: v / 3, unit: 'ms' }],
  series: [{ pair, name: 'rtt', unit: 'ms', intervalS: 0.5, values: [v, v + 0.1, 1e-9, 123456789.125] }],
  raw: [{ pair, tool: 'ping', argv: ['ping', '-c', '2'], text: `raw ${v}` }],
  hostSamples: [{ host: 'h1', timestamp: 1.25, column: 'total cpu usage:usr', value: 3.5 }, { host: 'h2', timestamp: 1.25, column: 'memory usage:used', value: 2 ** 40 }],
  provenance: { engine: 'ping', agents: { h1: '0.1.0' } },
});

/** One sweep's life in the store: the same calls on either engine. */
async function sweep(s: Store, id: string): Promise<void> {
  const c0 = cell(0, { tunnel: 'wireguard', filter: 'iptables', containers: 4, rules: 100 });
  const c1 = cell(1, { filter: 'nftables', containers: 2, rules: 1000 });
  const p = plan(id, { cells: [c0, c1], workloads: [latency, throughput], repetitions: { min: 2, max: 3, ciRelWidth: 0.1 } });
  s.createExperiment(p, { name: id, matrix: { filter: ['iptables', 'nftables'] } });
  s.setExperimentState(id, 'running');
  s.setCellSetup(id, 'c0', { tunnelVariant: 'userspace', filterVariant: 'kernel', setupSeconds: { tunnel: 0.5, filter: 0.25 } });
  s.setCellVerdict(id, 'c0', { isolation: true, evidence: 'p0 -/-> p1' });
  s.setCellVerdict(id, 'c1', { isolation: null, evidence: '' });
  s.setCellWire(id, 'c1', { encrypted: 'no', claimsEncryption: false, markerInClear: true, encapsulation: 'none', evidence: 'marker seen' });
  for (const [i, r] of p.runs.entries()) {
    s.startRun(r.id);
    if (i === 1) {
      s.resetRun(r.id, 'controller restarted', { uncounted: true });
      s.startRun(r.id);
    }
    if (i === 3) s.failRun(r.id, 'agent h2: Connection dropped');
    else if (i === 5) s.skipRun(r.id, 'cell skipped');
    else await s.recordRunResult(r.id, result(`p${i % 2}`, 1 + i / 8));
    s.addEvent(id, 'run', { run: r.id, i });
  }
  // The same key twice in one batch: the last value stays, on either engine.
  s.recordHostSamples(p.runs[3]!.id, [{ host: 'h1', timestamp: 9, column: 'load', value: 0.5 }, { host: 'h1', timestamp: 9, column: 'load', value: 0.75 }]);
  s.ensureRun({ ...p.runs[0]!, id: `${id}-extra`, repetition: 9, order: 99 });
  s.putDecision(id, { cell: 'c0', workload: latency.id, metric: 'rtt_avg', repetitions: 3, converged: true, ciLow: 1, ciHigh: 2, center: 1.5, relHalfWidth: Number.NaN });
  s.putHost(id, { name: 'h1', kernel: '6.1', agentVersion: '0.1.0', tools: [], cpu: 'x', memoryBytes: 1 });
  s.putHost(id, { name: 'h1', kernel: '6.1.0', agentVersion: '0.1.0', tools: [], cpu: 'x', memoryBytes: 1 });
  s.setExperimentState(id, 'succeeded');
}

/** Report data with what differs by nature (clock, raw file paths) taken out. */
function comparable(s: Store, id: string): unknown {
  const d = s.reportData(id);
  const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v: unknown) => (['createdAt', 'startedAt', 'finishedAt', 'at', 'path'].includes(k) ? undefined : v)));
  return strip({
    ...d,
    events: s.eventsAfter(id, 0),
    progress: s.progress(id),
    totals: s.runTotals(),
    counts: s.experimentCounts(),
    heads: s.listExperimentHeads(),
    groupRuns: s.groupRunKeys(id, 'c0', latency.id),
    groupMetric: s.groupMetric(id, 'c0', latency.id, 'rtt_avg'),
    first: s.firstGroupMetric(id, 'c0', latency.id),
    cellCounts: s.cellRunCounts(id, 'c0'),
    cellStates: [...s.cellStates(id)].sort(),
    provenance: s.hostProvenance(id),
    runProvenance: s.runProvenance(s.runs(id)[0]!.id),
    rawCount: s.rawOutputPaths(id).length,
    pages: [...s.resultRowPages(id, 2)].map((p) => p.length),
  });
}

let server: TestPostgres | undefined;
let dbs = 0;
async function database(t: Parameters<typeof requirePostgres>[0] & { teardown(fn: () => Promise<void> | void): void }): Promise<string | undefined> {
  if (!requirePostgres(t, 'the PostgreSQL results store')) return undefined;
  server ??= await startPostgres();
  return await server.database(`store${++dbs}`);
}
t.teardown(async () => server?.stop());

t.test('the same writes read the same from SQLite and PostgreSQL', async (t) => {
  const url = await database(t);
  if (!url) return;
  const lite = openStore(tmp(t));
  const post = openStore(tmp(t), { kind: 'postgres', url });
  t.teardown(() => {
    lite.close();
    post.close();
  });
  t.equal(post.dialect, 'postgres');
  t.equal(post.schemaVersion, SCHEMA_VERSION);
  await sweep(lite, 'e1');
  await sweep(post, 'e1');
  const a = comparable(lite, 'e1');
  const b = comparable(post, 'e1');
  t.same(b, a, 'report data, events, counters and pages are identical');
  t.ok((post.resultRows('e1')).length >= 12, 'and not empty');
  t.same(post.hostSamples('e1').filter((h) => h.column === 'load').map((h) => h.value), [0.75], 'a key repeated in one batch keeps its last value');
  const raw = post.rawOutputPaths('e1');
  t.equal(readFileSync(raw[0]!, 'utf8').startsWith('raw '), true, 'raw outputs are files beside the store');
  t.throws(() => post.requireExperiment('nope'), { code: 'NOT_FOUND', field: 'id' });
});

t.test('two stores on one database: one copy per run, events numbered once and heard by both', async (t) => {
  const url = await database(t);
  if (!url) return;
  const dir = tmp(t);
  const a = openStore(dir, { kind: 'postgres', url });
  const b = openStore(dir, { kind: 'postgres', url });
  t.teardown(() => {
    a.close();
    b.close();
  });
  const p = plan('e2', { workloads: [latency], repetitions: { min: 3, max: 3, ciRelWidth: 1 } });
  a.createExperiment(p, {});
  t.equal(b.runs('e2').length, 3, 'the second controller sees the first one\'s runs');
  const run = p.runs[0]!.id;
  a.startRun(run);
  b.startRun(run); // redelivered to the other controller
  t.equal(await a.recordRunResult(run, result('p0', 1)), true);
  t.equal(await b.recordRunResult(run, result('p0', 7)), false, 'a second delivery changes nothing');
  t.same(a.resultRows('e2').filter((r) => r.metric === 'rtt_avg').map((r) => r.value), [1, 1 / 3]);
  t.equal(b.getRun(run)?.attempts, 2);

  const heardByB: ProgressEvent[] = [];
  b.onEvent((e) => heardByB.push(e));
  await b.listeningForEvents();
  for (let i = 0; i < 20; i++) (i % 2 === 0 ? a : b).addEvent('e2', 'log', { i });
  const logged = a.eventsAfter('e2', 0).filter((e) => e.data['i'] !== undefined);
  t.same(logged.map((e) => e.id), Array.from({ length: 20 }, (_, i) => i + 2), 'ids count up across both stores');
  t.same(logged.map((e) => e.data['i']), Array.from({ length: 20 }, (_, i) => i), 'in the order they were added');
  for (let i = 0; i < 100 && heardByB.length < 20; i++) await new Promise((r) => setTimeout(r, 50));
  t.same(heardByB.filter((e) => e.data['i'] !== undefined).map((e) => e.data['i']).sort((x, y) => Number(x) - Number(y)), [...Array.from({ length: 10 }, (_, i) => 2 * i), ...Array.from({ length: 10 }, (_, i) => 2 * i + 1)].sort((x, y) => x - y), 'b hears its own events and, by NOTIFY, a\'s, each once');
  t.same(a.reportData('e2'), b.reportData('e2'), 'both read the same report data');
});

t.test('schema versions, a newer store and a bad URL name store.url', async (t) => {
  const url = await database(t);
  if (!url) return;
  const dir = tmp(t);
  const s = openStore(dir, { kind: 'postgres', url });
  s.close();
  const again = openStore(dir, { kind: 'postgres', url });
  t.equal(again.schemaVersion, SCHEMA_VERSION, 'reopening migrates nothing');
  again.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('INSERT INTO seconet_schema (version) VALUES ($1)', [SCHEMA_VERSION + 1]);
  await c.end();
  t.throws(() => openStore(dir, { kind: 'postgres', url }), { code: 'UNSUPPORTED', field: 'store.url' }, 'a newer store is refused');
  const port = await freePort();
  let err: (Error & { code?: string; field?: string }) | undefined;
  try {
    openStore(dir, { kind: 'postgres', url: `postgres://seconet:secret@127.0.0.1:${port}/seconet`, timeoutMs: 5000 }).close();
  } catch (e) {
    err = e as typeof err;
  }
  t.match(err, { code: 'UNAVAILABLE', field: 'store.url', message: /store\.url: cannot connect to PostgreSQL at postgres:\/\/seconet:\*\*\*@127\.0\.0\.1/ }, 'unreachable: UNAVAILABLE naming store.url');
  t.notMatch(err?.message, /secret/, 'the password is not in the message');
});
