import t from 'tap';
import type { Test } from 'tap';
import { SeconetError } from '@seconet/core';
import { buildApi } from '../src/api/build-api.js';
import { FakeService, TOKEN, row } from './api-fake-service.js';
import { Type } from 'typebox';
import { Value } from 'typebox/value';
import { Agent } from '../src/api/schemas.js';

const auth = { authorization: `Bearer ${TOKEN}` };

async function setup(t: Test, extra: { rateLimit?: { max: number; timeWindowMs: number } | false } = {}) {
  const service = new FakeService();
  const app = await buildApi({ service, tokens: ['another-token-abcdefghijkl', TOKEN], rateLimit: extra.rateLimit ?? false });
  t.teardown(() => app.close());
  return { service, app };
}

t.test('healthz needs no token', async (t) => {
  const { app } = await setup(t);
  const r = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(r.statusCode, 200);
  t.same(r.json(), { status: 'ok' });
});

t.test('authentication', async (t) => {
  const { app } = await setup(t);
  const cases: Array<[string, Record<string, string>]> = [
    ['missing', {}],
    ['wrong token', { authorization: 'Bearer not-the-right-token-at-all' }],
    ['wrong scheme', { authorization: `Basic ${TOKEN}` }],
    ['no token after scheme', { authorization: 'Bearer' }],
    ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
  ];
  for (const url of ['/v1/experiments', '/v1/agents', '/metrics', '/openapi.json', '/v1/experiments/x1/report']) {
    for (const [what, headers] of cases) {
      const r = await app.inject({ method: 'GET', url, headers });
      t.equal(r.statusCode, 401, `${url} ${what}`);
      t.equal(r.json().code, 'UNAUTHORIZED');
      t.equal(r.json().field, 'authorization');
    }
  }
  const post = await app.inject({ method: 'POST', url: '/v1/experiments', payload: { name: 'x' } });
  t.equal(post.statusCode, 401, 'POST without a token is refused before the body is looked at');
  const second = await app.inject({ method: 'GET', url: '/v1/experiments', headers: { authorization: 'Bearer another-token-abcdefghijkl' } });
  t.equal(second.statusCode, 200, 'every token of the file is accepted');
  const lower = await app.inject({ method: 'GET', url: '/v1/experiments', headers: { authorization: `bearer ${TOKEN}` } });
  t.equal(lower.statusCode, 200, 'the scheme is case-insensitive');
});

t.test('buildApi refuses an empty or weak token list', async (t) => {
  const service = new FakeService();
  await t.rejects(buildApi({ service, tokens: [] }), { code: 'INVALID_ARGUMENT', field: 'tokens' });
  await t.rejects(buildApi({ service, tokens: ['short'] }), { code: 'INVALID_ARGUMENT', field: 'tokens' });
});

t.test('submit JSON and YAML; dry run answers the plan', async (t) => {
  const { app, service } = await setup(t);
  const r = await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: { name: 'json-one', extra: 1 } });
  t.equal(r.statusCode, 202);
  const id = r.json().id;
  t.match(id, /^exp\d+$/);
  t.equal(r.headers['location'], `/v1/experiments/${id}`);
  t.same(service.submitted[0], { name: 'json-one', extra: 1 }, 'the spec reaches the service as sent, unknown fields included');

  for (const ct of ['application/yaml', 'text/yaml', 'application/x-yaml; charset=utf-8']) {
    const y = await app.inject({ method: 'POST', url: '/v1/experiments', headers: { ...auth, 'content-type': ct }, payload: 'name: yaml-one\nmatrix:\n  containers: [2, "4"]\n' });
    t.equal(y.statusCode, 202, ct);
  }
  t.same(service.submitted[1], { name: 'yaml-one', matrix: { containers: [2, '4'] } }, 'YAML values keep their types (no coercion)');

  const dry = await app.inject({ method: 'POST', url: '/v1/experiments?dryRun=true', headers: auth, payload: { name: 'plan' } });
  t.equal(dry.statusCode, 200);
  const plan = dry.json();
  t.equal(plan.cells.length, 1);
  t.equal(plan.runsTotal, 2);
  t.equal(plan.runs[0].workload, 'latency-basic');
  t.equal(plan.skipped[0].reason, 'no agent offers tunnel wireguard');
  t.equal(plan.skipped[0].cell.tunnel, 'wireguard');
  t.equal(plan.estimatedSeconds, 42);
  t.equal(service.submitted.length, 4, 'a dry run stores nothing');

  const notDry = await app.inject({ method: 'POST', url: '/v1/experiments?dryRun=false', headers: auth, payload: { name: 'x' } });
  t.equal(notDry.statusCode, 202);
});

