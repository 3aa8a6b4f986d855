// Found by the soak: a controller killed mid-experiment leaves that experiment's scope applied
// (for a cheap resume); when another queued experiment got the hosts first, every one of its
// Applies collided with the stale container network and all its cells failed. Now an experiment
// first removes other experiments' scopes from its hosts (it holds their locks, so they are
// stale) and keeps its own.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS, scopeName } from '../src/configurator/host-state.js';
import { openStore } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { cell, plan } from './fixtures.js';

/** A store in a temporary directory (removed after the test) and two fake agents. */
function setup(t: { teardown(fn: () => void): void }): { store: ReturnType<typeof openStore>; pool: FakePool } {
  const dir = mkdtempSync(join(tmpdir(), 'sn-stale-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, pool: new FakePool(['h1', 'h2']) };
}

const OPTIONS = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 };

t.test('stale scopes of another experiment are removed before the first Apply; the experiment\'s own are kept', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e-stale');
  store.createExperiment(p, {});
  const own = scopeName(p.id, p.cells[0]!, p.cells[0]!.containers);
  for (const h of ['h1', 'h2']) {
    pool.get(h).scopes.add('xother-bridge-none-none-c2');
    pool.get(h).scopes.add(own);
  }
  const removedBeforeApply: boolean[] = [];
  for (const h of ['h1', 'h2']) {
    const a = pool.get(h);
    const apply = a.apply.bind(a);
    a.apply = async (req) => {
      removedBeforeApply.push(!a.scopes.has('xother-bridge-none-none-c2'));
      return apply(req);
    };
  }
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: OPTIONS });
  t.equal(await engine.run(p.id), 'succeeded');
  t.ok(removedBeforeApply.length > 0 && removedBeforeApply.every(Boolean), 'the stale scope was gone before every Apply');
  const calls = pool.get('h1').calls.map((c) => c.method);
  t.ok(calls.indexOf('gc') >= 0 && calls.indexOf('gc') < calls.indexOf('apply'), 'GC came first');
  t.ok(store.runs(p.id).every((r) => r.state === 'succeeded'), 'every run succeeded');
});

t.test('resumed after its first cell was measured but not torn down: that cell\'s scope is removed before the next cell\'s Apply', async (t) => {
  // A controller killed between a cell's last run and its teardown left the cell's scope
  // applied; the resumed sweep skips the measured cell, so nothing tore it down, and the next
  // cell's Apply (the same container network) collided with it on every host.
  const { store, pool } = setup(t);
  const p = plan('e-resume', { cells: [cell(0), cell(1, { filter: 'iptables' })] });
  store.createExperiment(p, {});
  const done = scopeName(p.id, p.cells[0]!, p.cells[0]!.containers);
  const next = scopeName(p.id, p.cells[1]!, p.cells[1]!.containers);
  t.not(done, next, 'the two cells have their own scopes');
  // The first cell finished before the kill: its run succeeded, the cell is measured.
  const r0 = p.runs.find((r) => r.cell === 'c0')!;
  store.startRun(r0.id);
  t.equal(await store.recordRunResult(r0.id, { metrics: [{ pair: 'p0', flow: '', metric: 'rtt_avg', value: 1, unit: 'ms' }], series: [], raw: [], hostSamples: [], provenance: { engine: 'ping', agents: {} } }), true);
  store.setCellState(p.id, 'c0', 'measured');
  for (const h of ['h1', 'h2']) pool.get(h).scopes.add(done);
  const leftoverAtApply: boolean[] = [];
  for (const h of ['h1', 'h2']) {
    const a = pool.get(h);
    const apply = a.apply.bind(a);
    a.apply = async (req) => {
      leftoverAtApply.push(a.scopes.has(done));
      return apply(req);
    };
  }
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: OPTIONS });
  t.equal(await engine.run(p.id), 'succeeded');
  t.ok(leftoverAtApply.length > 0, 'the next cell was applied');
  t.ok(leftoverAtApply.every((x) => !x), 'the measured cell\'s scope was gone before every Apply');
  t.ok(store.runs(p.id).every((r) => r.state === 'succeeded'), 'every run succeeded');
});

t.test('an agent that does not answer a cell\'s Apply (killed between cells) is waited for and the cell applied once more, not failed', async (t) => {
  const { store, pool } = setup(t);
  const p = plan('e-gone');
  store.createExperiment(p, {});
  const h2 = pool.get('h2');
  const apply = h2.apply.bind(h2);
  let applies = 0;
  h2.apply = async (req) => {
    applies++;
    if (applies === 1) {
      // Down for this call and back 100 ms later (restarted).
      h2.behaviour.down = true;
      setTimeout(() => (h2.behaviour.down = false), 100);
    }
    return apply(req);
  };
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { ...OPTIONS, agentWaitMs: 5000 } });
  t.equal(await engine.run(p.id), 'succeeded');
  t.equal(applies, 2, 'applied once more after the agent answered again');
  t.ok(store.runs(p.id).every((r) => r.state === 'succeeded'), 'every run succeeded');
  t.ok(store.eventsAfter(p.id, 0).some((e) => /applying once more/.test(String(e.data['message']))), 'the events say why');
});
