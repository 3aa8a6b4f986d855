// Found by the soak: with Redis paused longer than the host locks' TTL, the locks expired, the
// next queued experiment took the hosts, and the first went on measuring on them: the two
// experiments' scopes collided and whole cells failed. Now a refresh that finds the lease gone
// aborts the running experiment (its runs are left to be retried) and hands its job back.
import t from 'tap';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test/helpers/redis.js';
import { ExperimentQueue, LeaseLost } from '../src/queue/experiment-queue.js';
import { HostLocks } from '../src/queue/host-locks.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a lease taken over by another holder calls onLost once', async (t) => {
  const redis = await startRedis(t);
  const conn = new Redis(redis.url);
  t.teardown(() => conn.disconnect());
  const locks = new HostLocks(conn, `t${Date.now()}`);
  let lost = 0;
  const a = await locks.acquire(['h1', 'h2'], 'expA', { ttlMs: 600, onLost: () => lost++ });
  await sleep(400);
  t.equal(lost, 0, 'refreshes keep it');
  await conn.set(locks.key('h2'), 'expB:other', 'PX', 5000);
  await sleep(500);
  t.equal(lost, 1, 'a refresh noticed the other holder');
  t.notOk(a.held);
  await sleep(400);
  t.equal(lost, 1, 'once');
  await a.release();
});

t.test('process(): the handler is aborted when its lease is lost, and the delivery ends with LeaseLost', async (t) => {
  const redis = await startRedis(t);
  let sawAbort = false;
  const q = new ExperimentQueue({
    redisUrl: redis.url,
    prefix: `lease${Date.now()}`,
    hostLockTtlMs: 600,
    hostsOf: () => ['h1'],
    handler: async (_id, signal) => {
      await new Promise<void>((resolve) => {
        const t0 = setTimeout(resolve, 10_000);
        signal.addEventListener('abort', () => {
          clearTimeout(t0);
          sawAbort = true;
          resolve();
        }, { once: true });
      });
      return 'running';
    },
  });
  t.teardown(() => q.close());
  const delivery = q.process('e1');
  await sleep(300);
  await q.connection.set(q.locks.key('h1'), 'someone-else', 'PX', 5000);
  await t.rejects(delivery, LeaseLost);
  t.ok(sawAbort, 'the handler saw its signal abort');
});
