import t from 'tap';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connectAgent } from '../src/client/client.js';
import { startAgent } from '../src/server/server.js';
import { loadAgentProto } from '../src/server/proto.js';
import { FakeReconciler, agentConfig, makePki, tmpDir } from './server-helpers.js';

t.test('mutual TLS: only client certificates from the agent CA get answers', async (t) => {
  const pki = await makePki(t);
  const dir = tmpDir(t);
  const rec = new FakeReconciler();
  const agent = await startAgent(agentConfig(pki, dir, 'h1', 'snt1'), { createReconciler: () => rec, skipBpffs: true });
  t.teardown(() => agent.stop());
  t.match(agent.address, /^127\.0\.0\.1:\d+$/);
  t.same(rec.gcCalls.map((g) => [g.requestId, g.keepScopes]), [['startup', []]], 'startup GC ran, keeping applied scopes');

  await t.test('the controller certificate gets GetInfo', async (t) => {
    const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
    t.teardown(() => c.close());
    const info = await c.getInfo({ deadlineMs: 60_000 });
    t.equal(info.name, 'h1');
    t.equal(info.namePrefix, 'snt1');
    t.equal(info.underlayAddress, '198.18.0.1');
    t.ok(info.kernel.length > 0);
    t.ok(info.cpu && info.cpu.cores > 0, 'cpu cores');
    t.ok(info.memoryBytes > 0, 'memory');
    t.match(info.capabilities, [{ category: 'network', kind: 'bridge', variant: 'VARIANT_KERNEL', available: true }]);
    const ipip = info.capabilities.find((c) => c.kind === 'ipip');
    t.equal(ipip?.available, false);
    t.equal(ipip?.reason, 'kernel lacks ipip');
    const ip = info.tools.find((x) => x.tool === 'ip');
    t.match(ip, { path: /^\/.+\/ip$/, version: /^\d+\.\d+/ });
    t.match(info.tools.find((x) => x.tool === 'iperf3'), { version: /^3\./ });
    t.ok(info.startedAt > 0 && info.startedAt <= Date.now() / 1000);

    await c.getInfo();
    t.equal(rec.probes, 1, 'capabilities are probed once and cached');
    await agent.refreshInfo();
    await c.getInfo();
    t.equal(rec.probes, 2, 'refreshInfo probes again');
  });

  await t.test('a client certificate from another CA is refused', async (t) => {
    const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.rogue.cert, key: pki.rogue.key } }, { attempts: 1 });
    t.teardown(() => c.close());
    await t.rejects(c.getInfo({ deadlineMs: 5000 }), { name: 'SeconetError', code: 'UNAVAILABLE' });
  });

  await t.test('an agent\'s server certificate does not work as a client certificate', async (t) => {
    const h2 = pki.agents['h2']!;
    const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: h2.cert, key: h2.key } }, { attempts: 1 });
    t.teardown(() => c.close());
    await t.rejects(c.getInfo({ deadlineMs: 5000 }), { name: 'SeconetError', code: 'UNAVAILABLE' });
  });

  await t.test('a client without a certificate is refused', async (t) => {
    const Ctor = loadAgentProto().seconet.agent.v1.AgentService;
    const raw = new Ctor(agent.address, grpc.credentials.createSsl(readFileSync(pki.ca.cert)), { 'grpc.ssl_target_name_override': 'h1' });
    t.teardown(() => raw.close());
    const err = await new Promise<grpc.ServiceError | null>((resolve) => raw.getInfo({}, { deadline: Date.now() + 5000 }, (e) => resolve(e)));
    t.ok(err, 'call failed');
    t.equal(err?.code, grpc.status.UNAVAILABLE);
  });

  await t.test('a plaintext client is refused', async (t) => {
    const Ctor = loadAgentProto().seconet.agent.v1.AgentService;
    const raw = new Ctor(agent.address, grpc.credentials.createInsecure());
    t.teardown(() => raw.close());
    const err = await new Promise<grpc.ServiceError | null>((resolve) => raw.getInfo({}, { deadline: Date.now() + 5000 }, (e) => resolve(e)));
    t.ok(err, 'call failed');
    t.not(err?.code, grpc.status.OK);
  });

  await t.test('the client refuses an agent whose certificate is not from its CA', async (t) => {
    const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: `${pki.dir}/rogue/ca.crt`, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
    t.teardown(() => c.close());
    await t.rejects(c.getInfo({ deadlineMs: 5000 }), { code: 'UNAVAILABLE' });
  });

  await t.test('the client refuses an agent presenting another agent\'s name', async (t) => {
    const c = connectAgent({ name: 'h2', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
    t.teardown(() => c.close());
    await t.rejects(c.getInfo({ deadlineMs: 5000 }), { code: 'UNAVAILABLE' });
  });
});