t.test('submit errors name the field', async (t) => {
  const { app } = await setup(t);
  const cases: Array<{ what: string; headers?: Record<string, string>; url?: string; payload?: string; status: number; code: string; field: string }> = [
    { what: 'spec rejected by the service', payload: '{"name": 5}', status: 400, code: 'INVALID_SPEC', field: 'name' },
    { what: 'bad JSON', payload: '{"name": ', status: 400, code: 'INVALID_SPEC', field: 'body' },
    { what: 'empty JSON body', payload: '', status: 400, code: 'INVALID_SPEC', field: 'body' },
    { what: 'bad YAML', headers: { 'content-type': 'application/yaml' }, payload: 'name: [unclosed', status: 400, code: 'INVALID_SPEC', field: 'body' },
    { what: 'duplicate YAML keys', headers: { 'content-type': 'text/yaml' }, payload: 'name: a\nname: b\n', status: 400, code: 'INVALID_SPEC', field: 'body' },
    { what: 'YAML alias bomb', headers: { 'content-type': 'text/yaml' }, payload: 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nname: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n', status: 400, code: 'INVALID_SPEC', field: 'body' },
    { what: 'unsupported media type', headers: { 'content-type': 'application/xml' }, payload: '<x/>', status: 415, code: 'INVALID_ARGUMENT', field: 'content-type' },
    { what: 'bad dryRun value', url: '/v1/experiments?dryRun=yes', payload: '{"name":"x"}', status: 400, code: 'INVALID_ARGUMENT', field: 'query.dryRun' },
    { what: 'prototype poisoning', payload: '{"name":"x","__proto__":{"polluted":1}}', status: 400, code: 'INVALID_SPEC', field: '__proto__' },
  ];
  for (const c of cases) {
    const r = await app.inject({ method: 'POST', url: c.url ?? '/v1/experiments', headers: { 'content-type': 'application/json', ...auth, ...c.headers }, payload: c.payload ?? '' });
    t.equal(r.statusCode, c.status, `${c.what}: status`);
    t.equal(r.json().code, c.code, `${c.what}: code`);
    t.equal(r.json().field, c.field, `${c.what}: field`);
    t.type(r.json().message, 'string');
  }
  const big = await app.inject({ method: 'POST', url: '/v1/experiments', headers: { 'content-type': 'application/json', ...auth }, payload: JSON.stringify({ name: 'x'.repeat(2 << 20) }) });
  t.equal(big.statusCode, 413);
  t.equal(big.json().field, 'body');
  t.same(({} as Record<string, unknown>)['polluted'], undefined);
});

t.test('list, get, cancel', async (t) => {
  const { app, service } = await setup(t);
  const a = service.add('running', { current: { cell: 'c1', workload: 'latency-basic', repetition: 2 }, startedAt: '2026-01-01T00:00:01.000Z' });
  const b = service.add('succeeded', { finishedAt: '2026-01-01T01:00:00.000Z' });
  const list = await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth });
  t.equal(list.statusCode, 200);
  t.same(list.json().map((e: { id: string }) => e.id), [a.id, b.id]);
  const one = await app.inject({ method: 'GET', url: `/v1/experiments/${a.id}`, headers: auth });
  t.equal(one.statusCode, 200);
  t.same(one.json().progress, { runsDone: 1, runsFailed: 0, runsTotal: 4 });
  t.same(one.json().current, { cell: 'c1', workload: 'latency-basic', repetition: 2 });
  t.notOk('finishedAt' in one.json(), 'absent fields stay absent');

  const missing = await app.inject({ method: 'GET', url: '/v1/experiments/nope', headers: auth });
  t.equal(missing.statusCode, 404);
  t.same(missing.json(), { code: 'NOT_FOUND', message: 'experiment nope does not exist', field: 'id' });
  const badId = await app.inject({ method: 'GET', url: '/v1/experiments/..%2Fetc', headers: auth });
  t.equal(badId.statusCode, 400);
  t.equal(badId.json().field, 'params.id');

  const del = await app.inject({ method: 'DELETE', url: `/v1/experiments/${a.id}`, headers: auth });
  t.equal(del.statusCode, 200);
  t.equal(del.json().state, 'cancelled');
  const conflict = await app.inject({ method: 'DELETE', url: `/v1/experiments/${b.id}`, headers: auth });
  t.equal(conflict.statusCode, 409);
  t.equal(conflict.json().code, 'CONFLICT');
  const delMissing = await app.inject({ method: 'DELETE', url: '/v1/experiments/nope', headers: auth });
  t.equal(delMissing.statusCode, 404);
});

