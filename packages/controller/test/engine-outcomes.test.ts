// Every planned run gets exactly one outcome: when an experiment ends on an error that stops
// the sweep, the runs it never reached fail with that reason instead of staying pending.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { cell, plan } from './fixtures.js';

t.test('an experiment that fails closes the runs it did not reach, with the reason', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-outcomes-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pool = new FakePool(['h1', 'h2']) as FakePool & { healthy?: (h: string) => boolean };
  const p = plan('e-outcomes', { cells: [cell(0), { ...cell(1), filter: 'iptables' }] });
  store.createExperiment(p, {});
  const first = new Set(p.runs.filter((r) => r.cell === p.cells[0]!.id).map((r) => r.id));
  // Once the first cell is measured, the agent pool breaks in a way the engine cannot handle.
  const refresh = pool.refresh.bind(pool);
  pool.refresh = async (h: string) => {
    if (store.runs(p.id).filter((r) => first.has(r.id)).every((r) => r.state === 'succeeded')) {
      pool.healthy = () => false;
      pool.refresh = () => {
        throw new Error('agent pool broken');
      };
    }
    return refresh(h);
  };
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 } });
  t.equal(await engine.run(p.id), 'failed');
  const runs = store.runs(p.id);
  t.ok(runs.filter((r) => first.has(r.id)).every((r) => r.state === 'succeeded'), 'the first cell was measured');
  const rest = runs.filter((r) => !first.has(r.id));
  t.ok(rest.length > 0);
  t.ok(rest.every((r) => r.state === 'failed'), 'no run is left pending');
  t.ok(rest.every((r) => /not run: the experiment failed: agent pool broken/.test(r.error ?? '')), 'each says why');
});
