// The REST API in front of the real controller, without root: routes, service, engine, queue
// (a real redis-server), store and registry are the production ones; the agents are FakeAgents
// served over real gRPC with mutual TLS (grpc-fake-agent.ts), reached through the controller's
// own client. An experiment submitted with app.inject() runs to the end and its result rows come
// back. Agents whose TLS cannot work (expired or not-yet-valid server certificate, a CA the
// controller does not trust, an expired client certificate) show up in GET /v1/agents as
// unhealthy with the TLS failure named; an agent that does not listen is not called a TLS failure.

import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApi } from '../src/api/build-api.js';
import { parseControllerConfig } from '../src/config.js';
import { startController } from '../src/controller.js';
import { issue, issueWithValidity, makeCa } from '../../../test/helpers/pki.js';
import { startRedis } from '../../../test/helpers/redis.js';
import { requireTools } from '../../../test/helpers/requirements.js';
import { serveFakeAgent, type ServedFakeAgent } from './grpc-fake-agent.js';

const TOKEN = 'real-controller-test-token-0123456789';
const DAY = 86_400_000;

interface AgentView {
  name: string;
  address: string;
  healthy: boolean;
  error?: string;
  kernel?: string;
  capabilities: unknown[];
}

t.test('the REST API over the real controller, with agents behind real gRPC and mTLS', { timeout: 180_000 }, async (t) => {
  if (!requireTools(t, ['/usr/bin/redis-server', '/usr/bin/openssl'], 'the controller\'s queue and the test PKI')) return;
  const dir = mkdtempSync(join(tmpdir(), 'sn-api-real-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const redis = await startRedis(t);

  const ca = makeCa(dir);
  const otherCa = makeCa(dir, 'seconet-other-ca');
  const controllerCert = issue(dir, ca, 'controller', 'client');
  const now = Date.now();
  const expiredClient = issueWithValidity(dir, ca, 'controller-expired', 'client', { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) });

  const served: ServedFakeAgent[] = [];
  t.teardown(async () => {
    for (const s of served) await s.stop();
  });
  const serve = async (name: string, cert: { cert: string; key: string }, underlay: string): Promise<ServedFakeAgent> => {
    const s = await serveFakeAgent(name, { tls: { ...cert, ca: ca.cert }, underlay });
    served.push(s);
    return s;
  };
  const h1 = await serve('h1', issue(dir, ca, 'h1', 'server', ['127.0.0.1']), '198.18.0.1');
  const h2 = await serve('h2', issue(dir, ca, 'h2', 'server', ['127.0.0.1']), '198.18.0.2');
  const expired = await serve('expired', issueWithValidity(dir, ca, 'expired', 'server', { notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) }, ['127.0.0.1']), '198.18.0.3');
  const early = await serve('early', issueWithValidity(dir, ca, 'early', 'server', { notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) }, ['127.0.0.1']), '198.18.0.4');
  const stranger = await serve('stranger', issue(dir, otherCa, 'stranger', 'server', ['127.0.0.1']), '198.18.0.5');
  const refused = await serve('refused', issue(dir, ca, 'refused', 'server', ['127.0.0.1']), '198.18.0.6');
  // An agent that is not there at all: its port was bound once, then closed.
  const gone = await serveFakeAgent('gone', { tls: { ...issue(dir, ca, 'gone', 'server', ['127.0.0.1']), ca: ca.cert } });
  await gone.stop();
  for (const [name, v] of [['h1', 2.5], ['h2', 3.5]] as const) served.find((s) => s.agent.name === name)!.agent.behaviour.value = () => v;

  const tls = { ca: ca.cert, cert: controllerCert.cert, key: controllerCert.key };
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const config = parseControllerConfig({
    redis: { url: redis.url, prefix: `snapi${process.pid}` },
    store: join(dir, 'store'),
    agents: [
      { name: 'h1', address: h1.address, tls },
      { name: 'h2', address: h2.address, tls },
      { name: 'expired', address: expired.address, tls },
      { name: 'early', address: early.address, tls },
      { name: 'stranger', address: stranger.address, tls },
      // The agent is fine; the controller's client certificate for it has expired.
      { name: 'refused', address: refused.address, tls: { ...tls, cert: expiredClient.cert, key: expiredClient.key } },
      { name: 'gone', address: gone.address, tls },
    ],
    api: { listen: '127.0.0.1:0', tokenFile },
    healthIntervalMs: 500,
    engine: { metricsIntervalMs: 200 },
  }, dir);
  const ctl = await startController(config);
  t.teardown(() => ctl.stop());
  const app = await buildApi({ service: ctl.service, tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const headers = { authorization: `Bearer ${TOKEN}` };
  const get = async (url: string): Promise<{ status: number; body: string; json: () => unknown; type: string }> => {
    const r = await app.inject({ method: 'GET', url, headers });
    return { status: r.statusCode, body: r.body, json: () => r.json(), type: String(r.headers['content-type'] ?? '') };
  };

  /** Polls GET /v1/agents until every named agent has been asked at least once. */
  const agentsAfterRefresh = async (): Promise<Map<string, AgentView>> => {
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await get('/v1/agents');
      t.equal(r.status, 200);
      const list = new Map((r.json() as AgentView[]).map((a) => [a.name, a]));
      const settled = [...list.values()].every((a) => a.healthy || a.error !== undefined);
      if ((settled && list.get('h1')?.healthy && list.get('h2')?.healthy) || Date.now() > end) return list;
      await sleep(200);
    }
  };

  await t.test('GET /v1/agents: healthy agents with their capabilities, TLS failures named', async (t) => {
    const agents = await agentsAfterRefresh();
    t.same([...agents.keys()].sort(), ['early', 'expired', 'gone', 'h1', 'h2', 'refused', 'stranger']);
    for (const name of ['h1', 'h2']) {
      const a = agents.get(name)!;
      t.equal(a.healthy, true, `${name} is healthy over mTLS`);
      t.equal(a.kernel, '6.1.0-test', `${name}'s GetInfo came back over gRPC`);
      t.ok(a.capabilities.length > 0, `${name} lists capabilities`);
      t.notOk('error' in a, `${name} has no error`);
    }
    const why = (name: string): string => {
      const a = agents.get(name)!;
      t.equal(a.healthy, false, `${name} is not healthy`);
      return a.error ?? '';
    };
    t.match(why('expired'), /certificate has expired/i, 'an expired agent certificate is named');
    t.match(why('expired'), /expired at 127\.0\.0\.1:\d+ failed: certificate has expired \(CERT_HAS_EXPIRED\); the agent's certificate has expired/, 'with the agent, its address, OpenSSL\'s code and what to do');
    t.match(why('early'), /certificate is not yet valid/i, 'a not-yet-valid agent certificate is named');
    t.match(why('stranger'), /not signed by the CA in the controller's tls\.ca/, 'an agent certificate from another CA is named');
    t.match(why('refused'), /closed the connection right after the handshake: it refused the controller's client certificate: the controller's client certificate \S+controller-expired\.pem expired on /, 'the agent refusing the controller\'s expired client certificate is named');
    t.match(why('gone'), /^agent gone at 127\.0\.0\.1:\d+ does not accept connections: connect ECONNREFUSED/, 'an agent that is not listening is not called a TLS failure');
    for (const name of ['expired', 'early', 'stranger', 'refused', 'gone']) {
      t.notMatch(why(name), /^(UNAVAILABLE|unavailable|No connection established)\.?$/, `${name}: more than a bare "unavailable"`);
    }
    t.same(expired.agent.calls, [], 'the agent with the expired certificate never received a call');
    t.same(refused.agent.calls, [], 'the agent that refused the client certificate never ran a call');
  });

  await t.test('a block whose probe timed out on an agent is planned with a note, not skipped as missing', async (t) => {
    for (const h of [h1, h2]) h.agent.behaviour.undeterminedTunnels = ['gre'];
    t.teardown(() => {
      for (const h of [h1, h2]) h.agent.behaviour.undeterminedTunnels = [];
    });
    const end = Date.now() + 30_000;
    let gre: AgentView['capabilities'][number] | undefined;
    while (gre === undefined && Date.now() < end) {
      await sleep(200);
      gre = ((await get('/v1/agents')).json() as AgentView[]).find((a) => a.name === 'h1')?.capabilities.find((c) => (c as { kind: string }).kind === 'gre') as typeof gre;
    }
    t.match(gre, { available: false, undetermined: true, reason: /timed out after 30000 ms/ }, 'GET /v1/agents: undetermined came over gRPC, with the cause');
    const spec = { name: 'api-undetermined', hosts: ['h1', 'h2'], placement: 'multi-host', matrix: { tunnel: ['gre'], filter: ['none'], containers: [2] }, workloads: ['latency-basic'] };
    const dry = await app.inject({ method: 'POST', url: '/v1/experiments?dryRun=true', headers, payload: spec });
    t.equal(dry.statusCode, 200, dry.body);
    const plan = dry.json() as { cells: Array<{ tunnel: string }>; skipped: unknown[]; notes: string[] };
    t.same(plan.cells.map((c) => c.tunnel), ['gre'], 'the gre cell is planned');
    t.same(plan.skipped, [], 'not skipped as if the hosts lacked gre');
    for (const h of ['h1', 'h2']) t.ok(plan.notes.some((n) => new RegExp(`host '${h}': tunnel gre`).test(n)), `the plan names ${h}`);
    t.ok(plan.notes.some((n) => /host 'h1': tunnel gre was not determined when planned \(its probe met a failure that may pass: ip link add type gre: timed out after 30000 ms\)/.test(n)), `the plan says so: ${JSON.stringify(plan.notes)}`);
  });

  await t.test('an experiment submitted through the API runs on the agents and its result rows come back', async (t) => {
    const spec = {
      name: 'api-real',
      hosts: ['h1', 'h2'],
      placement: 'multi-host',
      matrix: { tunnel: ['none', 'vxlan'], filter: ['iptables'], containers: [2] },
      workloads: [{ 'latency-basic': { count: 4, interval: 0.2 } }],
      repetitions: { min: 2, max: 2 },
    };
    const submit = await app.inject({ method: 'POST', url: '/v1/experiments', headers, payload: spec });
    t.equal(submit.statusCode, 202, submit.body);
    const { id } = submit.json() as { id: string };
    t.equal(submit.headers['location'], `/v1/experiments/${id}`);

    let state = '';
    let progress: { runsDone: number; runsFailed: number; runsTotal: number } | undefined;
    const end = Date.now() + 120_000;
    while (Date.now() < end) {
      const r = await get(`/v1/experiments/${id}`);
      t.equal(r.status, 200);
      const body = r.json() as { state: string; progress: { runsDone: number; runsFailed: number; runsTotal: number }; error?: string };
      state = body.state;
      progress = body.progress;
      if (['succeeded', 'failed', 'cancelled'].includes(state)) {
        t.equal(body.error, undefined, 'no experiment error');
        break;
      }
      await sleep(200);
    }
    t.equal(state, 'succeeded', 'the experiment finished');
    t.same(progress, { runsDone: 4, runsFailed: 0, runsTotal: 4 }, '2 cells x 1 workload x 2 repetitions');

    const results = await get(`/v1/experiments/${id}/results`);
    t.equal(results.status, 200);
    const rows = results.json() as Array<{ experiment: string; cell: string; run: string; repetition: number; pair: string; metric: string; value: number; unit: string }>;
    const rtt = rows.filter((r) => r.metric === 'rtt_avg');
    t.ok(rtt.length >= 4, `rtt_avg rows for every run (${rtt.length})`);
    t.ok(rows.every((r) => r.experiment === id), 'every row belongs to the experiment');
    t.same(new Set(rtt.map((r) => r.run)).size, 4, 'every run has its rows');
    t.ok(rtt.every((r) => r.value === 2.5 || r.value === 3.5), 'the values are the ones the agents sent over gRPC');
    t.ok(rtt.every((r) => r.unit === 'ms'));

    const csv = await get(`/v1/experiments/${id}/results?format=csv`);
    t.equal(csv.status, 200);
    t.match(csv.type, /^text\/csv/);
    t.equal(csv.body.trim().split('\n').length, rows.length + 1, 'the CSV holds the same rows plus a header');

    const report = await get(`/v1/experiments/${id}/report`);
    t.equal(report.status, 200);
    t.match(report.body, /api-real/, 'the report names the experiment');

    const metrics = await get('/metrics');
    t.match(metrics.body, /runs_done(_total)?\S* 4\b/, '/metrics counts the finished runs');

    // What crossed the wire: the engine's Apply carried the host state, runs went to both agents.
    for (const s of [h1, h2]) {
      const applies = s.agent.calls.filter((c) => c.method === 'apply');
      t.ok(applies.length >= 2, `${s.agent.name} received Apply over gRPC`);
      t.ok(applies.some((c) => c.state?.tunnel.kind === 'vxlan'), `${s.agent.name} saw the vxlan cell's state`);
      t.ok(applies.every((c) => c.state?.filter.kind === 'iptables' && c.state.containers.length > 0), `${s.agent.name}'s states carry filter and containers`);
      t.ok(s.agent.calls.some((c) => c.method === 'runWorkload'), `${s.agent.name} ran workloads`);
      t.equal(s.agent.scopes.size, 0, `${s.agent.name}: every scope torn down`);
    }
    t.same(ctl.store.resultRows(id).length, rows.length, 'the store holds what the API returned');
  });
});
