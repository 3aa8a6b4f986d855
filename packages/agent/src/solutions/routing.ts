// The `routing` network solution: plain L3 host routes with proxy-ARP (routed.ts), no bridge.

import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, NetworkDriver, NetworkView, ProbeContext } from '../driver.js';
import { listLinks } from '../netns/ip-batch.js';
import { probeKernel } from './probe.js';
import { ensureRouted, ROUTED_GATEWAY, routedDrift } from './routed.js';

export const routingDriver: NetworkDriver = {
  kind: 'routing',

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return [await probeKernel(ctx, 'routing', 'veth')];
  },

  async ensure(ctx: DriverContext, containerCidr: string, containers: readonly ContainerHandle[], mtu: number): Promise<{ result: EnsureResult; view: NetworkView }> {
    const changed = await ensureRouted(ctx, containers, mtu);
    return {
      result: { changed, variant: 'kernel', version: '' },
      view: { kind: 'routing', containerCidr, gateway: ROUTED_GATEWAY, bridge: undefined, ovsdb: undefined, containers, mtu },
    };
  },

  async check(ctx: DriverContext, view: NetworkView): Promise<DriftReport[]> {
    return routedDrift(ctx, await listLinks(ctx.runner, ctx.env.hostNetns), view.containers);
  },
};
