import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../src/runner/runner.js';
import { createCa, createLabPki, issueCert } from '../src/tls/certs.js';

const runner = new ExecRunner();

function tmp(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'sn-tls-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test('lab PKI: CA, server certs with SANs, a client cert; keys 0600, EC P-256, chains verify', async (t) => {
  const dir = tmp(t);
  const pki = await createLabPki(dir, ['h1', 'h2']);
  t.same(Object.keys(pki.agents).sort(), ['h1', 'h2']);
  for (const key of [pki.ca.key, pki.agents['h1']!.key, pki.agents['h2']!.key, pki.controller.key]) {
    t.equal(statSync(key).mode & 0o777, 0o600, `${key} is 0600`);
    const k = await runner.run(['openssl', 'pkey', '-in', key, '-noout', '-text']);
    t.match(k.stdout, /prime256v1|P-256/, `${key} is P-256`);
  }
  const h1 = pki.agents['h1']!;
  const text = (await runner.run(['openssl', 'x509', '-in', h1.cert, '-noout', '-text'])).stdout;
  t.match(text, /DNS:h1/);
  t.match(text, /IP Address:127\.0\.0\.1/);
  t.match(text, /DNS:localhost/);
  t.match(text, /TLS Web Server Authentication/);
  const ctext = (await runner.run(['openssl', 'x509', '-in', pki.controller.cert, '-noout', '-text'])).stdout;
  t.match(ctext, /TLS Web Client Authentication/);
  t.notMatch(ctext, /TLS Web Server Authentication/);

  const ok = await runner.run(['openssl', 'verify', '-CAfile', pki.ca.cert, '-purpose', 'sslserver', h1.cert]);
  t.match(ok.stdout, /OK/);
  const okc = await runner.run(['openssl', 'verify', '-CAfile', pki.ca.cert, '-purpose', 'sslclient', pki.controller.cert]);
  t.match(okc.stdout, /OK/);
  // The client certificate must not pass as a server certificate.
  await t.rejects(runner.run(['openssl', 'verify', '-CAfile', pki.ca.cert, '-purpose', 'sslserver', pki.controller.cert]));
});

t.test('a certificate from another CA does not verify against ours', async (t) => {
  const dir = tmp(t);
  const ours = await createCa(join(dir, 'ours'));
  const theirs = await createCa(join(dir, 'theirs'));
  const c = await issueCert(theirs, { name: 'controller', kind: 'client' }, join(dir, 'theirs'));
  await t.rejects(runner.run(['openssl', 'verify', '-CAfile', ours.cert, c.cert]));
});

t.test('bad names and SANs are INVALID_ARGUMENT naming the field, before anything is written', async (t) => {
  const dir = tmp(t);
  const ca = await createCa(join(dir, 'ca'));
  await t.rejects(issueCert(ca, { name: 'Bad Name', kind: 'server' }, join(dir, 'x')), { code: 'INVALID_ARGUMENT', field: 'name' });
  await t.rejects(issueCert(ca, { name: 'h1', kind: 'server', sans: ['ok.example', 'no spaces allowed'] }, join(dir, 'x')), { code: 'INVALID_ARGUMENT', field: 'sans[1]' });
  await t.rejects(issueCert(ca, { name: 'h1', kind: 'peer' as 'server' }, join(dir, 'x')), { code: 'INVALID_ARGUMENT', field: 'kind' });
  await t.rejects(createLabPki(join(dir, 'lab'), ['h1', 'controller']), { code: 'INVALID_ARGUMENT', field: 'agents[1]' });
});
