import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test/helpers/redis.js';
import { ExperimentQueue } from '../src/queue/experiment-queue.js';
import { HostLocks } from '../src/queue/host-locks.js';
import { Engine } from '../src/engine/engine.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { openStore } from '../src/store/store.js';
import { FakePool } from './fake-agent.js';
import { cell, plan } from './fixtures.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('host locks: all or nothing, token-checked release, expiry frees a dead holder', async (t) => {
  const redis = await startRedis(t);
  const conn = new Redis(redis.url);
  t.teardown(() => conn.disconnect());
  const locks = new HostLocks(conn, `t${Date.now()}`);
  const a = await locks.acquire(['h1', 'h2'], 'expA', { ttlMs: 600 });
  const ac = new AbortController();
  const waiting = locks.acquire(['h2', 'h3'], 'expB', { ttlMs: 600, pollMs: 20, signal: ac.signal });
  await sleep(200);
  t.same(Object.keys(await locks.holders(['h1', 'h2', 'h3'])).sort(), ['h1', 'h2'], 'B took nothing while h2 is busy');
  t.ok(a.held, 'refresh keeps the lease alive past its ttl');
  await sleep(500);
  t.ok(a.held);
  await a.release();
  const b = await waiting;
  t.same(Object.keys(await locks.holders(['h1', 'h2', 'h3'])).sort(), ['h2', 'h3']);
  await a.release();
  t.equal((await locks.holders(['h2']))['h2'], b.token, 'a second release by A does not free B');
  // A holder that dies stops refreshing: its keys expire.
  await conn.set(locks.key('h9'), 'dead-owner', 'PX', 300);
  const c = await locks.acquire(['h9'], 'expC', { ttlMs: 600, pollMs: 20 });
  t.ok(c.held);
  await b.release();
  await c.release();
  ac.abort();
});

t.test('experiments sharing a host never overlap; disjoint ones run side by side; duplicates make one job', async (t) => {
  const redis = await startRedis(t);
  const hosts: Record<string, string[]> = { a: ['h1', 'h2'], b: ['h2', 'h3'], c: ['h4', 'h5'] };
  const spans: Record<string, [number, number]> = {};
  const q = new ExperimentQueue({
    redisUrl: redis.url,
    concurrency: 3,
    hostsOf: (id) => hosts[id]!,
    handler: async (id) => {
      const start = Date.now();
      await sleep(400);
      spans[id] = [start, Date.now()];
      return 'succeeded';
    },
  });
  t.teardown(() => q.close());
  await q.enqueue('a');
  await q.enqueue('a');
  await q.enqueue('b');
  await q.enqueue('c');
  t.equal(await q.depth(), 3, 'the duplicate submit made no second job');
  q.start();
  for (let i = 0; i < 100 && Object.keys(spans).length < 3; i++) await sleep(50);
  t.same(Object.keys(spans).sort(), ['a', 'b', 'c']);
  const [a, b, c] = [spans['a']!, spans['b']!, spans['c']!];
  t.ok(a[1] <= b[0] || b[1] <= a[0], 'a and b (sharing h2) did not overlap');
  const overlaps = (x: [number, number], y: [number, number]): boolean => x[0] < y[1] && y[0] < x[1];
  t.ok(overlaps(c, a) || overlaps(c, b), 'c (disjoint hosts) ran alongside');
  for (let i = 0; i < 40 && (await q.depth()) > 0; i++) await sleep(50);
  t.equal(await q.depth(), 0);
});

t.test('the same job delivered twice stores one result per run', async (t) => {
  const redis = await startRedis(t);
  const dir = mkdtempSync(join(tmpdir(), 'sn-queue-'));
  const store = openStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pool = new FakePool(['h1', 'h2']);
  const p = plan('dup1', { cells: [cell(0), cell(1, { containers: 4 })], repetitions: { min: 2, max: 2, ciRelWidth: 1 } });
  store.createExperiment(p, {});
  const engine = new Engine({ store, agents: pool, secrets: NO_SECRETS, options: { metricsIntervalMs: 20, cancelPollMs: 20 } });
  const q = new ExperimentQueue({
    redisUrl: redis.url,
    hostsOf: () => p.hosts,
    isFinished: (id) => ['succeeded', 'failed', 'cancelled'].includes(store.requireExperiment(id).state),
    handler: (id, signal) => engine.run(id, signal),
  });
  t.teardown(() => q.close());
  const both = await Promise.all([q.process('dup1'), q.process('dup1')]);
  t.same([...both].sort(), ['finished', 'succeeded'], 'the second delivery waited for the host locks, then found the experiment done');
  const started = pool.get('h1').runsStarted();
  t.equal(started.length, 4);
  t.equal(new Set(started).size, 4, 'no run was measured twice');
  t.equal(store.resultRows('dup1').filter((r) => r.metric === 'rtt_avg').length, 2 + 4);
});

t.test('a restart puts a job that ran out of attempts back in line', async (t) => {
  const redis = await startRedis(t);
  let calls = 0;
  const q = new ExperimentQueue({
    redisUrl: redis.url,
    hostsOf: () => ['h1'],
    handler: async () => {
      calls++;
      if (calls === 1) throw new Error('store unavailable');
      return 'succeeded';
    },
  });
  t.teardown(() => q.close());
  await q.queue.add('experiment', { id: 'x1' }, { jobId: 'x1', attempts: 1, removeOnFail: 100 });
  q.start();
  for (let i = 0; i < 100 && !(await q.queue.getJob('x1').then((j) => j?.isFailed())); i++) await sleep(50);
  t.equal(await (await q.queue.getJob('x1'))?.getState(), 'failed');
  await q.ensureJob('x1');
  for (let i = 0; i < 100 && calls < 2; i++) await sleep(50);
  t.equal(calls, 2, 'the failed job ran again');
  await q.ensureJob('x2');
  t.ok(await q.hasJob('x2'), 'a missing job is added');
});
