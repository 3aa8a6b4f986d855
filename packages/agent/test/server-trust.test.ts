import t from 'tap';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAgent } from '../src/client/client.js';
import { startAgent } from '../src/server/server.js';
import { issueCert } from '../src/tls/certs.js';
import { applyRequest } from './helpers/requests.js';
import { FakeReconciler, agentConfig, makePki, tmpDir } from './server-helpers.js';

// The agent obeys only the controller identities its config names, checked on every call from
// the TLS peer certificate; a revoked serial is refused without re-keying anything.
t.test('an agent obeys only its controller', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const issued = join(pki.dir, 'issued');
  // Certificates from the agents' own CA, so mTLS alone would let them in.
  const intruder = await issueCert(pki.ca, { name: 'intruder', kind: 'client' }, issued);
  const next = await issueCert(pki.ca, { name: 'controller-2', kind: 'client' }, issued);
  const sanOnly = await issueCert(pki.ca, { name: 'ops-1', kind: 'client', sans: ['controller-3.example.org'] }, issued);
  const denyList = join(dir, 'revoked.txt');
  writeFileSync(denyList, '# revoked controller certificates\n');
  const rec = new FakeReconciler();
  const agent = await startAgent(
    agentConfig(pki, dir, 'h1', 'snt3', { controllers: ['controller', 'controller-2', 'controller-3.example.org'], tls: { ca: pki.ca.cert, cert: pki.agents['h1']!.cert, key: pki.agents['h1']!.key, denyList } }),
    { createReconciler: () => rec, skipBpffs: true },
  );
  t.teardown(() => agent.stop());
  const client = (c: { cert: string; key: string }) => {
    const cl = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: c.cert, key: c.key } }, { attempts: 1 });
    t.teardown(() => cl.close());
    return cl;
  };

  await t.test('a certificate of the same CA with another name is refused, on reads and writes', async (t) => {
    const c = client(intruder);
    await t.rejects(c.getInfo({ deadlineMs: 10_000 }), { name: 'SeconetError', code: 'FORBIDDEN', message: /client certificate "intruder" .* is not a controller this agent obeys; accepted: controller, controller-2, controller-3\.example\.org/, details: { grpcStatus: 'PERMISSION_DENIED' } });
    await t.rejects(c.apply(applyRequest('cell-1'), { deadlineMs: 10_000 }), { code: 'FORBIDDEN' });
    t.equal(rec.applied.size, 0, 'nothing was applied');
  });

  await t.test('listed names are accepted by CN or by DNS SAN', async (t) => {
    t.equal((await client(pki.controller).getInfo({ deadlineMs: 10_000 })).name, 'h1');
    t.equal((await client(next).getInfo({ deadlineMs: 10_000 })).name, 'h1');
    t.equal((await client(sanOnly).getInfo({ deadlineMs: 10_000 })).name, 'h1');
  });

  await t.test('a serial added to the deny list is refused at once, on a connection already open', async (t) => {
    const old = client(pki.controller);
    await old.apply(applyRequest('cell-1'), { deadlineMs: 10_000 });
    appendFileSync(denyList, `0x${pki.controller.serial.toLowerCase()}\n`);
    await t.rejects(old.getInfo({ deadlineMs: 10_000 }), { code: 'FORBIDDEN', message: new RegExp(`serial ${pki.controller.serial} is revoked`) });
    await t.rejects(old.teardown({ requestId: 'r1', scope: 'cell-1' }, { deadlineMs: 10_000 }), { code: 'FORBIDDEN' });
    t.ok(rec.applied.has('cell-1'), 'the revoked certificate could not tear down');
    t.equal((await client(next).getInfo({ deadlineMs: 10_000 })).name, 'h1', 'the rotated certificate still works');
  });

  await t.test('a malformed deny list fails closed', async (t) => {
    writeFileSync(denyList, 'not-a-serial\n');
    await t.rejects(client(next).getInfo({ deadlineMs: 10_000 }), { code: 'INVALID_ARGUMENT', message: /line 1/ });
    writeFileSync(denyList, '');
  });
});

t.test('inline revoked serials and the default controller name', async (t) => {
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const other = await issueCert(pki.ca, { name: 'controller', kind: 'client' }, join(pki.dir, 'other'));
  const agent = await startAgent(
    agentConfig(pki, dir, 'h1', 'snt4', { tls: { ca: pki.ca.cert, cert: pki.agents['h1']!.cert, key: pki.agents['h1']!.key, revokedSerials: [pki.controller.serial] } }),
    { createReconciler: () => new FakeReconciler(), skipBpffs: true },
  );
  t.teardown(() => agent.stop());
  const revoked = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } }, { attempts: 1 });
  t.teardown(() => revoked.close());
  await t.rejects(revoked.getInfo({ deadlineMs: 10_000 }), { code: 'FORBIDDEN', message: /is revoked/ });
  const fresh = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: other.cert, key: other.key } }, { attempts: 1 });
  t.teardown(() => fresh.close());
  t.equal((await fresh.getInfo({ deadlineMs: 10_000 })).name, 'h1', 'a new certificate named "controller" is obeyed by default');
});
