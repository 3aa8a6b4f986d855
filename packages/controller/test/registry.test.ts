import t from 'tap';
import { AgentRegistry } from '../src/agents/registry.js';
import { FakeAgent } from './fake-agent.js';

const cfg = (name: string) => ({ name, address: '127.0.0.1:1', tls: { ca: 'a', cert: 'b', key: 'c' } });

t.test('health, capability cache, and GC keeping the scopes in use after a reconnect', async (t) => {
  const a = new FakeAgent('h1', '198.18.0.1');
  const reg = new AgentRegistry([cfg('h1')], () => a, { deadlineMs: 100 });
  t.teardown(() => reg.close());
  reg.keepScopes(() => ['keep-me']);
  a.scopes.add('keep-me');
  a.scopes.add('abandoned');
  await reg.refresh('h1');
  t.equal(reg.status()[0]?.healthy, true);
  t.ok(reg.info('h1')?.capabilities.some((c) => c.kind === 'bridge'), 'capabilities cached');
  t.equal(a.calls.filter((c) => c.method === 'gc').length, 0, 'no GC on the first contact');
  a.behaviour.down = true;
  await t.rejects(reg.refresh('h1'), { code: 'UNAVAILABLE' });
  t.match(reg.status()[0], { healthy: false, error: /unavailable/ });
  a.behaviour.down = false;
  await reg.refresh('h1');
  t.equal(a.calls.filter((c) => c.method === 'gc').length, 1, 'GC after it came back');
  t.same([...a.scopes], ['keep-me'], 'the scope in use survived, the abandoned one is gone');
  a.startedAt = 2;
  a.scopes.add('abandoned-2');
  await reg.refresh('h1');
  t.equal(a.calls.filter((c) => c.method === 'gc').length, 2, 'GC after a restart noticed by its start time');
  t.same([...a.scopes], ['keep-me']);
  t.throws(() => reg.get('nope'), { code: 'NOT_FOUND', field: 'hosts' });
  t.throws(() => new AgentRegistry([cfg('x'), cfg('x')], () => a), { code: 'INVALID_ARGUMENT', field: 'agents' }, 'duplicate names');
});

t.test('health checks of a fleet are spread over the interval, each agent once per interval', async (t) => {
  const n = 100;
  const agents = Array.from({ length: n }, (_, i) => new FakeAgent(`h${i}`, `198.18.1.${i + 1}`));
  const times: number[][] = agents.map(() => []);
  agents.forEach((a, i) => {
    const getInfo = a.getInfo.bind(a);
    a.getInfo = (...args: Parameters<typeof getInfo>) => {
      times[i]!.push(performance.now());
      return getInfo(...args);
    };
  });
  const interval = 1000;
  const reg = new AgentRegistry(agents.map((_, i) => cfg(`h${i}`)), (c) => agents[Number(c.name.slice(1))]!, { healthIntervalMs: interval });
  t.teardown(() => reg.close());
  const t0 = performance.now();
  reg.start();
  await new Promise((r) => setTimeout(r, 2.5 * interval));
  t.ok(reg.status().every((a) => a.healthy), 'every agent healthy');
  // After the first check of all at once, the checks of one interval fall in many distinct slots.
  // (Timers run late on a loaded machine: the assertions count slots, not exact times.)
  const later = times.flatMap((ts) => ts.slice(1));
  const buckets = new Set(later.map((x) => Math.floor(((x - t0) % interval) / (interval / 10))));
  t.ok(buckets.size >= 8, `the later checks fall in ${buckets.size} of the interval's 10 tenths, not one burst`);
  const counts = times.map((ts) => ts.length);
  t.ok(counts.every((c) => c >= 2 && c <= 4), `each agent checked 2-4 times in 2.5 intervals (${Math.min(...counts)}-${Math.max(...counts)})`);
});

t.test('status() hands out the same view of an agent until the agent changes', async (t) => {
  const a = new FakeAgent('h1', '198.18.0.1');
  const b = new FakeAgent('h2', '198.18.0.2');
  const reg = new AgentRegistry([cfg('h1'), cfg('h2')], (c) => (c.name === 'h1' ? a : b), { deadlineMs: 100 });
  t.teardown(() => reg.close());
  await reg.refresh('h1');
  await reg.refresh('h2');
  const [a1, b1] = reg.status();
  const [a2, b2] = reg.status();
  t.equal(a2, a1, 'unchanged: the same object (GET /v1/agents reuses its JSON)');
  t.equal(b2, b1);
  await reg.refresh('h1');
  const [a3, b3] = reg.status();
  t.not(a3, a1, 'a health check made a new view of h1');
  t.not(a3!.lastSeen, undefined);
  t.equal(b3, b1, 'h2 did not change');
  a.behaviour.down = true;
  await t.rejects(reg.refresh('h1'));
  const [a4] = reg.status();
  t.match(a4, { healthy: false, error: /unavailable/ }, 'a failed check shows at once');
});

t.test('an agent the controller hears from anyway is not asked GetInfo every interval; a failed call or old info brings the check back', async (t) => {
  const agents = ['h0', 'h1', 'h2'].map((n, i) => new FakeAgent(n, `198.18.2.${i + 1}`));
  const contact = agents.map(() => ({ heardAt: undefined as number | undefined, failedAt: undefined as number | undefined }));
  const links = agents.map((a, i) => Object.defineProperties(Object.create(a) as FakeAgent, {
    lastHeardAt: { get: () => contact[i]!.heardAt },
    lastFailedAt: { get: () => contact[i]!.failedAt },
  }));
  const infos = (i: number): number => agents[i]!.calls.filter((c) => c.method === 'getInfo').length;
  const interval = 200;
  const reg = new AgentRegistry(agents.map((a) => cfg(a.name)), (c) => links[Number(c.name.slice(1))]!, { healthIntervalMs: interval, infoMaxAgeMs: 2500 });
  t.teardown(() => reg.close());
  // Every agent streams (heard from every 50 ms); h1's stream fails once, later.
  const hear = setInterval(() => {
    for (const c of contact) c.heardAt = performance.now();
  }, 50);
  t.teardown(() => clearInterval(hear));
  reg.start();
  await new Promise((r) => setTimeout(r, 300));
  const first = [0, 1, 2].map(infos);
  t.ok(first.every((n) => n >= 1), `each agent asked at start (${first.join(', ')})`);
  await new Promise((r) => setTimeout(r, 5 * interval));
  t.same([0, 1, 2].map(infos), first, 'no GetInfo while every agent is heard from');
  t.ok(reg.status().every((a) => a.healthy), 'still healthy');
  const seen = Date.parse(reg.status()[0]!.lastSeen!);
  t.ok(Date.now() - seen < 2 * interval, 'last seen moves with what is heard');
  contact[1]!.failedAt = performance.now();
  await new Promise((r) => setTimeout(r, 2 * interval));
  t.equal(infos(1), first[1]! + 1, 'a failed call since the last GetInfo: asked again (once, then heard from again)');
  t.equal(infos(0), first[0]!, 'the others still not');
  // Info older than infoMaxAgeMs (2.5 s here) is read again even while heard from.
  await new Promise((r) => setTimeout(r, 1500));
  t.ok(infos(0) > first[0]! && infos(2) > first[2]!, `old info is read again (${[0, 1, 2].map(infos).join(', ')})`);
  // An agent that goes quiet is checked every interval again.
  clearInterval(hear);
  const quiet = infos(0);
  await new Promise((r) => setTimeout(r, 3 * interval));
  t.ok(infos(0) >= quiet + 2, `not heard from: checked each interval (${infos(0) - quiet} checks in 3 intervals)`);
});
