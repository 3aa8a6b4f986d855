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

t.test('an existing CA key is never overwritten and no output follows a symlink', async (t) => {
  const { readFileSync, symlinkSync, writeFileSync, existsSync } = await import('node:fs');
  const dir = tmp(t);
  const ca = await createCa(join(dir, 'ca'));
  const before = readFileSync(ca.key, 'utf8');
  await t.rejects(createCa(join(dir, 'ca')), { code: 'CONFLICT', field: 'out', message: /ca\.key already exists; refusing to overwrite a CA key/ });
  t.equal(readFileSync(ca.key, 'utf8'), before, 'the CA key is untouched');

  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'precious\n');
  const out = join(dir, 'out');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(out);
  symlinkSync(victim, join(out, 'h1.key'));
  await t.rejects(issueCert(ca, { name: 'h1', kind: 'server' }, out), { code: 'INVALID_ARGUMENT', field: 'out', message: /symbolic link; refusing to write through it/ });
  symlinkSync(victim, join(out, 'h2.crt'));
  await t.rejects(issueCert(ca, { name: 'h2', kind: 'server' }, out), { code: 'INVALID_ARGUMENT', message: /h2\.crt is a symbolic link/ });
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');

  const ca2 = join(dir, 'ca2');
  mkdirSync(ca2);
  symlinkSync(victim, join(ca2, 'ca.key'));
  await t.rejects(createCa(ca2), { code: 'CONFLICT' });
  t.equal(readFileSync(victim, 'utf8'), 'precious\n');
  t.notOk(existsSync(join(ca2, 'ca.crt')), 'nothing was written');
});

t.test('an issued certificate reports the serial a deny list takes', async (t) => {
  const dir = tmp(t);
  const ca = await createCa(join(dir, 'ca'));
  const c = await issueCert(ca, { name: 'controller-2', kind: 'client' }, join(dir, 'c'));
  const s = (await runner.run(['openssl', 'x509', '-in', c.cert, '-noout', '-serial'])).stdout.trim().replace(/^serial=/, '').replace(/^0+/, '');
  t.equal(c.serial, s);
  const { certificateSerial, revokeSerial } = await import('../src/tls/deny-list.js');
  const { readDenyList } = await import('../src/config.js');
  t.equal(certificateSerial(c.cert), c.serial);
  const list = join(dir, 'revoked.txt');
  t.same(revokeSerial(list, c.cert), { serial: c.serial, added: true }, 'by certificate file');
  t.same(revokeSerial(list, `0x${c.serial.toLowerCase()}`), { serial: c.serial, added: false }, 'listed once');
  t.same(revokeSerial(list, 'ab:01'), { serial: 'AB01', added: true }, 'by serial');
  t.same(readDenyList(list), [c.serial, 'AB01']);
  t.throws(() => revokeSerial(list, 'not-a-serial'), { code: 'INVALID_ARGUMENT', field: 'serial' });
  const { symlinkSync, writeFileSync, readFileSync } = await import('node:fs');
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'x\n');
  symlinkSync(victim, join(dir, 'link.txt'));
  t.throws(() => revokeSerial(join(dir, 'link.txt'), 'AB02'), { code: 'INVALID_ARGUMENT', field: 'denyList' });
  t.equal(readFileSync(victim, 'utf8'), 'x\n');
});