t.test('results as JSON and CSV, report as HTML', async (t) => {
  const { app, service } = await setup(t);
  const e = service.add('succeeded');
  service.rows.set(e.id, [row(e.id, 1), row(e.id, 2, { pair: 'p,1 "quoted"' })]);
  const json = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/results?format=json`, headers: auth });
  t.equal(json.statusCode, 200);
  t.match(json.headers['content-type'], /application\/json/);
  t.equal(json.json().length, 2);
  t.equal(json.json()[1].pair, 'p,1 "quoted"');
  const dflt = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/results`, headers: auth });
  t.same(dflt.json(), json.json(), 'JSON is the default format');

  const csv = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/results?format=csv`, headers: auth });
  t.equal(csv.statusCode, 200);
  t.match(csv.headers['content-type'], /text\/csv/);
  const lines = csv.body.trimEnd().split('\r\n');
  t.equal(lines.length, 3);
  for (const col of ['experiment', 'cell', 'run', 'repetition', 'workload', 'network', 'tunnel', 'tunnel_variant', 'filter', 'filter_variant', 'rules', 'containers', 'pair', 'metric', 'value', 'unit']) {
    t.ok(lines[0]!.split(',').includes(col), `CSV has column ${col}`);
  }
  t.match(lines[2], /"p,1 ""quoted"""/);

  const badFmt = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/results?format=xml`, headers: auth });
  t.equal(badFmt.statusCode, 400);
  t.equal(badFmt.json().field, 'query.format');
  const missing = await app.inject({ method: 'GET', url: '/v1/experiments/nope/results', headers: auth });
  t.equal(missing.statusCode, 404);

  const rep = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/report`, headers: auth });
  t.equal(rep.statusCode, 200);
  t.match(rep.headers['content-type'], /text\/html/);
  t.match(rep.body, /^<!doctype html>/);
  const repMissing = await app.inject({ method: 'GET', url: '/v1/experiments/nope/report', headers: auth });
  t.equal(repMissing.statusCode, 404);
  t.equal(repMissing.json().code, 'NOT_FOUND');
});

t.test('agents and metrics', async (t) => {
  const { app } = await setup(t);
  const ag = await app.inject({ method: 'GET', url: '/v1/agents', headers: auth });
  t.equal(ag.statusCode, 200);
  t.equal(ag.json()[0].capabilities[0].kind, 'vxlan');
  t.equal(ag.json()[1].healthy, false);
  t.equal(ag.json()[1].error, 'connection refused');
  t.match(ag.headers['content-type'], /^application\/json; charset=utf-8/);
  // The body is what the route's response schema describes (it is written without the schema's serializer).
  const schema = Type.Array(Agent);
  t.ok(Value.Check(schema, ag.json()), `GET /v1/agents matches its schema: ${JSON.stringify([...Value.Errors(schema, ag.json())].slice(0, 2))}`);
  t.same(ag.json()[1], { name: 'h2', address: '127.0.0.1:7002', healthy: false, error: 'connection refused', capabilities: [] }, 'absent fields are left out');

  const m = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
  t.equal(m.statusCode, 200);
  t.match(m.headers['content-type'], /text\/plain; version=0\.0\.4/);
  const metrics = new Map<string, number>();
  for (const line of m.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const mm = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    t.ok(mm, `exposition line: ${line}`);
    metrics.set(mm![1]!, Number(mm![2]));
  }
  t.equal(metrics.get('seconet_queue_depth'), 3);
  t.equal(metrics.get('seconet_runs_done_total'), 10);
  t.equal(metrics.get('seconet_runs_failed_total'), 1);
  t.equal(metrics.get('seconet_experiments{state="queued"}'), 2);
  t.equal(metrics.get('seconet_experiments{state="failed"}'), 0, 'every state is exported, zero included');
  t.equal(metrics.get('seconet_agents_healthy'), 1);
  t.equal(metrics.get('seconet_agents_total'), 2);
});

t.test('5xx answers carry no internals; 4xx SeconetErrors keep theirs', async (t) => {
  const { app, service } = await setup(t);
  service.fail.list = new Error('SQLITE_CORRUPT: /var/lib/seconet/secret-path.db at line 42');
  const r = await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth });
  t.equal(r.statusCode, 500);
  t.equal(r.json().code, 'INTERNAL');
  t.notMatch(r.body, /SQLITE|secret-path|line 42/);
  service.fail.agents = new SeconetError('UNAVAILABLE', 'redis at 10.0.0.7:6379 refused: ECONNREFUSED');
  const u = await app.inject({ method: 'GET', url: '/v1/agents', headers: auth });
  t.equal(u.statusCode, 503);
  t.equal(u.json().code, 'UNAVAILABLE');
  t.notMatch(u.body, /10\.0\.0\.7|ECONNREFUSED/);
  service.fail.submit = new SeconetError('UNSUPPORTED', 'matrix.tunnel[1]: no agent offers wireguard', { field: 'matrix.tunnel[1]' });
  const s = await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: { name: 'x' } });
  t.equal(s.statusCode, 422);
  t.same(s.json(), { code: 'UNSUPPORTED', message: 'matrix.tunnel[1]: no agent offers wireguard', field: 'matrix.tunnel[1]' });
  const h = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(h.statusCode, 200, 'still healthy');
});

t.test('unknown routes answer 404 in the error shape', async (t) => {
  const { app } = await setup(t);
  const r = await app.inject({ method: 'GET', url: '/v2/nothing', headers: auth });
  t.equal(r.statusCode, 404);
  t.equal(r.json().code, 'NOT_FOUND');
  const u = await app.inject({ method: 'GET', url: '/v2/nothing' });
  t.equal(u.statusCode, 401, 'unauthenticated callers learn nothing about routes');
});

t.test('the rate limit answers 429 RATE_LIMITED, also for failed logins', async (t) => {
  const { app } = await setup(t, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
  const codes: number[] = [];
  for (let i = 0; i < 5; i++) codes.push((await app.inject({ method: 'GET', url: '/v1/experiments', headers: { authorization: 'Bearer wrong-token-guess-00000' } })).statusCode);
  t.same(codes, [401, 401, 401, 429, 429]);
  const r = await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth });
  t.equal(r.statusCode, 429);
  t.equal(r.json().code, 'RATE_LIMITED');
  t.ok(r.headers['retry-after'], 'Retry-After is set');
});

t.test('unknown URLs count against the same rate limit (no free token guessing on 404s)', async (t) => {
  const { app } = await setup(t, { rateLimit: { max: 3, timeWindowMs: 60_000 } });
  const codes: number[] = [];
  for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'GET', url: `/v9/guess-${i}`, headers: { authorization: 'Bearer wrong-token-guess-00000' } })).statusCode);
  t.same(codes, [401, 401, 401, 429]);
  const known = await app.inject({ method: 'GET', url: '/v1/experiments', headers: auth });
  t.equal(known.statusCode, 429, 'one budget for known and unknown URLs');
  t.equal(known.json().code, 'RATE_LIMITED');
});

t.test('SSE: events in order, resume after Last-Event-ID, end at a final state', async (t) => {
  const { app, service } = await setup(t);
  const e = service.add('running');
  service.pushEvent(e.id, 'state', { state: 'running' });
  service.pushEvent(e.id, 'run', { run: 'r1', state: 'succeeded', runsDone: 1, runsTotal: 2 });
  service.pushEvent(e.id, 'run', { run: 'r2', state: 'succeeded', runsDone: 2, runsTotal: 2 });
  service.pushEvent(e.id, 'state', { state: 'succeeded' });
  service.pushEvent(e.id, 'log', { message: 'after the end, never sent' });

  const parse = (body: string) =>
    body
      .split('\n\n')
      .filter((b) => /^id: /m.test(b))
      .map((b) => {
        const f = Object.fromEntries(b.split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        return { id: Number(f['id']), event: f['event'], data: JSON.parse(f['data']!) };
      });

  const all = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/events`, headers: auth });
  t.equal(all.statusCode, 200);
  t.match(all.headers['content-type'], /text\/event-stream/);
  const evs = parse(all.body);
  t.same(evs.map((x) => x.id), [1, 2, 3, 4], 'the stream stops at the final state');
  t.equal(evs[1]!.event, 'run');
  t.equal(evs[1]!.data.runsDone, 1);
  t.equal(evs[3]!.data.state, 'succeeded');

  const resumed = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/events`, headers: { ...auth, 'last-event-id': '2' } });
  t.same(parse(resumed.body).map((x) => x.id), [3, 4]);
  const byQuery = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/events?after=3`, headers: auth });
  t.same(parse(byQuery.body).map((x) => x.id), [4]);
  const headerWins = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/events?after=0`, headers: { ...auth, 'last-event-id': '3' } });
  t.same(parse(headerWins.body).map((x) => x.id), [4]);

  const bad = await app.inject({ method: 'GET', url: `/v1/experiments/${e.id}/events`, headers: { ...auth, 'last-event-id': 'abc' } });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().field, 'last-event-id');
  const missing = await app.inject({ method: 'GET', url: '/v1/experiments/nope/events', headers: auth });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'NOT_FOUND');
});
