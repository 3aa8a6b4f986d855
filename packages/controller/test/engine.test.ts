import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore, type Store } from '../src/store/store.js';
import { RunAborted } from '../src/workload-control/run-workload.js';
import { FakePool } from './fake-agent.js';
import { cell, latency, plan, throughput } from './fixtures.js';

function setup(t: { teardown(fn: () => void): void }): { store: Store; pool: FakePool } {
  const dir = mkdtempSync(join(tmpdir(), 'sn-engine-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, pool: new FakePool(['h1', 'h2']) };
}

const fast = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 };

t.test('a sweep yields every run with metrics, host samples and provenance; rules-only cells share a scope', async (t) => {
  const { store, pool } = setup(t);
  const cells = [cell(0, { filter: 'iptables', rules: 0, containers: 4 }), cell(1, { filter: 'iptables', rules: 100, containers: 4 }), cell(2, { tunnel: 'wireguard', containers: 2 })];
  const p = plan('e1', { cells, workloads: [latency, throughput], repetitions: { min: 2, max: 2, ciRelWidth: 0.5 } });
  store.createExperiment(p, {});
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
  t.equal(await engine.run('e1'), 'succeeded');
  const runs = store.runs('e1');
  t.equal(runs.length, 12);
  t.ok(runs.every((r) => r.state === 'succeeded' && r.attempts === 1));
  const rows = store.resultRows('e1');
  const pairRows = rows.filter((r) => !r.pair.startsWith('host/'));
  t.equal(pairRows.filter((r) => r.metric === 'rtt_avg').length, 2 * 2 + 2 * 2 + 2 * 1, 'one rtt row per run x pair');
  t.ok(rows.some((r) => r.pair === 'host/h1' && r.metric === 'host_cpu_mean' && r.value === 20));
  t.ok(store.hostSamples('e1').some((s) => s.column === 'total cpu usage:usr'));
  t.equal(rows.find((r) => r.cell === 'c2')?.tunnel_variant, 'userspace');
  const h1 = pool.get('h1');
  const applies = h1.calls.filter((c) => c.method === 'apply').map((c) => c.scope);
  t.equal(applies[0], applies[1], 'rules-only change applies on the same scope');
  t.not(applies[1], applies[2]);
  t.same(h1.calls.filter((c) => c.method === 'teardown').map((c) => c.scope), [applies[0], applies[2]], 'each scope torn down once');
  t.same(h1.scopes.size, 0, 'nothing left applied');
  t.same(engine.scopesInUse(), [], 'no scope is still counted as in use');
  const c0 = store.cells('e1')[0]!;
  t.equal(c0.isolation, true);
  t.match(c0.isolationEvidence, /denied src0.*blocked/);
  t.equal(c0.state, 'measured');
  t.ok(store.cells('e1')[2]!.isolation === null, 'filter none: isolation not checked');
  const prov = store.runProvenance(store.runs('e1').find((r) => r.state === 'succeeded')!.id);
  t.match(prov, { engine: 'ping', agents: { h1: { kernel: '6.1.0-test' } }, cell: { id: 'c0' } });
  t.ok(store.eventsAfter('e1', 0).some((e) => e.type === 'state' && e.data['state'] === 'succeeded'));
  t.equal(store.reportData('e1').hosts.length, 2);
});

t.test('resume after a stop runs every unfinished run once and never repeats a finished one', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e2', { cells: [cell(0), cell(1, { containers: 4 })], workloads: [latency], repetitions: { min: 3, max: 3, ciRelWidth: 1 } });
  store.createExperiment(p, {});
  const stop = new AbortController();
  let n = 0;
  const first = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast, beforeRun: () => { if (++n === 4) stop.abort(); } });
  await t.rejects(first.run('e2', stop.signal), RunAborted);
  t.equal(store.getExperiment('e2')?.state, 'running');
  const doneBefore = store.runs('e2').filter((r) => r.state === 'succeeded').map((r) => r.id);
  t.equal(doneBefore.length, 3);
  const second = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
  t.equal(await second.run('e2'), 'succeeded');
  const started = pool.get('h1').runsStarted();
  t.equal(new Set(started).size, 6, 'every run started');
  t.equal(started.length, 6, 'none started twice');
  t.ok(store.runs('e2').every((r) => r.state === 'succeeded'));
});

