import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type RunResultData } from '../src/store/store.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../src/store/schema.js';
import { cell, plan, latency, throughput } from './fixtures.js';

function tmp(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sn-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A second, read-only connection: the test looks at what the store wrote on disk. */
function onDisk(t: { teardown(fn: () => void): void }, dir: string): Database.Database {
  const db = new Database(join(dir, 'seconet.db'), { readonly: true });
  t.teardown(() => db.close());
  return db;
}

const result = (pair: string, v: number): RunResultData => ({
  metrics: [{ pair, flow: '', metric: 'rtt_avg', value: v, unit: 'ms' }, { pair, flow: '', metric: 'loss', value: 0, unit: '%' }],
  series: [{ pair, name: 'rtt', unit: 'ms', intervalS: 0, values: [v, v + 0.1] }],
  raw: [{ pair, tool: 'ping', argv: ['ping', '-c', '2'], text: `raw ${v}` }],
  hostSamples: [{ host: 'h1', timestamp: 1, column: 'total cpu usage:usr', value: 3 }],
  provenance: { engine: 'ping', agents: { h1: '0.1.0' } },
});

t.test('migrations set user_version and are idempotent on reopen', async (t) => {
  const dir = tmp(t);
  const s = openStore(dir);
  t.equal(s.schemaVersion, SCHEMA_VERSION);
  s.close();
  const again = openStore(dir);
  t.equal(again.schemaVersion, SCHEMA_VERSION);
  again.close();
  const db = new Database(join(dir, 'seconet.db'));
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  t.throws(() => openStore(dir), { code: 'UNSUPPORTED' }, 'a newer store is refused');
});

t.test('a run written twice keeps one copy', async (t) => {
  const s = openStore(tmp(t));
  t.teardown(() => s.close());
  const p = plan('e1');
  s.createExperiment(p, { name: 'x' });
  const run = p.runs[0]!;
  s.startRun(run.id);
  t.equal(await s.recordRunResult(run.id, result('p0', 1.5)), true);
  t.equal(await s.recordRunResult(run.id, result('p0', 9.9)), false, 'second delivery is ignored');
  const rows = s.resultRows('e1');
  t.equal(rows.length, 2);
  t.equal(rows.find((r) => r.metric === 'rtt_avg')?.value, 1.5, 'the first copy stays');
  t.equal(s.hostSamples('e1').length, 1);
  const raw = onDisk(t, s.dir).prepare('SELECT path FROM raw_outputs WHERE run = ?').all(run.id) as Array<{ path: string }>;
  t.equal(raw.length, 1);
  t.equal(readFileSync(raw[0]!.path, 'utf8'), 'raw 1.5');
  t.equal(s.getRun(run.id)?.state, 'succeeded');
  t.same(s.progress('e1'), { runsTotal: 1, runsDone: 1, runsFailed: 0 });
});

t.test('a run\'s result is written by the store\'s write thread, not on the event loop', async (t) => {
  const s = openStore(tmp(t));
  t.teardown(() => s.close());
  const p = plan('e-thread');
  s.createExperiment(p, { name: 'x' });
  const run = p.runs[0]!;
  s.startRun(run.id);
  // 60 hosts x 6 s x 20 columns: a multi-host run's host samples (7,200 rows).
  const hostSamples = Array.from({ length: 60 * 6 * 20 }, (_, i) => ({ host: `h${i % 60}`, timestamp: Math.floor(i / 60) % 6, column: `c${Math.floor(i / 360)}`, value: i }));
  const pending = s.recordRunResult(run.id, { ...result('p0', 1), raw: [], hostSamples });
  t.equal(s.getRun(run.id)?.state, 'running', 'the call returned before anything was written');
  // This thread never yields to its event loop here: only another thread can commit the run.
  const end = Date.now() + 30_000;
  while (s.getRun(run.id)?.state !== 'succeeded' && Date.now() < end);
  t.equal(s.getRun(run.id)?.state, 'succeeded', 'committed while the calling thread was busy');
  t.equal(await pending, true);
  t.equal(s.hostSamples('e-thread').length, hostSamples.length, 'every host sample stored');
  t.equal(s.resultRows('e-thread').length, 2);
});

t.test('events added while the write thread stores a run go through it, after it, in order; listeners hear them once stored', async (t) => {
  const dir = tmp(t);
  const s = openStore(dir);
  t.teardown(() => s.close());
  const p = plan('e-ev');
  s.createExperiment(p, { name: 'x' });
  const run = p.runs[0]!;
  s.startRun(run.id);
  const heard: Array<{ id: number; i: unknown }> = [];
  s.onEvent((e) => {
    if (e.data['i'] !== undefined) heard.push({ id: e.id, i: e.data['i'] });
  });
  const before = s.eventsAfter('e-ev', 0).length;
  const hostSamples = Array.from({ length: 60 * 6 * 20 }, (_, i) => ({ host: `h${i % 60}`, timestamp: Math.floor(i / 60) % 6, column: `c${Math.floor(i / 360)}`, value: i }));
  // A second connection holds the file's write lock: the run's transaction waits for it, so the
  // events below are added while the write thread is certainly busy.
  const other = new Database(join(dir, 'seconet.db'));
  t.teardown(() => other.close());
  other.prepare('BEGIN IMMEDIATE').run();
  const pending = s.recordRunResult(run.id, { ...result('p0', 1), raw: [], hostSamples });
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  for (let i = 0; i < 5; i++) s.addEvent('e-ev', 'log', { i });
  const ms = performance.now() - t0;
  t.ok(ms < 50, `adding 5 events did not wait for the write lock (${ms.toFixed(1)} ms)`);
  t.equal(s.eventsAfter('e-ev', 0).length, before, 'not stored yet: they wait behind the run');
  t.same(heard, [], 'no listener heard an event that is not stored');
  let idle = false;
  const writerIdle = s.writerIdle().then(() => (idle = true));
  await new Promise((r) => setTimeout(r, 20));
  t.notOk(idle, 'writerIdle waits while the write thread has work');
  other.prepare('COMMIT').run();
  await writerIdle;
  t.equal(s.eventsAfter('e-ev', before).filter((e) => e.data['i'] !== undefined).length, 5, 'writerIdle resolved after the run and the events were stored');
  t.equal(await pending, true, 'the run was stored');
  await s.eventsStored();
  const stored = s.eventsAfter('e-ev', before).filter((e) => e.data['i'] !== undefined);
  t.same(stored.map((e) => e.data['i']), [0, 1, 2, 3, 4], 'stored in the order they were added');
  t.same(stored.map((e) => e.id), Array.from({ length: 5 }, (_, k) => before + 1 + k), 'numbered after the events before them');
  t.same(heard, stored.map((e) => ({ id: e.id, i: e.data['i'] })), 'listeners heard each once, with its stored id');
  // With the write thread idle, an event is written at once, after the deferred ones.
  s.addEvent('e-ev', 'log', { i: 5 });
  t.equal(s.eventsAfter('e-ev', 0).at(-1)?.data['i'], 5, 'written at once when the thread is idle');
  t.equal(heard.at(-1)?.i, 5);
});

t.test('an interrupted attempt is replaced by the retry, not duplicated', async (t) => {
  const s = openStore(tmp(t));
  t.teardown(() => s.close());
  const p = plan('e2', { workloads: [latency, throughput], repetitions: { min: 2, max: 3, ciRelWidth: 0.1 } });
  s.createExperiment(p, {});
  t.equal(s.runs('e2').length, 4);
  const id = p.runs[0]!.id;
  t.equal(s.startRun(id), 1);
  s.resetRun(id, 'controller restarted');
  t.equal(s.getRun(id)?.state, 'pending');
  t.equal(s.startRun(id), 2);
  await s.recordRunResult(id, result('p0', 2));
  t.equal(s.resultRows('e2').length, 2);
  s.failRun(p.runs[1]!.id, 'agent h2 died');
  t.same(s.progress('e2'), { runsTotal: 4, runsDone: 2, runsFailed: 1 });
  s.failRun(id, 'late failure');
  t.equal(s.getRun(id)?.state, 'succeeded', 'a succeeded run never turns failed');
});

t.test('ensureRun is idempotent and results carry the cell coordinates', async (t) => {
  const s = openStore(tmp(t));
  t.teardown(() => s.close());
  const c = cell(0, { tunnel: 'wireguard', filter: 'iptables', containers: 4, rules: 100 });
  const p = plan('e3', { cells: [c] });
  s.createExperiment(p, {});
  const extra = { ...p.runs[0]!, id: 'rextra', repetition: 2, order: 1 };
  s.ensureRun(extra);
  s.ensureRun(extra);
  t.equal(s.runs('e3').length, 2);
  s.setCellSetup('e3', 'c0', { tunnelVariant: 'userspace', filterVariant: 'kernel', setupSeconds: { tunnel: 0.5 } });
  await s.recordRunResult('rextra', result('p1', 3));
  const row = s.resultRows('e3')[0]!;
  t.match(row, { experiment: 'e3', cell: 'c0', run: 'rextra', repetition: 2, workload: 'latency-basic/icmp/56', engine: 'ping', tunnel: 'wireguard', tunnel_variant: 'userspace', filter: 'iptables', filter_variant: 'kernel', rules: 100, containers: 4, pair: 'p1' });
  t.same(s.groupMetric('e3', 'c0', 'latency-basic/icmp/56', 'rtt_avg'), [3]);
});

t.test('states, events, cancel and report data', async (t) => {
  const s = openStore(tmp(t));
  t.teardown(() => s.close());
  const p = plan('e4');
  const seen: number[] = [];
  s.onEvent((e) => seen.push(e.id));
  s.createExperiment(p, { name: 'spec' });
  t.equal(s.getExperiment('e4')?.state, 'queued');
  s.setExperimentState('e4', 'running');
  s.addEvent('e4', 'run', { run: 'x' });
  t.equal(s.setExperimentState('e4', 'succeeded'), true);
  t.equal(s.setExperimentState('e4', 'failed', 'late'), false, 'terminal states are final');
  t.same(s.eventsAfter('e4', 1).map((e) => e.id), [2, 3, 4]);
  t.same(seen, [1, 2, 3, 4]);
  t.notOk(s.isCancelRequested('e4'));
  s.requestCancel('e4');
  t.ok(s.isCancelRequested('e4'));
  s.setCellVerdict('e4', 'c0', { isolation: false, evidence: 'p0 -> p1 answered' });
  s.setCellState('e4', 'c0', 'invalid', 'isolation broken');
  s.putDecision('e4', { cell: 'c0', workload: 'latency-basic/icmp/56', metric: 'rtt_avg', repetitions: 3, converged: true, ciLow: 1, ciHigh: 2, center: 1.5, relHalfWidth: Number.NaN });
  s.putHost('e4', { name: 'h1', kernel: '6.1', agentVersion: '0.1.0', tools: [], cpu: 'x', memoryBytes: 1 });
  const d = s.reportData('e4');
  t.equal(d.experiment.state, 'succeeded');
  t.ok(d.experiment.finishedAt);
  t.same(d.experiment.spec, { name: 'spec' });
  t.match(d.cells[0], { isolation: false, isolationEvidence: 'p0 -> p1 answered', state: 'invalid' });
  t.equal(d.decisions[0]?.relHalfWidth, 0);
  t.equal(d.hosts.length, 1);
  t.equal(d.runs.length, 1);
  t.throws(() => s.reportData('nope'), { code: 'NOT_FOUND' });
  t.ok(existsSync(s.dir));
});

t.test('a store written by schema version 1 is brought forward and keeps its rows', async (t) => {
  const dir = tmp(t);
  const db = new Database(join(dir, 'seconet.db'));
  db.exec(MIGRATIONS[0]!.sql);
  db.pragma('user_version = 1');
  db.prepare("INSERT INTO experiments (id, name, spec, plan, hosts, state, created_at) VALUES ('old', 'old', '{}', '{}', '[]', 'succeeded', '2026-01-01T00:00:00Z')").run();
  db.close();
  const s = openStore(dir);
  t.teardown(() => s.close());
  t.equal(s.schemaVersion, SCHEMA_VERSION);
  t.ok(SCHEMA_VERSION >= 2);
  t.equal(s.getExperiment('old')?.state, 'succeeded', 'rows survive the migration');
  const idx = onDisk(t, s.dir).prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'runs_by_group'").get();
  t.ok(idx, 'migration 2 added the group index');
});
