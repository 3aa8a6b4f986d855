// One real agent on a lab host, driven only through the typed client over mutual TLS, the way
// the controller drives it: Apply two containers on a bridge, Check, run iperf3 sink then
// source, sample host metrics, Teardown twice. Nothing of the agent's may remain.

import t from 'tap';
import { connectAgent } from '../src/client/client.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { ExecRunner } from '../src/runner/runner.js';
import { startAgent } from '../src/server/server.js';
import type { WorkloadEvent__Output } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import type { RunWorkloadRequest } from '../src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import { agentConfig, makePki, tmpDir } from './server-helpers.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();

async function owned(prefix: string, hostNetns: string): Promise<string[]> {
  const ns = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '');
  const links = (JSON.parse((await runner.run(['ip', '-n', hostNetns, '-j', 'link', 'show'])).stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname);
  return [...ns, ...links].filter((n) => n.startsWith(prefix));
}

t.test('Apply, Check, RunWorkload, StreamMetrics and Teardown through the client', { timeout: 240_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  t.teardown(async () => {
    for (const ns of (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(host.prefix))) {
      await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    }
    await destroyLab(runner, lab);
  });
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const agent = await startAgent(agentConfig(pki, dir, 'h1', host.prefix, { hostNetns: host.netns, underlay: { dev: host.underlayDev, address: host.underlayAddress } }));
  t.teardown(() => agent.stop());
  const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
  t.teardown(() => c.close());

  const state = { network: 'bridge', containerCidr: '198.19.1.0/24', containers: [{ name: 'src', address: '198.19.1.2' }, { name: 'dst', address: '198.19.1.3' }] };
  const applied = await c.apply({ requestId: 'e2e-apply-1', scope: 'e2e', state });
  t.equal(applied.changed, true);
  t.same(applied.containers.map((x) => x.name).sort(), ['dst', 'src']);
  t.ok(applied.timings.some((x) => x.component === 'containers' && x.seconds > 0), 'setup time of the containers reported');
  const again = await c.apply({ requestId: 'e2e-apply-2', scope: 'e2e', state });
  t.equal(again.changed, false, 'the same state again is a no-op');
  t.match(await c.check({ scope: 'e2e' }), { inSync: true, known: true });
  t.same((await c.getInfo()).scopes, ['e2e']);

  const base: RunWorkloadRequest = {
    scope: 'e2e',
    runId: 'run-1',
    workload: { kind: 'iperf3', engine: 'iperf3', protocol: 'tcp', durationMs: 1000 },
    pairs: [{ pair: 'p0', sourceContainer: 'src', sourceAddress: '198.19.1.2', sinkContainer: 'dst', sinkAddress: '198.19.1.3', port: 5201 }],
  };
  const sinkAc = new AbortController();
  const sinkEvents: WorkloadEvent__Output[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const sinkDone = (async () => {
    for await (const e of c.runWorkload({ ...base, requestId: 'e2e-sink', role: 'ROLE_SINK' }, { signal: sinkAc.signal })) {
      sinkEvents.push(e);
      if (e.ready || e.error) onReady();
    }
  })();
  await Promise.race([ready, sinkDone]);
  t.match(sinkEvents[0], { event: 'ready', ready: { pairs: ['p0'] } }, 'sink ready');

  const metrics = (async () => {
    const ac = new AbortController();
    const got = [];
    for await (const s of c.streamMetrics({ intervalMs: 300, scope: 'e2e' }, { signal: ac.signal })) {
      got.push(s);
      if (got.length === 3) ac.abort();
    }
    return got;
  })();

  const events: WorkloadEvent__Output[] = [];
  for await (const e of c.runWorkload({ ...base, requestId: 'e2e-source', role: 'ROLE_SOURCE' })) events.push(e);
  sinkAc.abort();
  await sinkDone;
  const result = events.find((e) => e.event === 'result')?.result;
  t.ok(result, `a result arrived (events: ${events.map((e) => e.event).join(',')})`);
  const tput = result?.metrics.find((m) => m.name === 'throughput' && m.flow === '');
  t.ok(tput && tput.value > 1e6, `throughput measured through the bridge: ${tput?.value} ${tput?.unit}`);

  const samples = await metrics;
  t.equal(samples.length, 3);
  t.ok(samples.every((s) => s.cpu !== null && s.interfaces.length > 0), 'samples carry cpu and interfaces');
  t.ok(samples.some((s) => s.interfaces.some((i) => i.netns.startsWith(host.prefix))), 'container interfaces are sampled');

  const down = await c.teardown({ requestId: 'e2e-down-1', scope: 'e2e' });
  t.ok(down.removed.length > 0, `teardown removed ${down.removed.length} objects`);
  await c.teardown({ requestId: 'e2e-down-2', scope: 'e2e' });
  t.match(await c.check({ scope: 'e2e' }), { known: false });
  t.same(await owned(host.prefix, host.netns), [], 'nothing with the agent prefix remains');
});
