import t from 'tap';
import { runWorkloadOnPairs, RunAborted, startupAllowanceMs, STARTUP_MS_PER_PAIR } from '../src/workload-control/run-workload.js';
import { placeCell } from '../src/scheduler/placement.js';
import { FakeAgent } from './fake-agent.js';
import { cell, latency } from './fixtures.js';

function agents(b: ConstructorParameters<typeof FakeAgent>[2] = {}): Map<string, FakeAgent> {
  return new Map([['h1', new FakeAgent('h1', '198.18.0.1', b)], ['h2', new FakeAgent('h2', '198.18.0.2', b)]]);
}

const pairs = placeCell(cell(0, { containers: 4 })).pairs;

t.test('sinks first, then sources, one outcome per pair, sinks cancelled at the end', async (t) => {
  const a = agents();
  const r = await runWorkloadOnPairs({ agents: a, scope: 's', runId: 'r1', workload: latency, pairs });
  t.same([...r.outcomes.keys()].sort(), ['p0', 'p1']);
  t.ok([...r.outcomes.values()].every((o) => o.result));
  const h1 = a.get('h1')!.calls.filter((c) => c.method === 'runWorkload');
  const h2 = a.get('h2')!.calls.filter((c) => c.method === 'runWorkload');
  t.same(h2.map((c) => c.role), ['ROLE_SINK'], 'sinks live on h2');
  t.same(h1.map((c) => c.role), ['ROLE_SOURCE'], 'sources on h1, started after the sinks');
  t.same(h1[0]!.pairs, ['p0', 'p1'], 'every pair at once');
  t.equal(a.get('h2')!.cancelled, 1, 'the sink stream was cancelled');
  // The sink starts first and may wait for the other sinks: its limit is the run's whole
  // deadline, so it never stops its servers under clients that are still within theirs.
  t.equal(h2[0]!.timeoutMs, h1[0]!.timeoutMs! + 15_000, 'sink limit = source limit + the sink-ready wait');
});

t.test('a run past its deadline is cut: pairs time out and every stream is cancelled', async (t) => {
  const a = agents({ hang: true });
  const t0 = Date.now();
  const r = await runWorkloadOnPairs({ agents: a, scope: 's', runId: 'r2', workload: { ...latency, durationMs: 200 }, pairs, marginMs: 100, readyTimeoutMs: 1000 });
  t.ok(Date.now() - t0 < 5000, 'cut near the deadline');
  t.ok([...r.outcomes.values()].every((o) => o.error?.code === 'TIMEOUT'), 'every pair timed out');
  t.match(r.outcomes.get('p0')?.error?.message, /deadline/);
  t.equal(a.get('h1')!.cancelled, 1, 'source call cancelled');
  t.equal(a.get('h2')!.cancelled, 1, 'sink call cancelled');
});

t.test('cancel from outside aborts every agent call and rejects with RunAborted', async (t) => {
  const a = agents({ hang: true });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  await t.rejects(runWorkloadOnPairs({ agents: a, scope: 's', runId: 'r3', workload: { ...latency, durationMs: 60_000 }, pairs, signal: ac.signal }), RunAborted);
  t.equal(a.get('h1')!.cancelled + a.get('h2')!.cancelled, 2, 'cancellation reached both agents');
});

t.test('an agent that fails a call fails only its pairs, with its name', async (t) => {
  const a = agents();
  a.get('h1')!.behaviour.failRuns = new Set(['r4']);
  const r = await runWorkloadOnPairs({ agents: a, scope: 's', runId: 'r4', workload: latency, pairs });
  t.match(r.outcomes.get('p0')?.error, { code: 'UNAVAILABLE', host: 'h1', message: /agent h1 \(source\)/ });
});

t.test('hundreds of pairs on a host: the sink-ready wait and the run margin grow with them', async (t) => {
  t.equal(startupAllowanceMs(pairs), 0, 'a few pairs: the plain waits');
  t.equal(startupAllowanceMs(placeCell(cell(0, { containers: 80 })).pairs), 24 * STARTUP_MS_PER_PAIR, '40 sinks on h2: 24 beyond the free allowance');
  t.equal(startupAllowanceMs(placeCell({ containers: 1000, placement: 'multi-host', hosts: ['h1', 'h2'] }).pairs), (500 - 16) * STARTUP_MS_PER_PAIR, '500 pairs: about 97 s more');
});

t.test('a run across many hosts opens its sink and source streams with event-loop turns between them', async (t) => {
  // Each RunWorkload call's set-up costs 3 ms of synchronous work here; 32 hosts' sinks or
  // sources are ~96 ms, more than the pacer's slice, so turns of the event loop come between.
  const hosts = Array.from({ length: 32 }, (_, i) => `h${i + 1}`);
  const order: string[] = [];
  class Slow extends FakeAgent {
    override runWorkload(...args: Parameters<FakeAgent['runWorkload']>): ReturnType<FakeAgent['runWorkload']> {
      const until = performance.now() + 3;
      while (performance.now() < until);
      order.push(args[0].role);
      return super.runWorkload(...args);
    }
  }
  const a = new Map(hosts.map((h, i) => [h, new Slow(h, `198.18.0.${i + 1}`)]));
  const many = placeCell(cell(0, { containers: 64, hosts })).pairs;
  const tick = setInterval(() => order.push('turn'), 0);
  const r = await runWorkloadOnPairs({ agents: a, scope: 's', runId: 'r-paced', workload: latency, pairs: many });
  clearInterval(tick);
  t.equal(r.outcomes.size, many.length, 'one outcome per pair');
  t.ok([...r.outcomes.values()].every((o) => o.result), 'every pair has its result');
  for (const role of ['ROLE_SINK', 'ROLE_SOURCE']) {
    const first = order.indexOf(role);
    const last = order.lastIndexOf(role);
    const between = order.slice(first, last).filter((x) => x === 'turn').length;
    t.ok(order.filter((x) => x === role).length >= 16 && between > 0, `${role}: ${order.filter((x) => x === role).length} streams, the event loop turned ${between} times while they opened`);
  }
});