t.test('a run whose agent dies fails with the agent error; the sweep goes on and re-applies', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e3', { workloads: [latency, throughput] });
  store.createExperiment(p, {});
  const victim = p.runs[0]!.id;
  pool.get('h1').behaviour.failRuns = new Set([victim]);
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { ...fast, retries: 1 } });
  t.equal(await engine.run('e3'), 'succeeded');
  const r = store.getRun(victim)!;
  t.equal(r.state, 'failed');
  t.equal(r.attempts, 2, 'retried within the budget');
  t.match(r.error, /agent h1 .*unavailable/);
  t.equal(store.getRun(p.runs[1]!.id)?.state, 'succeeded');
  t.equal(pool.get('h2').calls.filter((c) => c.method === 'apply').length, 3, 'first apply + re-apply before each later attempt');
  t.same(store.progress('e3'), { runsTotal: 2, runsDone: 2, runsFailed: 1 });
});

t.test('a cell whose isolation breaks is invalid and not measured', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e4', { cells: [cell(0, { filter: 'nftables', containers: 4 }), cell(1, { containers: 4 })] });
  store.createExperiment(p, {});
  pool.get('h1').behaviour.leak = true;
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
  t.equal(await engine.run('e4'), 'succeeded');
  const [c0, c1] = store.cells('e4');
  t.equal(c0?.state, 'invalid');
  t.equal(c0?.isolation, false);
  t.match(c0?.isolationEvidence, /PASSED \(isolation broken\)/);
  t.equal(store.getRun(p.runs[0]!.id)?.state, 'skipped');
  t.equal(c1?.state, 'measured');
  t.equal(pool.get('h1').runsStarted().length, 1, 'only the valid cell was measured');
});

t.test('a host that cannot apply fails its cell with the reason, the rest runs', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e5', { cells: [cell(0, { hosts: ['h1', 'h2'] }), cell(1, { placement: 'single-host', hosts: ['h1'] })] });
  store.createExperiment(p, {});
  pool.get('h2').behaviour.down = true;
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { ...fast, agentWaitMs: 300 } });
  t.equal(await engine.run('e5'), 'succeeded');
  const [c0, c1] = store.cells('e5');
  t.equal(c0?.state, 'failed');
  t.match(c0?.error, /h2/);
  t.equal(store.getRun(p.runs[0]!.id)?.state, 'failed');
  t.equal(c1?.state, 'measured');
});

t.test('cancel stops between runs and keeps finished runs', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e6', { workloads: [latency], repetitions: { min: 5, max: 5, ciRelWidth: 1 } });
  store.createExperiment(p, {});
  let n = 0;
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast, beforeRun: () => { if (++n === 3) store.requestCancel('e6'); } });
  t.equal(await engine.run('e6'), 'cancelled');
  const states = store.runs('e6').map((r) => r.state);
  t.same(states.filter((s) => s === 'succeeded').length, 2);
  t.notOk(states.includes('running'));
  t.equal(pool.get('h1').scopes.size, 0, 'torn down on cancel');
});

t.test('repetitions continue until the interval converges, up to max', async (t) => {
  const { store, pool } = setup(t);
  const noisy = plan('e7', { workloads: [latency], repetitions: { min: 2, max: 6, ciRelWidth: 0.01 } });
  const steady = plan('e8', { workloads: [latency], repetitions: { min: 2, max: 6, ciRelWidth: 0.01 } });
  store.createExperiment(noisy, {});
  store.createExperiment(steady, {});
  let k = 0;
  pool.get('h1').behaviour.value = (runId) => (runId.startsWith('pre') ? 1 : store.getRun(runId)?.experiment === 'e7' ? 1 + (k++ % 2) * 5 : 3);
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
  await engine.run('e7');
  await engine.run('e8');
  t.equal(store.runs('e7').length, 6, 'noisy group runs to max');
  t.equal(store.runs('e8').length, 2, 'steady group stops at min');
  const d = store.reportData('e8').decisions[0]!;
  t.match(d, { metric: 'rtt_avg', converged: true, repetitions: 2, center: 3 });
  t.equal(store.reportData('e7').decisions[0]?.converged, false);
});
