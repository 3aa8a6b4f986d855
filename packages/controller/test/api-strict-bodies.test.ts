// Bodies that used to slip through or crash: a YAML alias bomb sent as text/plain or as a JSON
// string, duplicate JSON keys, and keys that reach into the object model. Each gets a 400
// naming what is wrong, and the server stays healthy.
import t from 'tap';
import { parseSpec } from '@seconet/core';
import { buildApi } from '../src/api/build-api.js';
import { FakeService, TOKEN } from './api-fake-service.js';

const BOMB = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcde'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcd'[i]}`).join(',')}]`), `f: [${Array(9).fill('*e').join(',')}]`, ''].join('\n');

t.test('strict spec bodies', async (t) => {
  const service = new FakeService();
  service.validate = (spec) => ({ name: parseSpec(spec).name });
  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const post = (ct: string, payload: string) => app.inject({ method: 'POST', url: '/v1/experiments?dryRun=true', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': ct }, payload });

  for (const [ct, payload] of [['text/plain', BOMB], ['application/json', JSON.stringify(BOMB)], ['application/yaml', BOMB]] as const) {
    const r = await post(ct, payload);
    t.equal(r.statusCode, 400, `alias bomb as ${ct}: 400, not 500`);
    t.match(r.json(), { code: 'INVALID_SPEC', field: 'body', message: /aliases expand too far|alias/i }, ct);
  }

  const dup = await post('application/json', '{"name": "a",\n "workloads": ["latency-basic"],\n "repetitions": {"min": 3, "min": 5}}');
  t.equal(dup.statusCode, 400);
  t.same(dup.json(), { code: 'INVALID_SPEC', field: 'repetitions.min', message: 'repetitions.min: the key "min" appears twice in the same object (line 3); JSON readers keep only one of them, so remove the other' });
  const dupTop = await post('application/json', '{"name":"a","name":"b","workloads":["latency-basic"]}');
  t.match(dupTop.json(), { code: 'INVALID_SPEC', field: 'name' }, 'like YAML, the first duplicate is named');
  const yamlDup = await post('application/yaml', 'name: a\nname: b\nworkloads: [latency-basic]\n');
  t.equal(yamlDup.statusCode, 400, 'YAML refuses it too');

  for (const [ct, payload, field] of [
    ['application/json', '{"name":"a","workloads":["latency-basic"],"__proto__":{"x":1}}', '__proto__'],
    ['application/yaml', 'name: a\nworkloads: [latency-basic]\nmatrix: {__proto__: {x: 1}}\n', 'matrix.__proto__'],
    ['application/json', '{"name":"a","workloads":[{"latency-basic":{"constructor":{"prototype":{}}}}]}', 'workloads[0].latency-basic.constructor'],
  ] as const) {
    const r = await post(ct, payload);
    t.equal(r.statusCode, 400, `${field} as ${ct}`);
    t.match(r.json(), { code: 'INVALID_SPEC', field, message: /is not a field of the spec; keys named __proto__, constructor or prototype are refused/ });
  }
  t.equal(({} as Record<string, unknown>)['x'], undefined, 'no prototype was touched');

  const bad = await post('application/json', '{"name": "a",\n "workloads": [}');
  t.match(bad.json(), { code: 'INVALID_SPEC', field: 'body', message: /not valid JSON/ });
  const ok = await post('application/json', '{"name":"fine","workloads":["latency-basic"]}');
  t.equal(ok.statusCode, 200, 'a good JSON spec still plans');
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
});
