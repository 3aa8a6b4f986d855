// A pre-flight-sized call through the real agent: 300 client containers ping one server in one
// RunWorkload call over mutual TLS, the way the controller's pre-flight probes a clients-scale
// cell. At 1,000 clients this call ended "UNAVAILABLE: Connection dropped" for every pair: the
// agent held its event loop while it resolved each pair's container (quadratic) and forked
// every ping in one tick, past the client's 5 s keepalive timeout. The agent runs in this
// process, so the longest event-loop gap seen here is the agent's.

import t from 'tap';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { nthHost } from '@seconet/core';
import { connectAgent } from '../src/client/client.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { ExecRunner } from '../src/runner/runner.js';
import { startAgent } from '../src/server/server.js';
import type { WorkloadEvent__Output } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import { agentConfig, makePki, tmpDir } from './server-helpers.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();
const CLIENTS = 300;
const CIDR = '198.19.4.0/22';

t.test(`${CLIENTS} pings to one server in one call: every pair answers, the loop stays free`, { timeout: 180_000 }, async (t) => {
  if (!requireRoot(t, 'namespaces')) return;
  if (!requireTool(t, 'ping', 'the pre-flight probe')) return;
  const lab = await createLab(runner, randomLabId(), 1);
  const host = lab.hosts[0]!;
  const pki = await makePki(t, ['h1']);
  const dir = tmpDir(t);
  const agent = await startAgent(agentConfig(pki, dir, 'h1', host.prefix, { hostNetns: host.netns, underlay: { dev: host.underlayDev, address: host.underlayAddress } }));
  const c = connectAgent({ name: 'h1', address: agent.address, tls: { ca: pki.ca.cert, cert: pki.controller.cert, key: pki.controller.key } });
  t.teardown(async () => {
    await c.teardown({ requestId: 'many-td', scope: 'many' }).catch(() => undefined);
    c.close();
    await agent.stop();
    for (const ns of (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(host.prefix))) {
      await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    }
    await destroyLab(runner, lab);
  });

  const containers = [{ name: 'srv', address: nthHost(CIDR, 2) }, ...Array.from({ length: CLIENTS }, (_, i) => ({ name: `cli${i}`, address: nthHost(CIDR, i + 3) }))];
  await c.apply({ requestId: 'many-apply', scope: 'many', state: { network: 'bridge', containerCidr: CIDR, containers } }, { deadlineMs: 120_000 });

  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const events: WorkloadEvent__Output[] = [];
  const t0 = performance.now();
  try {
    const req = {
      requestId: 'many-ping',
      scope: 'many',
      runId: 'pre-many',
      role: 'ROLE_SOURCE' as const,
      workload: { kind: 'latency-basic', engine: 'ping', payload: 56, durationMs: 2000, params: { count: '2', interval: '0.2' } },
      pairs: containers.slice(1).map((x, i) => ({ pair: `c${i}`, sourceContainer: x.name, sourceAddress: x.address, sinkContainer: 'srv', sinkAddress: containers[0]!.address, port: 5201 })),
      // What the controller's pre-flight sends for 300 pairs: duration + 20 s margin + 200 ms per
      // pair beyond 16 (run-workload.ts; the agent's own default adds the same per-pair allowance).
      timeoutMs: 2000 + 20_000 + (CLIENTS - 16) * 200,
    };
    for await (const e of c.runWorkload(req)) events.push(e);
  } finally {
    loop.disable();
  }
  const maxGap = loop.max / 1e6;
  const wallS = (performance.now() - t0) / 1000;
  const errors = events.filter((e) => e.error).map((e) => `${e.error!.pair}: ${e.error!.code} ${e.error!.message}`);
  t.same(errors.slice(0, 5), [], 'no pair failed');
  const answered = events.filter((e) => e.result && e.result.metrics.some((m) => m.name === 'packets_received' && m.value > 0));
  t.equal(answered.length, CLIENTS, `every client got an answer (${wallS.toFixed(1)} s)`);
  // Before the fix this was the whole resolve-and-fork burst: ~2.5 s at 300 pairs, ~25 s at 1,000.
  t.ok(maxGap < 1000, `longest event-loop gap during the call ${Math.round(maxGap)} ms (< 1,000 ms)`);
});
