// Tunnel kind "vxlan": one kernel VXLAN device per host and scope (RFC 7348), with head-end
// replication to every peer through all-zero FDB entries (no multicast needed on the
// underlay), this host's overlay address on it, and each peer's container networks routed via
// the peer's overlay address. VNI: spec.vni or derived from the scope, so both ends agree.
// Overhead: outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14 = 50 bytes. Kernel only: a
// userspace VXLAN would be an OVS netdev port, which belongs to the ovs network solution.

import { objectName } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import {
  appliedNote, cachedProbe, chooseVariant, digest, dropStale, ipBatch, kernelLinkReport, linkDrift, noteKey, peerRouteLines, peerRouteObjects, readLink, report, requireOverlay, requirePeersInOverlay, routeDrift, specPort, validatePeers,
} from './common.js';
import { scopeId } from './p2p-link.js';

const KIND = 'vxlan';
export const VXLAN_OVERHEAD = 20 + 8 + 8 + 14;
/** IANA port (the Linux default 8472 predates it). */
export const VXLAN_PORT = 4789;

export function vxlanDevice(prefix: string, scope: string): string {
  return objectName(prefix, 'x', [scope]);
}

export const vxlanTunnel: TunnelDriver = {
  kind: KIND,

  probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    return cachedProbe(KIND, async () => [
      await kernelLinkReport(ctx, KIND, 'vxlan', 'CONFIG_VXLAN', ['id', '42', 'dstport', String(VXLAN_PORT)], 'use a full kernel'),
      report(KIND, 'userspace', false, '', 'no userspace VXLAN in this driver; the ovs network solution offers OVS netdev VXLAN ports'),
    ]);
  },

  overhead(): number {
    return VXLAN_OVERHEAD;
  },

  async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
    validatePeers(spec, true);
    const overlay = requireOverlay(spec);
    requirePeersInOverlay(spec, overlay);
    const port = specPort(spec, VXLAN_PORT);
    const cap = chooseVariant(KIND, spec, await vxlanTunnel.probe(ctx));
    const dev = vxlanDevice(ctx.env.prefix, ctx.scope);
    const mtu = ctx.env.underlayMtu - VXLAN_OVERHEAD;
    const vni = scopeId(spec, ctx.scope);
    const want = digest({ mtu, vni, port, local: spec.localAddress, under: ctx.env.underlayDev, overlay: overlay.cidr, peers: spec.peers.map((p) => [p.underlayAddress, p.overlayAddress, p.routes]) });
    const prev = appliedNote(ctx, KIND);
    if (prev?.digest === want && (await vxlanTunnel.check(ctx, spec, view)).length === 0) return { changed: false, variant: 'kernel', version: cap.version };

    const objects: OwnedObject[] = [{ type: 'link', name: dev, netns: ctx.env.hostNetns }, ...peerRouteObjects(ctx.env, spec.peers)];
    await dropStale(ctx, prev, objects);
    await ctx.journal.recordAll(objects);
    const lines: string[] = [];
    if (await readLink(ctx, dev)) lines.push(`link del dev ${dev}`);
    lines.push(
      `link add ${dev} type vxlan id ${vni} local ${spec.localAddress} dev ${ctx.env.underlayDev} dstport ${port} ttl 64`,
      `link set dev ${dev} mtu ${mtu} up`,
      `addr replace ${overlay.cidr} dev ${dev}`,
    );
    await ipBatch(ctx, lines);
    const fdb = spec.peers.map((p) => `fdb append 00:00:00:00:00:00 dev ${dev} dst ${p.underlayAddress} self permanent`);
    if (fdb.length > 0) await ctx.runner.run(['bridge', ...(ctx.env.hostNetns ? ['-n', ctx.env.hostNetns] : []), '-batch', '-'], { stdin: fdb.join('\n') + '\n' });
    await ipBatch(ctx, peerRouteLines(spec.peers, () => dev, (p) => p.overlayAddress, false));
    await ctx.journal.setNote(noteKey(KIND, 'applied'), { digest: want, objects });
    return { changed: true, variant: 'kernel', version: cap.version };
  },

  async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
    const dev = vxlanDevice(ctx.env.prefix, ctx.scope);
    return [...(await linkDrift(ctx, dev, ctx.env.underlayMtu - VXLAN_OVERHEAD)), ...(await routeDrift(ctx, spec.peers, () => dev))];
  },
};
