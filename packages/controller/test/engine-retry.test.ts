// No retry of what cannot change: a run whose agent answers with a deterministic error
// (INVALID_ARGUMENT, UNSUPPORTED, MISSING_TOOL) fails after its first attempt with that reason;
// transient errors (UNAVAILABLE, TIMEOUT, CONFLICT) and unexplained tool failures are retried
// within the budget.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../src/engine/engine.js';
import { deterministicCode, isDeterministic } from '../src/engine/retry-policy.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore, type Store } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { latency, plan, throughput } from './fixtures.js';

function setup(t: { teardown(fn: () => void): void }): { store: Store; pool: FakePool } {
  const dir = mkdtempSync(join(tmpdir(), 'sn-retry-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, pool: new FakePool(['h1', 'h2']) };
}

const fast = { metricsIntervalMs: 20, retryDelayMs: 10, cancelPollMs: 20, runMarginMs: 2000 };

t.test('the policy follows the registry\'s gRPC status of each code', async (t) => {
  for (const c of ['INVALID_ARGUMENT', 'INVALID_SPEC', 'UNSUPPORTED', 'MISSING_TOOL', 'NOT_FOUND', 'UNAUTHORIZED']) t.ok(isDeterministic(c), `${c} is not retried`);
  for (const c of ['UNAVAILABLE', 'TIMEOUT', 'CONFLICT', 'COMMAND_FAILED', 'INTERNAL', 'SOMETHING_NEW', undefined]) t.notOk(isDeterministic(c), `${String(c)} may be retried`);
  t.equal(deterministicCode(['TIMEOUT', 'INVALID_ARGUMENT']), 'INVALID_ARGUMENT', 'one deterministic pair error decides');
  t.equal(deterministicCode(['TIMEOUT', 'UNAVAILABLE']), undefined);
});

for (const [code, retried] of [['INVALID_ARGUMENT', false], ['MISSING_TOOL', false], ['UNSUPPORTED', false], ['UNAVAILABLE', true], ['TIMEOUT', true], ['CONFLICT', true]] as const) {
  t.test(`an agent error ${code} is ${retried ? 'retried' : 'not retried'}`, async (t) => {
    const { store, pool } = setup(t);
    const p = plan(`e-${code.toLowerCase().replace(/_/g, "-")}`, { workloads: [throughput, latency] });
    store.createExperiment(p, {});
    const victim = p.runs[0]!.id;
    pool.get('h1').behaviour.runErrors = new Map([[victim, code]]);
    const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { ...fast, retries: 2 } });
    t.equal(await engine.run(p.id), 'succeeded', 'the sweep goes on');
    const r = store.getRun(victim)!;
    t.equal(r.state, 'failed');
    t.equal(r.attempts, retried ? 3 : 1, retried ? 'every attempt of the budget used' : 'failed at the first attempt');
    t.equal(pool.get('h1').runsStarted().filter((id) => id === victim).length, retried ? 3 : 1, 'source calls the agent saw');
    t.match(r.error, new RegExp(`${code} scripted ${code} on h1`), 'the reason is the agent\'s');
    if (!retried) t.match(r.error, /not retried/);
    t.equal(store.getRun(p.runs[1]!.id)?.state, 'succeeded', 'the next run is measured');
  });
}
