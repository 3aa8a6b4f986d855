import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { streamMetrics, validateMetricsRequest, type MetricsDeps } from '../src/metrics/index.js';
import type { MetricsSample } from '../src/gen/seconet/agent/v1/MetricsSample.js';
import type { HostEnv } from '../src/host-env.js';
import { createTwoNetns } from './fixtures/two-netns.js';
import { ExecRunner } from '../src/runner/runner.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const env = (hostNetns?: string): HostEnv => ({
  name: 'h1',
  prefix: 'snzz',
  hostNetns,
  stateDir: '/tmp/unused',
  runDir: '/tmp/unused',
  bpffs: '/tmp/unused',
  underlayDev: 'eth0',
  underlayAddress: '198.18.0.1',
  underlayMtu: 1500,
});

t.test('request validation names the field', async (t) => {
  t.throws(() => validateMetricsRequest({ intervalMs: 50, scope: '', buffer: 0 }), { code: 'INVALID_ARGUMENT', field: 'intervalMs' });
  t.throws(() => validateMetricsRequest({ intervalMs: 0, scope: 'Bad Scope', buffer: 0 }), { code: 'INVALID_ARGUMENT', field: 'scope' });
  t.throws(() => validateMetricsRequest({ intervalMs: 0, scope: '', buffer: 100000 }), { code: 'INVALID_ARGUMENT', field: 'buffer' });
  t.same(validateMetricsRequest({ intervalMs: 0, scope: '', buffer: 0 }), { intervalMs: 1000, buffer: 60 });
});

t.test('live: host and container interfaces, sane percents, anchors gone after the stream', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const lab = await createTwoNetns();
  t.teardown(() => lab.destroy());
  const deps: MetricsDeps = {
    env: env(lab.b.netns), // the lab case: the "host" is a namespace
    runner: lab.runner,
    log: pino({ level: 'silent' }),
    scopeNamespaces: (scope) => (scope === 'sc1' ? [lab.a.netns] : []),
  };
  const ac = new AbortController();
  const ping = lab.runner.spawn(['ping', '-n', '-q', '-i', '0.01', '-s', '1000', lab.b.spec.address], { netns: lab.a.netns });
  t.teardown(() => ping.stop());
  const samples: MetricsSample[] = [];
  for await (const s of streamMetrics(deps, { intervalMs: 200, scope: 'sc1', buffer: 0 }, ac.signal)) {
    samples.push(s);
    if (samples.length === 8) ac.abort();
  }
  t.equal(samples.length, 8);
  for (const s of samples) {
    const c = s.cpu!;
    const sum = [c.usr, c.sys, c.idle, c.wai, c.hiq, c.siq, c.stl].reduce<number>((a, v) => a + Number(v), 0);
    t.ok(Math.abs(sum - 100) < 0.5, `cpu sums to ~100 (${sum.toFixed(2)})`);
    t.ok(Number(s.intervalS) > 0.1 && Number(s.intervalS) < 1.5, `interval ${s.intervalS}`);
    for (const i of s.interfaces ?? []) {
      for (const k of ['rxBytesPerS', 'txBytesPerS', 'rxPacketsPerS', 'txPacketsPerS'] as const) t.ok(Number(i[k]) >= 0);
    }
  }
  const late = samples.slice(2);
  const hostEth0 = late.map((s) => s.interfaces!.find((i) => i.netns === '' && i.name === 'eth0'));
  const contEth0 = late.map((s) => s.interfaces!.find((i) => i.netns === lab.a.netns && i.name === 'eth0'));
  // Every sample lists both interfaces; the rates are judged on their mean, since a loaded
  // machine may stall the 100 pings/s sender for a whole 200 ms interval now and then.
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  t.ok(hostEth0.every((i) => i !== undefined) && contEth0.every((i) => i !== undefined), 'host and container eth0 in every sample');
  t.ok(mean(hostEth0.map((i) => Number(i?.rxBytesPerS ?? 0))) > 10_000, 'host namespace eth0 receives the pings');
  t.ok(mean(contEth0.map((i) => Number(i?.txBytesPerS ?? 0))) > 10_000, 'container eth0 sends them');
  await ping.stop();
  // Only the ping's namespace peer (none) should remain: the anchors are gone.
  await sleep(100);
  t.same(await lab.pids(), [], 'no anchor process left in the namespaces');
});

t.test('live: a deleted container namespace is let go at the next sample', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const lab = await createTwoNetns();
  t.teardown(() => lab.destroy());
  let nsList = [lab.a.netns, lab.b.netns];
  const deps: MetricsDeps = { env: env(undefined), runner: lab.runner, log: pino({ level: 'silent' }), scopeNamespaces: () => nsList };
  const ac = new AbortController();
  let anchorPid = 0;
  let after: MetricsSample | undefined;
  let n = 0;
  for await (const s of streamMetrics(deps, { intervalMs: 200, scope: 'sc1', buffer: 0 }, ac.signal)) {
    n++;
    if (n === 3) {
      t.ok(s.interfaces!.some((i) => i.netns === lab.a.netns), 'container a is sampled');
      const pids = (await lab.runner.run(['ip', 'netns', 'pids', lab.a.netns])).stdout.trim().split('\n').filter(Boolean);
      t.equal(pids.length, 1, 'one anchor lives in namespace a');
      anchorPid = Number(pids[0]);
      await lab.runner.run(['ip', 'netns', 'del', lab.a.netns]);
      nsList = [lab.b.netns, lab.a.netns]; // still listed: the deletion alone must be noticed
    }
    if (n === 6) {
      after = s;
      ac.abort();
    }
  }
  t.notOk(after!.interfaces!.some((i) => i.netns === lab.a.netns), 'its interfaces are gone from the samples');
  t.ok(after!.interfaces!.some((i) => i.netns === lab.b.netns), 'the other namespace is still sampled');
  let alive = true;
  try {
    process.kill(anchorPid, 0);
  } catch {
    alive = false;
  }
  t.notOk(alive, `the anchor (pid ${anchorPid}) no longer holds the deleted namespace`);
});

t.test('a slow reader sees merged and dropped samples, memory stays bounded', async (t) => {
  const deps: MetricsDeps = { env: env(undefined), runner: new ExecRunner(), log: pino({ level: 'silent' }), scopeNamespaces: () => [] };
  const ac = new AbortController();
  const it = streamMetrics(deps, { intervalMs: 100, scope: '', buffer: 3 }, ac.signal)[Symbol.asyncIterator]();
  const first = await it.next();
  t.notOk(first.done);
  await sleep(3500); // ~35 intervals while nobody reads
  const got: MetricsSample[] = [];
  for (let i = 0; i < 3; i++) got.push((await it.next()).value as MetricsSample);
  const covered = got.reduce((a, s) => a + Number(s.intervalS), 0);
  const merged = got.reduce((a, s) => a + Number(s.merged), 0);
  t.ok(merged > 0, `samples were merged (${merged})`);
  t.ok(Number(got[2]!.dropped) > 0, `samples were dropped (${got[2]!.dropped})`);
  t.ok(covered > 0.8, `the held samples cover the recent seconds (${covered.toFixed(2)} s)`);
  ac.abort();
  await it.return?.(undefined);
});
