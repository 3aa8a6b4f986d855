// Tunnel kind "none": plain routing over the underlay, the baseline every other kind is
// compared with. Each peer's container networks are routed via the peer's underlay address on
// the underlay device; there is no device and no encapsulation (overhead 0).

import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import { appliedNote, cachedProbe, digest, dropStale, ipBatch, kernelRelease, noteKey, peerRouteLines, peerRouteObjects, report, routeDrift, validatePeers } from './common.js';

const KIND = 'none';

export const noneTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => [report(KIND, 'kernel', true, await kernelRelease(ctx), '')]);
  },

  overhead(): number {
    return 0;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    validatePeers(spec, false);
    const version = (await noneTunnel.probe(ctx))[0]?.version ?? '';
    const dev = ctx.env.underlayDev;
    const want = digest({ dev, peers: spec.peers.map((p) => [p.underlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await noneTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant: 'kernel', version };
    const objects = peerRouteObjects(ctx.env, spec.peers);
    await dropStale(ctx, prev, objects);
    await ctx.journal.recordAll(objects);
    await ipBatch(ctx, peerRouteLines(spec.peers, () => dev, (p) => p.underlayAddress, false));
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects });
    return { changed: true, variant: 'kernel', version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    return routeDrift(ctx, spec.peers, () => ctx.env.underlayDev);
  },
};
