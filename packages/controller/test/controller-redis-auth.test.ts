// Redis behind a password only the controller knows: it reads the password from
// redis.passwordFile and the queue works; a client without it gets NOAUTH.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedis } from '../../../test/helpers/redis.js';
import { parseControllerConfig, readRedisPassword } from '../src/config.js';
import { startController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { FakeAgent } from './fake-agent.js';

t.test('the controller logs in to Redis with the password from its file', async (t) => {
  const password = 'pw-' + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  const redis = await startRedis(t, { password });
  const dir = mkdtempSync(join(tmpdir(), 'sn-rauth-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'redis-password'), `${password}\n`, { mode: 0o600 });

  const anon = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true, enableReadyCheck: false });
  t.teardown(() => anon.disconnect());
  await anon.connect().catch(() => undefined);
  await t.rejects(anon.get('x'), /NOAUTH/, 'Redis refuses a client without the password');

  const base = { redis: { url: redis.url, passwordFile: 'redis-password' }, store: join(dir, 'store'), agents: [{ name: 'h1', address: '127.0.0.1:7000', tls: { ca: 'a', cert: 'b', key: 'c' } }], healthIntervalMs: 200 };
  const config = parseControllerConfig(base, dir);
  t.equal(config.redis.passwordFile, join(dir, 'redis-password'));
  t.equal(readRedisPassword(config), password);
  t.throws(() => readRedisPassword(parseControllerConfig({ ...base, redis: { url: redis.url, passwordFile: 'missing' } }, dir)), { code: 'INVALID_ARGUMENT', field: 'redis.passwordFile' });
  writeFileSync(join(dir, 'empty'), '\n');
  t.throws(() => readRedisPassword(parseControllerConfig({ ...base, redis: { url: redis.url, passwordFile: 'empty' } }, dir)), { code: 'INVALID_ARGUMENT', message: /is empty/ });

  const ctl = await startController(config, { connect: () => new FakeAgent('h1', '198.18.0.1'), secrets: NO_SECRETS, noWorker: true });
  t.teardown(() => ctl.stop());
  const { id } = await ctl.service.submit({ name: 'auth', hosts: ['h1'], placement: 'single-host', workloads: ['latency-basic'], repetitions: { min: 1, max: 1 } });
  t.equal(await ctl.queue.depth(), 1, `experiment ${id} is in the password-protected queue`);
});
