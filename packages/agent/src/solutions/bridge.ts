// The `bridge` network solution: one Linux bridge per scope in the host namespace carrying the
// gateway address (.1 of the container CIDR); containers get .x/<prefix> on eth0 and a default
// route via the gateway. Host-side work is one `ip -batch`; container-side work is one batch
// per container namespace. Everything converges (`addr replace`, `route replace`), so ensure
// twice is a no-op. The bridge is journaled before it is created; ports, addresses and routes
// go away with the bridge, the veths and the namespaces.

import { nthHost, objectName, parseCidr } from '@seconet/core';
import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, NetworkDriver, NetworkView, ProbeContext } from '../driver.js';
import { CONTAINER_BATCH_CONCURRENCY, containerBaseLines } from '../netns/containers.js';
import { containerBatches, ipBatch, listLinks } from '../netns/ip-batch.js';
import { ensureIpForward } from './ip-forward.js';
import { hostLinkDrift, probeKernel } from './probe.js';

export function bridgeName(prefix: string, scope: string): string {
  return objectName(prefix, 'b', [scope]);
}

export const bridgeDriver: NetworkDriver = {
  kind: 'bridge',

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return [await probeKernel(ctx, 'bridge', 'bridge')];
  },

  async ensure(ctx: DriverContext, containerCidr: string, containers: readonly ContainerHandle[], mtu: number): Promise<{ result: EnsureResult; view: NetworkView }> {
    const { env, runner } = ctx;
    const cidr = parseCidr(containerCidr);
    const gateway = nthHost(containerCidr, 1);
    const br = bridgeName(env.prefix, ctx.scope);
    const links = await listLinks(runner, env.hostNetns);
    const existing = links.get(br);
    if (existing !== undefined && existing.kind !== 'bridge') throw new Error(`link ${br} exists but is a ${existing.kind ?? 'plain'} device, not a bridge`);
    let changed = existing === undefined || !existing.up || containers.some((c) => links.get(c.hostIface)?.master !== br);

    await ctx.journal.record({ type: 'link', name: br });
    const host: string[] = [];
    if (existing === undefined) host.push(`link add ${br} type bridge`);
    host.push(`addr replace ${gateway}/${cidr.prefix} dev ${br}`, `link set dev ${br} up`);
    for (const c of containers) host.push(`link set dev ${c.hostIface} master ${br} up`);
    await ipBatch(runner, env.hostNetns, host, ctx.signal);
    changed = (await ensureIpForward(ctx)) || changed;

    await containerBatches(
      ctx,
      containers.map((c) => ({
        netns: c.netns,
        lines: [...containerBaseLines(c, mtu), `addr replace ${c.spec.address}/${cidr.prefix} dev ${c.iface}`, `route replace default via ${gateway} dev ${c.iface}`],
      })),
      CONTAINER_BATCH_CONCURRENCY,
      ctx.signal,
    );
    return {
      result: { changed, variant: 'kernel', version: '' },
      view: { kind: 'bridge', containerCidr, gateway, bridge: br, ovsdb: undefined, containers, mtu },
    };
  },

  async check(ctx: DriverContext, view: NetworkView): Promise<DriftReport[]> {
    const links = await listLinks(ctx.runner, ctx.env.hostNetns);
    const br = bridgeName(ctx.env.prefix, ctx.scope);
    const drifts = hostLinkDrift(links, br, 'bridge');
    for (const c of view.containers) {
      const l = links.get(c.hostIface);
      if (l === undefined || !l.up) drifts.push(...hostLinkDrift(links, c.hostIface, 'veth'));
      else if (l.master !== br) drifts.push({ object: `link ${c.hostIface}`, expected: `master ${br}`, observed: `master ${l.master ?? 'none'}` });
    }
    return drifts;
  },
};
