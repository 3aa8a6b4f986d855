// The controller predicts each cell's path MTU from core's overhead table; the agent configures
// it from its drivers' overhead(). The two must agree for every tunnel and variant, or the
// dry-run promises an MTU the cell does not get. And the agent's own guard fits a workload to the
// container MTU the same way the plan does: TCP clamps the pinned segment size, UDP refuses.
import t from 'tap';
import { TUNNEL_KINDS, TUNNEL_OVERHEAD, fitPayload, pathMtu, type WorkloadInstance } from '@seconet/core';
import { TUNNEL_DRIVERS } from '../packages/agent/src/tunnels/index.js';
import { fitPlanToMtu, resolvePlan } from '../packages/agent/src/workloads/plan.js';
import type { TunnelSpec__Output } from '../packages/agent/src/gen/seconet/agent/v1/TunnelSpec.js';

t.test('core\'s overhead table is the agent drivers\' overhead', async (t) => {
  for (const kind of TUNNEL_KINDS) {
    const d = TUNNEL_DRIVERS.get(kind)!;
    for (const variant of ['kernel', 'userspace'] as const) {
      const want = TUNNEL_OVERHEAD[kind][variant];
      if (want === undefined) continue;
      const spec = { kind, variant: variant === 'kernel' ? 'VARIANT_KERNEL' : 'VARIANT_USERSPACE' } as unknown as TunnelSpec__Output;
      t.equal(d.overhead(spec), want, `${kind} (${variant})`);
    }
  }
  t.equal(pathMtu('ipsec', 'userspace', [1500, 1500]), 1400);
  t.equal(pathMtu('vxlan', 'kernel', [1500, 9000]), 1450, 'the smallest underlay counts');
  t.equal(pathMtu('vxlan', 'kernel', [1500, undefined]), undefined, 'unknown stays unknown');
});

const w = (over: Partial<WorkloadInstance>): WorkloadInstance => ({ id: 'x', kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 1370, durationMs: 1000, params: {}, seed: 0, ...over });

t.test('plan time and the agent fit payloads to the path the same way', async (t) => {
  t.match(fitPayload(w({}), 1400), { kind: 'clamped', segmentSize: 1360 });
  t.match(fitPayload(w({ payload: 1360 }), 1400), { kind: 'fits' });
  t.match(fitPayload(w({ params: { mss: 'auto' } }), 1400), { kind: 'fits' }, 'the kernel\'s own MSS needs no clamp');
  t.match(fitPayload(w({ engine: 'ditg', kind: 'video' }), 1400), { kind: 'fits' }, 'TCP without a pinned MSS never fragments');
  t.match(fitPayload(w({ protocol: 'udp', payload: 1373 }), 1400), { kind: 'refused', reason: /1373 B of UDP payload would fragment/ });
  t.match(fitPayload(w({ protocol: 'udp', payload: 1372 }), 1400), { kind: 'fits' });

  const spec = (payload: number, protocol: string, params: Record<string, string> = {}) => ({ kind: 'throughput-basic', engine: 'iperf3', protocol, payload, durationMs: 1000, params, seed: 0 });
  const tcp = fitPlanToMtu(resolvePlan(spec(1370, 'tcp')), 1400, 'container c1');
  t.equal(tcp.iperf3.mss, 1360, 'the agent clamps -M to the container MTU');
  t.equal(fitPlanToMtu(resolvePlan(spec(653, 'tcp')), 1400, 'c1').iperf3.mss, 653);
  t.throws(() => fitPlanToMtu(resolvePlan(spec(1370, 'tcp', { mss: '1380' })), 1400, 'container c1'), { code: 'INVALID_ARGUMENT', field: 'workload.params.mss' }, 'an explicit MSS above the path is refused');
  t.throws(() => fitPlanToMtu(resolvePlan(spec(1373, 'udp')), 1400, 'container c1'), { code: 'INVALID_ARGUMENT', field: 'workload.payload', message: /does not fit container c1/ });
  t.equal(fitPlanToMtu(resolvePlan(spec(1372, 'udp')), 1400, 'c1').payload, 1372);
});
