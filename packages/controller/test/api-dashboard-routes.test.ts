// The routes the dashboard reads (cells, runs, bundle, live host metrics) and the dashboard's
// own files: answers, auth, errors naming the field, and their place in the OpenAPI document.
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi } from '../src/api/build-api.js';
import { FakeService, TOKEN } from './api-fake-service.js';

const auth = { authorization: `Bearer ${TOKEN}` };

async function setup(t: Test, uiDir?: string) {
  const service = new FakeService();
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false, heartbeatMs: 50, ...(uiDir === undefined ? {} : { uiDir }) });
  t.teardown(() => app.close());
  return { service, app };
}

function uiDir(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'sn-ui-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>seconet dashboard</title><script type="module" src="app.js"></script>');
  writeFileSync(join(dir, 'app.js'), 'console.log("dashboard")');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  writeFileSync(join(dir, 'chunk-ABC123.js'), 'export const x = 1');
  writeFileSync(join(dir, 'notes.txt'), 'not served');
  return dir;
}

t.test('cells and runs of an experiment', async (t) => {
  const { app, service } = await setup(t);
  const e = service.add('running');
  const cells = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/cells`, headers: auth });
  t.equal(cells.statusCode, 200);
  t.match(cells.json(), [{ id: 'c1', state: 'measured', tunnel: 'vxlan', isolation: true, setupSeconds: { containers: 0.2, tunnel: 0.1 }, tunnelVariant: 'kernel' }]);
  t.notOk('error' in cells.json()[0], 'an absent error is left out, not null');
  const runs = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/runs`, headers: auth });
  t.equal(runs.statusCode, 200);
  t.match(runs.json(), [{ id: 'r1', state: 'succeeded', startedAt: '2026-01-01T00:00:01.000Z' }, { id: 'r2', state: 'failed', attempts: 2, error: /Network is unreachable/ }]);
  for (const path of ['cells', 'runs', 'bundle']) {
    const missing = await app.inject({ method: 'GET', url: `/v1/experiments/nope/${path}`, headers: auth });
    t.equal(missing.statusCode, 404, `${path} of an unknown experiment`);
    t.equal(missing.json().field, 'id');
    const bad = await app.inject({ method: 'GET', url: `/v1/experiments/..%2Fetc/${path}`, headers: auth });
    t.equal(bad.statusCode, 400, `${path}: a malformed id is refused`);
    const unauth = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/${path}` });
    t.equal(unauth.statusCode, 401, `${path} needs the token`);
  }
});

t.test('bundle is a gzip download named after the experiment', async (t) => {
  const { app, service } = await setup(t);
  const e = service.add('succeeded');
  const r = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/bundle`, headers: auth });
  t.equal(r.statusCode, 200);
  t.equal(r.headers['content-type'], 'application/gzip');
  t.equal(r.headers['content-disposition'], `attachment; filename="${e.id}.seconet.json.gz"`);
  t.same([...r.rawPayload.subarray(0, 2)], [0x1f, 0x8b]);
});

t.test('live host metrics: SSE samples of the named hosts; unknown host and bad interval named', async (t) => {
  const { app, service } = await setup(t);
  service.samples = [
    { host: 'h1', timestamp: 1, cpu: { usr: 10, sys: 5, siq: 2, hiq: 0, wai: 0, idle: 83 }, interfaces: [{ name: 'eth0', rxBytesPerS: 100, txBytesPerS: 50 }] },
    { host: 'h2', timestamp: 1, interfaces: [], error: 'stream broke' },
    { host: 'h1', timestamp: 2, cpu: { usr: 20, sys: 5, siq: 4, hiq: 0, wai: 0, idle: 71 }, interfaces: [] },
  ];
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const abort = new AbortController();
  const res = await fetch(`${url}/v1/hosts/metrics?hosts=h1`, { headers: auth, signal: abort.signal });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/event-stream/);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while ((text.match(/event: sample/g) ?? []).length < 2 || !text.includes('keep-alive')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  abort.abort();
  const samples = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { host: string; timestamp: number });
  t.same(samples.map((s) => [s.host, s.timestamp]), [['h1', 1], ['h1', 2]], 'only h1, in order');
  t.match(text, /: keep-alive/, 'keep-alive comments while idle');

  const unknown = await app.inject({ method: 'GET', url: '/v1/hosts/metrics?hosts=h1,ghost', headers: auth });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().field, 'hosts');
  const slow = await app.inject({ method: 'GET', url: '/v1/hosts/metrics?intervalMs=99999', headers: auth });
  t.equal(slow.statusCode, 400);
  t.equal(slow.json().field, 'intervalMs');
  const fast = await app.inject({ method: 'GET', url: '/v1/hosts/metrics?intervalMs=100', headers: auth });
  t.equal(fast.statusCode, 400);
  t.equal(fast.json().field, 'intervalMs');
  const badList = await app.inject({ method: 'GET', url: '/v1/hosts/metrics?hosts=h1;rm', headers: auth });
  t.equal(badList.statusCode, 400, 'a host list with odd characters is refused');
  const unauth = await app.inject({ method: 'GET', url: '/v1/hosts/metrics' });
  t.equal(unauth.statusCode, 401);
});

