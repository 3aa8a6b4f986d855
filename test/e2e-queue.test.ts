// End to end, scheduling: on a four-host lab with real agents, experiments on disjoint hosts
// measure side by side while one sharing a host with them waits; a cancelled experiment stops
// mid-sweep, keeps its finished runs and leaves nothing on the hosts.
import t from 'tap';
import { ExecRunner } from '@seconet/agent';
import { startController, type RunningController } from '@seconet/controller';
import { startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const spec = (name: string, hosts: string[], reps: number) => ({
  name,
  hosts,
  matrix: { filter: ['iptables'], containers: [2] },
  workloads: [{ 'latency-basic': { duration: 1.5, count: 6, interval: 0.25 } }],
  repetitions: { min: reps, max: reps },
});

async function done(ctl: RunningController, id: string, ms = 300_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await ctl.service.get(id);
    if (['succeeded', 'failed', 'cancelled'].includes(s.state) || Date.now() > end) return s.state;
    await sleep(250);
  }
}

function span(ctl: RunningController, id: string): [number, number] {
  const runs = ctl.store.runs(id);
  return [Math.min(...runs.map((r) => Date.parse(r.startedAt ?? ''))), Math.max(...runs.map((r) => Date.parse(r.finishedAt ?? '')))];
}

t.test('host locks with real agents: disjoint experiments overlap, a shared host serializes; cancel', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 4);
  const ctl = await startController(lab.controllerConfig({ worker: { concurrency: 3 }, engine: { metricsIntervalMs: 500 } }));
  t.teardown(() => ctl.stop());
  const a = await ctl.service.submit(spec('e2e-a', ['h1', 'h2'], 3));
  const b = await ctl.service.submit(spec('e2e-b', ['h3', 'h4'], 3));
  const c = await ctl.service.submit(spec('e2e-c', ['h2', 'h3'], 2));
  for (const x of [a, b, c]) t.equal(await done(ctl, x.id), 'succeeded', `${x.id} succeeded`);
  const [sa, sb, sc] = [span(ctl, a.id), span(ctl, b.id), span(ctl, c.id)];
  const overlaps = (x: [number, number], y: [number, number]): boolean => x[0] < y[1] && y[0] < x[1];
  t.ok(overlaps(sa, sb), 'a (h1,h2) and b (h3,h4) measured side by side');
  t.notOk(overlaps(sa, sc), 'c (h2,h3) never measured while a held h2');
  t.notOk(overlaps(sb, sc), 'c never measured while b held h3');
  t.ok(ctl.store.eventsAfter(c.id, 0).some((e) => String(e.data['message'] ?? '').startsWith('waiting for hosts')), 'c said what it waited for');

  const d = await ctl.service.submit(spec('e2e-d', ['h1', 'h4'], 8));
  for (let i = 0; i < 600 && (await ctl.service.get(d.id)).progress.runsDone < 2; i++) await sleep(100);
  const cancelled = await ctl.service.cancel(d.id);
  t.ok(['running', 'cancelled'].includes(cancelled.state));
  t.equal(await done(ctl, d.id, 60_000), 'cancelled');
  const runs = ctl.store.runs(d.id);
  t.ok(runs.filter((r) => r.state === 'succeeded').length >= 2, 'finished runs stay');
  t.ok(runs.some((r) => r.state === 'pending'), 'the rest never ran');
  t.notOk(runs.some((r) => r.state === 'running'));
  const prefixes = lab.topo.hosts.map((h) => h.prefix);
  const ns = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => prefixes.some((p) => l.startsWith(p)));
  t.same(ns, [], 'nothing left on the hosts');
});
