import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../../../test/helpers/redis.js';
import { parseControllerConfig } from '../src/config.js';
import { startController, type RunningController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import type { ProgressEvent } from '../src/service.js';
import { FakeAgent } from './fake-agent.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function boot(t: { teardown(fn: () => unknown): void }, fakes: Map<string, FakeAgent>): Promise<RunningController> {
  const redis = await startRedis(t);
  const dir = mkdtempSync(join(tmpdir(), 'sn-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseControllerConfig({
    redis: redis.url,
    store: dir,
    agents: [...fakes.keys()].map((name, i) => ({ name, address: `127.0.0.1:${7000 + i}`, tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } })),
    engine: { metricsIntervalMs: 100, cancelPollMs: 50, retryDelayMs: 10 },
    healthIntervalMs: 200,
  }, dir);
  const ctl = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS });
  t.teardown(() => ctl.stop());
  return ctl;
}

async function until(fn: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await sleep(50);
  }
  throw new Error('condition not reached');
}

const spec = {
  name: 'svc-test',
  hosts: ['h1', 'h2'],
  matrix: { filter: ['none', 'iptables'], containers: [2, 4] },
  workloads: [{ 'latency-basic': { duration: 0.5 } }, { 'throughput-basic': { duration: 0.5 } }],
  repetitions: { min: 1, max: 1 },
};

t.test('submit -> queue -> engine -> results, events and report', async (t) => {
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1')], ['h2', new FakeAgent('h2', '198.18.0.2')]]);
  const ctl = await boot(t, fakes);
  const plan = await ctl.service.plan(spec);
  t.equal(plan.cells.length, 4);
  t.equal(plan.runs.length, 8);
  t.ok(plan.runs.every((r) => r.workload.kind !== 'throughput-basic' || r.workload.engine === 'iperf3'), 'iperf3 chosen explicitly where uperf is missing');
  const { id } = await ctl.service.submit(spec);
  t.match(id, /^svc-test-[0-9a-f]{6}$/);
  await until(async () => (await ctl.service.get(id)).state === 'succeeded');
  const s = await ctl.service.get(id);
  t.same(s.progress, { runsDone: 8, runsFailed: 0, runsTotal: 8 });
  const rows = await ctl.service.results(id);
  t.ok(rows.some((r) => r.workload_kind === 'throughput-basic' && r.engine === 'iperf3' && r.metric === 'throughput'));
  const events: ProgressEvent[] = [];
  const ac = new AbortController();
  for await (const e of ctl.service.events(id, 0, ac.signal)) events.push(e);
  t.ok(events.some((e) => e.type === 'log' && String(e.data['message']).includes('throughput-basic uses iperf3')));
  t.equal(events.at(-1)?.data['state'], 'succeeded', 'the stream ends with the terminal state');
  const resumed: ProgressEvent[] = [];
  for await (const e of ctl.service.events(id, events.length - 2, ac.signal)) resumed.push(e);
  t.same(resumed.map((e) => e.id), [events.length - 1, events.length], 'resume after Last-Event-ID');
  t.match(await ctl.service.report(id), /<html/i);
  const m = await ctl.service.metrics();
  t.equal(m.agentsTotal, 2);
  t.equal(m.runsDone, 8);
  t.equal((await ctl.service.list()).length, 1);
  const agents = await ctl.service.agents();
  t.ok(agents.every((a) => a.healthy));
});

t.test('bad specs and unknown ids give errors naming the field', async (t) => {
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1')], ['h2', new FakeAgent('h2', '198.18.0.2')]]);
  const ctl = await boot(t, fakes);
  await t.rejects(ctl.service.submit({ ...spec, hosts: ['h1', 'nope'] }), { code: 'UNSUPPORTED', field: 'hosts[1]' });
  await t.rejects(ctl.service.submit({ name: 'x', workloads: ['latency-basic'], matrix: { tunnel: ['wiregaurd'] } }), { code: 'INVALID_SPEC' });
  await t.rejects(ctl.service.get('missing'), { code: 'NOT_FOUND' });
  await t.rejects(ctl.service.submit({ ...spec, matrix: { tunnel: ['openvpn'] } }), { code: 'UNSUPPORTED', field: 'matrix' }, 'nothing runnable: rejected before the first run');
  t.equal((await ctl.service.list()).length, 0, 'nothing stored for rejected specs');
});

t.test('cancel: a queued experiment never starts, a running one stops and keeps finished runs', async (t) => {
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1', { sourceDelayMs: 150 })], ['h2', new FakeAgent('h2', '198.18.0.2', { sourceDelayMs: 150 })]]);
  const ctl = await boot(t, fakes);
  const long = { ...spec, repetitions: { min: 10, max: 10 } };
  const a = await ctl.service.submit(long);
  const b = await ctl.service.submit(long);
  await until(async () => (await ctl.service.get(a.id)).progress.runsDone >= 2);
  const cb = await ctl.service.cancel(b.id);
  t.equal(cb.state, 'cancelled', 'b waited for the hosts a holds and is cancelled at once');
  await ctl.service.cancel(a.id);
  await until(async () => (await ctl.service.get(a.id)).state === 'cancelled');
  const sa = await ctl.service.get(a.id);
  t.ok(sa.progress.runsDone >= 2, 'finished runs stay');
  t.equal((await ctl.service.get(b.id)).progress.runsDone, 0);
  t.equal(fakes.get('h1')!.scopes.size, 0, 'torn down after cancel');
});

t.test('a graceful stop hands the running experiment back; the next controller resumes it at once', async (t) => {
  const redis = await startRedis(t);
  const dir = mkdtempSync(join(tmpdir(), 'sn-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1', { sourceDelayMs: 200 })], ['h2', new FakeAgent('h2', '198.18.0.2', { sourceDelayMs: 200 })]]);
  const config = parseControllerConfig({
    redis: redis.url,
    store: dir,
    agents: [...fakes.keys()].map((name, i) => ({ name, address: `127.0.0.1:${7000 + i}`, tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } })),
    engine: { metricsIntervalMs: 100, cancelPollMs: 50 },
    worker: { lockDurationMs: 30_000, hostLockTtlMs: 30_000 },
  }, dir);
  const first = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS });
  const { id } = await first.service.submit({ ...spec, repetitions: { min: 4, max: 4 } });
  await until(async () => (await first.service.get(id)).progress.runsDone >= 3);
  await first.stop();
  const second = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS });
  t.teardown(() => second.stop());
  const t0 = Date.now();
  await until(async () => (await second.service.get(id)).state === 'succeeded', 60_000);
  t.ok(Date.now() - t0 < 25_000, 'resumed without waiting for lock expiry');
  const runs = second.store.runs(id);
  t.equal(runs.length, 32);
  t.ok(runs.every((r) => r.state === 'succeeded'));
  const started = fakes.get('h1')!.runsStarted();
  t.equal(started.length, new Set(started).size + runs.filter((r) => r.attempts > 1).length, 'only the interrupted run started twice');
  t.ok(runs.filter((r) => r.attempts > 1).length <= 1);
});
