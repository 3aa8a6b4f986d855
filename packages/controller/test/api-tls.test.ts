import t from 'tap';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCa, issueCert } from '@seconet/agent';
import { buildApi } from '../src/api/build-api.js';
import { plaintextApiWarning, readApiTls } from '../src/api/listen.js';
import { parseControllerConfig } from '../src/config.js';
import { FakeService, TOKEN } from './api-fake-service.js';

function get(url: string, ca?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { ...(ca ? { ca } : {}), headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

t.test('the REST API over TLS with a certificate from seconet certs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-api-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ca = await createCa(join(dir, 'ca'));
  const cert = await issueCert(ca, { name: 'api', kind: 'server', sans: ['127.0.0.1', 'localhost'] }, join(dir, 'api'));
  const app = await buildApi({ service: new FakeService(), tokens: [TOKEN], rateLimit: false, https: readApiTls({ cert: cert.cert, key: cert.key }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const r = await get(`https://127.0.0.1:${port}/v1/experiments`, readFileSync(ca.cert));
  t.equal(r.status, 200, 'HTTPS answers with the CA trusted');
  await t.rejects(get(`https://127.0.0.1:${port}/healthz`), /self-signed|unable to verify|certificate/i, 'a client that does not trust the CA refuses it');
  await t.rejects(get(`http://127.0.0.1:${port}/healthz`), 'plain HTTP gets no answer');
  t.throws(() => readApiTls({ cert: join(dir, 'missing.crt'), key: cert.key }), { code: 'INVALID_ARGUMENT', field: 'api.tls.cert' });
});

t.test('api.tls in the config; a warning for plain HTTP off loopback', async (t) => {
  const c = parseControllerConfig({ api: { listen: '0.0.0.0:8443', tokenFile: 'tok', tls: { cert: 'api/api.crt', key: 'api/api.key' } } }, '/etc/seconet');
  t.same(c.api.tls, { cert: '/etc/seconet/api/api.crt', key: '/etc/seconet/api/api.key' });
  t.equal(parseControllerConfig({}, '/x').api.tls, undefined);
  t.throws(() => parseControllerConfig({ api: { tls: { cert: 'a', key: 'b', ca: 'c' } } }), { code: 'INVALID_ARGUMENT', field: 'api.tls.ca' });
  t.throws(() => parseControllerConfig({ api: { tls: { cert: 'a' } } }), { code: 'INVALID_ARGUMENT', field: 'api.tls.key' });
  t.match(plaintextApiWarning('0.0.0.0', false), /listens on 0\.0\.0\.0 without TLS: bearer tokens .* set api\.tls/);
  t.match(plaintextApiWarning('192.0.2.10', false), /without TLS/);
  t.match(plaintextApiWarning('[::]', false), /without TLS/);
  t.equal(plaintextApiWarning('0.0.0.0', true), undefined);
  for (const h of ['127.0.0.1', '127.0.0.53', 'localhost', '::1', '[::1]']) t.equal(plaintextApiWarning(h, false), undefined, `${h} is loopback`);
});
