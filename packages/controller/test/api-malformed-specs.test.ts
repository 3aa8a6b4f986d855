// A corpus of malformed specs (test/fixtures/malformed-specs/, each naming the field it expects in
// its first line) sent as YAML and, where the YAML parses, as JSON: every one gets a 4xx naming
// that field, and the server stays healthy. The service fake validates with the real parseSpec
// and matrix expansion from @seconet/core.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertRunnable, expandMatrix, parseSpec } from '@seconet/core';
import { buildApi, parseYamlSpec } from '../src/api/build-api.js';
import { FakeService, TOKEN } from './api-fake-service.js';

const dir = new URL('../../../test/fixtures/malformed-specs/', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

t.test('the corpus is large enough', async (t) => {
  t.ok(files.length >= 50, `${files.length} malformed specs`);
});

t.test('every malformed spec gets a 4xx naming its field', async (t) => {
  const service = new FakeService();
  service.validate = (spec) => {
    const parsed = parseSpec(spec);
    const plan = expandMatrix(parsed, { experimentId: 'corpus', hosts: parsed.hosts ?? ['h1', 'h2'] });
    assertRunnable(plan);
    return { name: parsed.name };
  };
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const headers = { authorization: `Bearer ${TOKEN}` };

  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    const expected = /^# field: (\S+)/.exec(text)?.[1];
    t.ok(expected, `${f} declares its field`);
    const bodies: Array<[string, string]> = [['application/yaml', text]];
    try {
      bodies.push(['application/json', JSON.stringify(parseYamlSpec(text))]);
    } catch {
      /* bad YAML: only sent as YAML */
    }
    for (const [ct, payload] of bodies) {
      for (const url of ['/v1/experiments', '/v1/experiments?dryRun=true']) {
        const r = await app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': ct }, payload });
        const what = `${f} as ${ct} to ${url}`;
        t.ok(r.statusCode >= 400 && r.statusCode < 500, `${what}: 4xx (got ${r.statusCode} ${r.body.slice(0, 200)})`);
        const body = r.json() as { code: string; message: string; field?: string };
        t.equal(body.field, expected, `${what}: field (${body.message})`);
        t.match(body.code, /^(INVALID_SPEC|INVALID_ARGUMENT|UNSUPPORTED)$/, `${what}: code`);
      }
    }
  }
  t.equal(service.submitted.length, 0, 'nothing was queued');
  const h = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(h.statusCode, 200, 'still healthy');
  const ok = await app.inject({ method: 'POST', url: '/v1/experiments', headers: { ...headers, 'content-type': 'application/yaml' }, payload: 'name: fine\nworkloads: [latency-basic]\n' });
  t.equal(ok.statusCode, 202, 'a good spec is still accepted afterwards');
});
