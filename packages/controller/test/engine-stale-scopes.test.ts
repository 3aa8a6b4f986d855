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
import { plan } from './fixtures.js';

t.test('stale scopes of another experiment are removed before the first Apply; the experiment\'s own are kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-stale-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pool = new FakePool(['h1', 'h2']);
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
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 } });
  t.equal(await engine.run(p.id), 'succeeded');
  t.ok(removedBeforeApply.length > 0 && removedBeforeApply.every(Boolean), 'the stale scope was gone before every Apply');
  const calls = pool.get('h1').calls.map((c) => c.method);
  t.ok(calls.indexOf('gc') >= 0 && calls.indexOf('gc') < calls.indexOf('apply'), 'GC came first');
  t.ok(store.runs(p.id).every((r) => r.state === 'succeeded'), 'every run succeeded');
});
