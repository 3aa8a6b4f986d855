import t from 'tap';
import { createRequire } from 'node:module';
import { buildApi } from '../src/api/build-api.js';
import { FakeService, TOKEN } from './api-fake-service.js';

const ROUTES: Array<[string, string]> = [
  ['post', '/v1/experiments'],
  ['get', '/v1/experiments'],
  ['get', '/v1/experiments/{id}'],
  ['delete', '/v1/experiments/{id}'],
  ['get', '/v1/experiments/{id}/events'],
  ['get', '/v1/experiments/{id}/results'],
  ['get', '/v1/experiments/{id}/report'],
  ['get', '/v1/agents'],
  ['get', '/healthz'],
  ['get', '/metrics'],
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test walking an arbitrary JSON document
type Json = Record<string, any>;

// OpenAPI 3.1 schemas are JSON Schema 2020-12: compile them with the Ajv 8 that fastify itself uses
// (the top-level ajv in node_modules is an older major pulled in by eslint).
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('@fastify/ajv-compiler'));
const Ajv2020 = fastifyRequire('ajv/dist/2020') as { default: new (o: object) => { compile(s: unknown): unknown } };

function refsResolve(doc: Json, node: unknown, path: string, problems: string[]): void {
  if (Array.isArray(node)) return node.forEach((n, i) => refsResolve(doc, n, `${path}[${i}]`, problems));
  if (typeof node !== 'object' || node === null) return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      if (!v.startsWith('#/')) problems.push(`${path}: external $ref ${v}`);
      else {
        let cur: unknown = doc;
        for (const part of v.slice(2).split('/')) cur = (cur as Json | undefined)?.[part];
        if (cur === undefined) problems.push(`${path}: $ref ${v} does not resolve`);
      }
    } else refsResolve(doc, v, `${path}.${k}`, problems);
  }
}

t.test('the OpenAPI document is 3.x, lists every route and every schema compiles', async (t) => {
  const app = await buildApi({ service: new FakeService(), tokens: [TOKEN], rateLimit: false, specSchema: { type: 'object', properties: { name: { type: 'string' } } } });
  t.teardown(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/openapi.json', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(r.statusCode, 200);
  const doc = r.json() as Json;
  t.match(doc.openapi, /^3\.\d+\.\d+$/);
  t.type(doc.info.title, 'string');
  t.type(doc.info.version, 'string');
  t.same(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });
  t.same(doc.security, [{ bearer: [] }]);
  t.same(doc.components.schemas.ExperimentSpec.properties.name, { type: 'string' }, 'the spec schema is published');

  const listed = new Set<string>();
  for (const [p, item] of Object.entries(doc.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      if (!['get', 'post', 'put', 'delete', 'patch'].includes(method)) continue;
      listed.add(`${method} ${p}`);
      t.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${p} has responses`);
      for (const [status, resp] of Object.entries(op.responses as Json)) {
        t.match(status, /^[1-5][0-9][0-9]$|^default$/, `${method} ${p} status key ${status}`);
        t.type((resp as Json).description, 'string', `${method} ${p} ${status} has a description`);
      }
    }
  }
  for (const [m, p] of ROUTES) t.ok(listed.has(`${m} ${p}`), `${m.toUpperCase()} ${p} is documented`);
  t.notOk([...listed].some((x) => x.includes('/openapi.json')), 'the document does not describe itself');
  t.same(doc.paths['/healthz'].get.security, [], '/healthz is marked as needing no token');
  t.ok(doc.paths['/v1/experiments/{id}'].get.parameters.some((p: Json) => p.name === 'id' && p.in === 'path' && p.required === true));
  t.ok(doc.paths['/v1/experiments'].post.requestBody.content['application/yaml'], 'YAML bodies are documented');
  t.ok(doc.paths['/v1/experiments'].post.responses['202'], '202 is documented');
  t.ok(doc.paths['/v1/experiments'].post.responses['400'].content['application/json'].schema.properties.field, 'errors document the field');

  const problems: string[] = [];
  refsResolve(doc, doc, '$', problems);
  t.same(problems, [], 'every $ref resolves inside the document');

  const ajv = new Ajv2020.default({ strict: false, validateFormats: false });
  const schemas: Array<[string, unknown]> = [];
  const collect = (node: unknown, path: string): void => {
    if (typeof node !== 'object' || node === null) return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'schema' && typeof v === 'object') schemas.push([`${path}.schema`, v]);
      else collect(v, `${path}.${k}`);
    }
  };
  collect(doc.paths, 'paths');
  t.ok(schemas.length > 20);
  for (const [where, s] of schemas) {
    const withComponents = JSON.parse(JSON.stringify(s).replace(/"#\/components\/schemas\//g, '"urn:c#/'));
    t.doesNotThrow(() => ajv.compile(withComponents), `${where} is a valid JSON Schema`);
  }
});

t.test('the docs page is served (with a token)', async (t) => {
  const app = await buildApi({ service: new FakeService(), tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const r = await app.inject({ method: 'GET', url: '/docs/', headers: { authorization: `Bearer ${TOKEN}` } });
  t.equal(r.statusCode, 200);
  t.match(r.body, /swagger-ui/i);
  const no = await app.inject({ method: 'GET', url: '/docs/' });
  t.equal(no.statusCode, 401);
});
