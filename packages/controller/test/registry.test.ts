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
