import t from 'tap';
import { SeconetError } from '@seconet/core';
import { connectAgent } from '../src/client/client.js';
import { startAgent } from '../src/server/server.js';
import { FakeReconciler, agentConfig, makePki, tmpDir } from './server-helpers.js';

t.test('client: status codes, retries of UNAVAILABLE only, deadlines, cancellation', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const rec = new FakeReconciler();
  const script: Array<() => never> = [];
  let applyCalls = 0;
  rec.apply = async (req) => {
    applyCalls++;
    const next = script.shift();
    if (next) next();
    if (req.scope === 'slow') await new Promise((r) => setTimeout(r, 3000));
    return { changed: true, timings: [], containers: [], mtu: 1500 };
  };
  const agent = await startAgent(agentConfig(pki, dir, 'h1', 'snc1'), { createReconciler: () => rec, skipBpffs: true });
  t.teardown(() => agent.stop());
  const tls = { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key };
  const c = connectAgent({ name: 'h1', address: agent.address, tls }, { attempts: 4, backoffMs: 50 });
  t.teardown(() => c.close());
  const req = { requestId: 'r1', scope: 'cell', state: { network: 'bridge' } };

  await t.test('UNAVAILABLE is retried and then succeeds', async (t) => {
    applyCalls = 0;
    script.push(() => { throw new SeconetError('UNAVAILABLE', 'busy starting'); }, () => { throw new SeconetError('UNAVAILABLE', 'busy starting'); });
    t.match(await c.apply(req), { changed: true });
    t.equal(applyCalls, 3);
  });

  await t.test('UNAVAILABLE gives up after the attempts', async (t) => {
    applyCalls = 0;
    for (let i = 0; i < 4; i++) script.push(() => { throw new SeconetError('UNAVAILABLE', 'stopping'); });
    await t.rejects(c.apply(req), { code: 'UNAVAILABLE', message: 'stopping' });
    t.equal(applyCalls, 4);
  });

  const mapped: Array<[SeconetError, string, string | undefined]> = [
    [new SeconetError('CONFLICT', 'scope cell is being applied by request r0'), 'CONFLICT', undefined],
    [new SeconetError('MISSING_TOOL', 'state.tunnel.kind: wireguard needs wireguard-go', { field: 'state.tunnel.kind' }), 'MISSING_TOOL', 'state.tunnel.kind'],
    [new SeconetError('UNSUPPORTED', 'no such thing'), 'MISSING_TOOL', undefined],
    [new SeconetError('NOT_FOUND', 'no scope cell'), 'NOT_FOUND', undefined],
    [new SeconetError('COMMAND_FAILED', 'ip link add failed, see agent log'), 'INTERNAL', undefined],
  ];
  for (const [err, code, field] of mapped) {
    await t.test(`${err.code} arrives as ${code}, not retried`, async (t) => {
      applyCalls = 0;
      script.push(() => { throw err; });
      const e = await c.apply(req).catch((x: unknown) => x);
      t.match(e, { name: 'SeconetError', code, message: err.message, field, details: { agent: 'h1', agentCode: err.code } });
      t.equal(applyCalls, 1);
    });
  }

  await t.test('a deadline is TIMEOUT', async (t) => {
    await t.rejects(c.apply({ ...req, scope: 'slow' }, { deadlineMs: 300 }), { code: 'TIMEOUT' });
  });

  await t.test('aborting a unary call is CANCELLED', async (t) => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const t0 = Date.now();
    await t.rejects(c.apply({ ...req, scope: 'slow' }, { signal: ac.signal }), { code: 'CANCELLED' });
    t.ok(Date.now() - t0 < 2000, 'returned at the abort, not when the agent finished');
  });

  await t.test('nothing listening: UNAVAILABLE after a few attempts; waitReady rejects', async (t) => {
    const dead = connectAgent({ name: 'h9', address: '127.0.0.1:1', tls, serverName: 'h1' }, { attempts: 3, backoffMs: 50 });
    t.teardown(() => dead.close());
    await t.rejects(dead.getInfo({ deadlineMs: 5000 }), { code: 'UNAVAILABLE', details: { agent: 'h9' } });
    await t.rejects(dead.waitReady(300), { code: 'UNAVAILABLE' });
  });
});
