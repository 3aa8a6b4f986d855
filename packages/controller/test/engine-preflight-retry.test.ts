// Found by the soak: an underlay cut of a few seconds during a cell's pre-flight made its
// allowed pairs look disconnected and the whole cell was skipped unmeasured. Now the pre-flight
// probes again (twice, after a pause) before giving up; a cell that stays cut is still skipped.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { plan } from './fixtures.js';

const fast = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 };

for (const [cuts, measured] of [[1, true], [2, true], [10, false]] as const) {
  t.test(`a pre-flight cut off ${cuts} time(s): the cell is ${measured ? 'measured' : 'skipped'}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sn-preflight-'));
    const store = openStore(dir);
    t.teardown(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const pool = new FakePool(['h1', 'h2']);
    for (const h of ['h1', 'h2']) pool.get(h).behaviour.cutPreflights = cuts;
    const p = plan(`e-cut-${cuts}`);
    store.createExperiment(p, {});
    const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: fast });
    await engine.run(p.id);
    const runs = store.runs(p.id);
    if (measured) t.ok(runs.every((r) => r.state === 'succeeded'), 'every run measured');
    else {
      t.ok(runs.every((r) => r.state === 'skipped'), 'the runs are skipped');
      t.match(runs[0]!.error, /allowed pair does not connect/);
    }
  });
}
