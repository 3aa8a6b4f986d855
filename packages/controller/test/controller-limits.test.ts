// What one submission may ask of the controller: a spec estimated past limits.maxEstimatedSeconds
// is refused with the estimate named; while limits.maxQueued experiments wait, a submission is
// refused. The queue and store are real (Redis, SQLite); agents are fakes.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../../../test/helpers/redis.js';
import { parseControllerConfig } from '../src/config.js';
import { startController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { buildApi } from '../src/api/build-api.js';
import { FakeAgent } from './fake-agent.js';

const spec = (name: string, durations = 0.5) => ({
  name,
  hosts: ['h1', 'h2'],
  workloads: [{ 'latency-basic': { duration: durations } }],
  repetitions: { min: 1, max: 1 },
});

t.test('estimate and queue caps', async (t) => {
  const redis = await startRedis(t);
  const dir = mkdtempSync(join(tmpdir(), 'sn-lim-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseControllerConfig({
    redis: redis.url,
    store: dir,
    agents: ['h1', 'h2'].map((name, i) => ({ name, address: `127.0.0.1:${7000 + i}`, tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } })),
    healthIntervalMs: 200,
    limits: { maxEstimatedSeconds: 3600, maxQueued: 2 },
  }, dir);
  t.same(parseControllerConfig({}, dir).limits, { maxEstimatedSeconds: 604800, maxQueued: 100 }, 'defaults: a week, 100 queued');
  t.throws(() => parseControllerConfig({ limits: { maxQueued: 0 } }, dir), { code: 'INVALID_ARGUMENT', field: 'limits.maxQueued' });
  const fakes = new Map([['h1', new FakeAgent('h1', '198.18.0.1')], ['h2', new FakeAgent('h2', '198.18.0.2')]]);
  const ctl = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS, noWorker: true });
  t.teardown(() => ctl.stop());
  const app = await buildApi({ service: ctl.service, tokens: ['t'.repeat(32)], rateLimit: false });
  t.teardown(() => app.close());
  const post = (body: unknown, dry = false) => app.inject({ method: 'POST', url: `/v1/experiments${dry ? '?dryRun=true' : ''}`, headers: { authorization: `Bearer ${'t'.repeat(32)}` }, payload: body as object });

  // 3 repetitions of a 1500 s workload on 1 cell: over an hour.
  const long = { ...spec('too-long', 1500), repetitions: { min: 1, max: 3 } };
  for (const dry of [false, true]) {
    const r = await post(long, dry);
    t.equal(r.statusCode, 400, `dryRun=${dry}`);
    t.match(r.json(), { code: 'INVALID_SPEC', field: 'matrix', message: /estimated at \d+ s \(1\.\d h\) at max repetitions \(\d+ s at min\); the controller accepts at most 3600 s \(1\.0 h, limits\.maxEstimatedSeconds\)/ });
  }
  t.equal(ctl.store.listExperiments().length, 0, 'nothing was stored');

  t.equal((await post(spec('q1'))).statusCode, 202);
  t.equal((await post(spec('q2'))).statusCode, 202);
  const third = await post(spec('q3'));
  t.equal(third.statusCode, 429);
  t.match(third.json(), { code: 'RATE_LIMITED', message: /2 experiments are already queued \(limits\.maxQueued 2\)/ });
  t.equal(ctl.store.listExperiments().length, 2);
  t.same(ctl.store.experimentCounts(), { queued: 2 });
});