t.test('the new routes are in the OpenAPI document; the dashboard files are not', async (t) => {
  const { app } = await setup(t);
  const doc = (await app.inject({ method: 'GET', url: '/openapi.json', headers: auth })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  for (const p of ['/v1/experiments/{id}/cells', '/v1/experiments/{id}/runs', '/v1/experiments/{id}/bundle', '/v1/hosts/metrics']) {
    t.ok(doc.paths[p]?.['get'], `${p} documented`);
  }
  t.ok(doc.paths['/v1/experiments/{id}/cells']!['get']!.responses['200'], 'with a response schema');
  t.notOk(Object.keys(doc.paths).some((p) => p === '/' || p.startsWith('/ui')), 'no dashboard file route');
});

t.test('dashboard files: public, with a strict CSP; / and /ui/ answer the page', async (t) => {
  const { app } = await setup(t, uiDir(t));
  const bare = await app.inject({ method: 'GET', url: '/ui' });
  t.equal(bare.statusCode, 302, '/ui redirects');
  t.equal(bare.headers['location'], '/ui/');
  const root = await app.inject({ method: 'GET', url: '/' });
  t.equal(root.statusCode, 200, '/ answers the page itself');
  const index = await app.inject({ method: 'GET', url: '/ui/' });
  t.equal(index.statusCode, 200, 'index.html without a token');
  t.equal(index.body, root.body);
  t.equal(index.headers['cache-control'], 'no-cache');
  const again = await app.inject({ method: 'GET', url: '/ui/', headers: { 'if-none-match': String(index.headers['etag']) } });
  t.equal(again.statusCode, 304, 'revalidation by ETag');
  t.equal(again.body, '');
  t.match(index.headers['content-type'], /^text\/html/);
  t.match(index.body, /seconet dashboard/);
  t.match(index.headers['content-security-policy'], /script-src 'self'/);
  t.match(index.headers['content-security-policy'], /connect-src 'self'/);
  t.equal(index.headers['x-content-type-options'], 'nosniff');
  const js = await app.inject({ method: 'GET', url: '/ui/app.js' });
  t.equal(js.statusCode, 200);
  t.match(js.headers['content-type'], /^text\/javascript/);
  const chunk = await app.inject({ method: 'GET', url: '/ui/chunk-ABC123.js' });
  t.match(chunk.headers['cache-control'], /immutable/, 'content-hashed chunks are cached for good');
  const css = await app.inject({ method: 'GET', url: '/ui/app.css' });
  t.match(css.headers['content-type'], /^text\/css/);
  for (const url of ['/ui/notes.txt', '/ui/nothing.js', '/ui/..%2Fpackage.json']) {
    const r = await app.inject({ method: 'GET', url });
    t.equal(r.statusCode, 404, `${url} is not served`);
    t.equal(r.json().code, 'NOT_FOUND');
  }
  const api = await app.inject({ method: 'GET', url: '/v1/experiments' });
  t.equal(api.statusCode, 401, 'the API behind the page still wants the token');
});

t.test('a controller built without the dashboard says so at /ui/', async (t) => {
  const { app } = await setup(t, join(tmpdir(), 'sn-no-such-ui-dir'));
  const r = await app.inject({ method: 'GET', url: '/ui/' });
  t.equal(r.statusCode, 503);
  t.match(r.json().message, /the dashboard is not built .*run npm run build/);
  const api = await app.inject({ method: 'GET', url: '/v1/agents', headers: auth });
  t.equal(api.statusCode, 200, 'the API works without it');
});
