import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerConfig, parseControllerConfig, readStorePassword } from '../src/config.js';

t.test('a YAML config with defaults and relative paths', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'controller.yaml');
  writeFileSync(file, [
    'redis: redis://127.0.0.1:6390',
    'store: ./store',
    'agents:',
    '  - name: node-a',
    '    address: 10.0.0.1:7443',
    '    tls: {ca: pki/ca.pem, cert: pki/controller.pem, key: pki/controller.key}',
    'api: {listen: 127.0.0.1:8080, tokenFile: token}',
    'worker: {concurrency: 2}',
    'engine: {retries: 3}',
  ].join('\n'));
  const c = loadControllerConfig(file);
  t.equal(c.redis.url, 'redis://127.0.0.1:6390');
  t.equal(c.store.dir, join(dir, 'store'));
  t.equal(c.agents[0]?.tls.ca, join(dir, 'pki/ca.pem'));
  t.equal(c.worker.concurrency, 2);
  t.equal(c.worker.lockDurationMs, 10_000);
  t.same(c.engine, { retries: 3 });
  t.equal(c.api.tokenFile, join(dir, 'token'));
});

t.test('every bad field is named', async (t) => {
  const base = { agents: [{ name: 'a', address: '1.2.3.4:1', tls: { ca: 'x', cert: 'y', key: 'z' } }] };
  const bad: Array<[Record<string, unknown>, string]> = [
    [{ ...base, redis: 'http://x' }, 'redis.url'],
    [{ ...base, agents: [{ name: 'A B', address: '1.2.3.4:1', tls: {} }] }, 'agents[0].name'],
    [{ ...base, agents: [{ name: 'a', address: 'nope', tls: { ca: 'x', cert: 'y', key: 'z' } }] }, 'agents[0].address'],
    [{ ...base, agents: [{ name: 'a', address: '1.2.3.4:1', tls: { ca: 'x', key: 'z' } }] }, 'agents[0].tls.cert'],
    [{ ...base, worker: { concurrency: 0 } }, 'worker.concurrency'],
    [{ ...base, engine: { retries: -1 } }, 'engine.retries'],
    [{ ...base, engine: { preflight: 'yes' } }, 'engine.preflight'],
    [{ ...base, typo: 1 }, 'typo'],
    [{ ...base, store: { kind: 'mysql' } }, 'store.kind'],
    [{ ...base, store: { kind: 'postgres' } }, 'store.url'],
    [{ ...base, store: { kind: 'postgres', url: 'redis://x' } }, 'store.url'],
    [{ ...base, store: { url: 'postgres://db/seconet' } }, 'store.url'],
    [{ ...base, store: { passwordFile: 'pw' } }, 'store.passwordFile'],
    [{ ...base, store: { kind: 'postgres', url: 'postgres://db/seconet', password: 'x' } }, 'store.password'],
  ];
  for (const [doc, field] of bad) t.throws(() => parseControllerConfig(doc, '/tmp'), { code: 'INVALID_ARGUMENT', field }, field);
  t.throws(() => loadControllerConfig('/nonexistent/seconet.yaml'), { code: 'INVALID_ARGUMENT', field: 'config' }, 'unreadable file');
});

t.test('store: SQLite by default, PostgreSQL when chosen', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sn-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.same(parseControllerConfig({ store: './s' }, dir).store, { dir: join(dir, 's'), kind: 'sqlite', url: undefined, passwordFile: undefined });
  const c = parseControllerConfig({ store: { kind: 'postgres', url: 'postgresql://seconet@db.example:5432/seconet', passwordFile: 'pg-password', dir: './raw' } }, dir);
  t.same(c.store, { dir: join(dir, 'raw'), kind: 'postgres', url: 'postgresql://seconet@db.example:5432/seconet', passwordFile: join(dir, 'pg-password') });
  writeFileSync(join(dir, 'pg-password'), 's3cret\n');
  t.equal(readStorePassword(c), 's3cret');
  writeFileSync(join(dir, 'pg-password'), '\n');
  t.throws(() => readStorePassword(c), { code: 'INVALID_ARGUMENT', field: 'store.passwordFile' }, 'an empty password file');
  let message = '';
  try {
    parseControllerConfig({ store: { kind: 'postgres', url: 'mysql://u:hunter2@db/x' } });
  } catch (e) {
    message = (e as Error).message;
  }
  t.match(message, /^store\.url: .* is not a postgres:\/\/ or postgresql:\/\/ URL/);
  t.notMatch(message, /hunter2/, 'a password in a bad URL is not echoed');
});
