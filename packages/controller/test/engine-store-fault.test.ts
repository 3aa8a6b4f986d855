// A defect in storing or aggregating one run's result fails that run, with the cause, and the
// sweep goes on: one bad row must not end a night of runs. A store that is broken for good
// still ends the experiment with its own error.
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore, type Store } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { cell, plan } from './fixtures.js';

const OPTIONS = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000, retries: 1 };

function tempStore(t: Test): Store {
  const dir = mkdtempSync(join(tmpdir(), 'sn-store-fault-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return store;
}

t.test('a run whose result cannot be stored fails with the cause; the other runs are measured', async (t) => {
  const store = tempStore(t);
  const p = plan('e-store-fault', { cells: [cell(0), cell(1), cell(2)] });
  store.createExperiment(p, {});
  const bad = p.runs[1]!.id;
  const record = store.recordRunResult.bind(store);
  let refused = 0;
  store.recordRunResult = async (id, data) => {
    if (id === bad) {
      refused++;
      throw new Error('CHECK constraint failed: value IS NOT NULL');
    }
    return record(id, data);
  };
  const warnings: string[] = [];
  const log = { warn: (_o: object, msg?: string) => void warnings.push(msg ?? ''), info: () => undefined };
  const engine = new Engine({ store, agents: new FakePool(['h1', 'h2']), secrets: NO_SECRETS, options: OPTIONS, log });
  const state = await engine.run(p.id);
  const runs = store.runs(p.id);
  const failed = runs.find((r) => r.id === bad)!;
  t.equal(failed.state, 'failed', 'the run that could not be stored failed');
  t.match(failed.error ?? '', /storing the run's results failed: CHECK constraint failed: value IS NOT NULL/, 'with the store\'s own error');
  t.equal(refused, 2, 'it was tried again within the retry budget (retries: 1)');
  t.ok(runs.filter((r) => r.id !== bad).every((r) => r.state === 'succeeded'), 'every other run of the sweep was measured');
  t.equal(store.resultRows(p.id).filter((r) => r.run === bad).length, 0, 'nothing of the failed run is half stored');
  t.ok(store.resultRows(p.id).length > 0, 'the other runs have result rows');
  t.not(state, 'running');
  t.ok(warnings.some((w) => /storing a run's result failed/.test(w)), 'the defect is logged');
});

t.test('a store broken for good still ends the experiment with its own error', async (t) => {
  const store = tempStore(t);
  const p = plan('e-store-broken', { cells: [cell(0), cell(1)] });
  store.createExperiment(p, {});
  const broken = (): never => {
    throw new Error('SQLITE_READONLY: attempt to write a readonly database');
  };
  store.recordRunResult = async () => broken();
  const fail = store.failRun.bind(store);
  let failCalls = 0;
  store.failRun = (id, why) => {
    failCalls++;
    if (failCalls === 1) broken();
    return fail(id, why);
  };
  const engine = new Engine({ store, agents: new FakePool(['h1', 'h2']), secrets: NO_SECRETS, options: OPTIONS });
  t.equal(await engine.run(p.id), 'failed', 'the experiment failed');
  t.match(store.getExperiment(p.id)?.error ?? '', /SQLITE_READONLY/, 'naming the store\'s error');
});
