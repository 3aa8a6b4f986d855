// The shape shared by the kernel's point-to-point tunnel devices (ipip, gre, geneve): one
// device per peer (local/remote underlay addresses), this host's overlay address on it as a
// /32 with the peer's overlay address as its peer, and the peer's container networks routed
// via that address. Everything for all peers goes to the kernel in one `ip -batch`. A changed
// desired state recreates the devices (they carry no state worth keeping); peers that left
// lose their device and routes.

import { shortHash } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, NetworkView, ProbeContext, TunnelDriver } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import type { TunnelPeer__Output } from '../gen/seconet/agent/v1/TunnelPeer.js';
import { objectName } from '@seconet/core';
import {
  appliedNote, cachedProbe, chooseVariant, digest, dropStale, ipBatch, kernelLinkReport, linkDrift, noteKey, peerRouteLines, peerRouteObjects, readLink, report, requireOverlay, routeDrift, validatePeers,
} from './common.js';

export interface P2pLinkKind {
  readonly kind: string;
  /** Object-name kind letter (docs/architecture.md). */
  readonly letter: string;
  /** `ip link add ... type <type>`. */
  readonly type: string;
  /** Kernel option named in the probe's reason. */
  readonly config: string;
  readonly overhead: number;
  /** Arguments after `type <type>` for the probe's throwaway device. */
  readonly probeArgs: readonly string[];
  /** Arguments after `type <type>` for a peer's device. */
  linkArgs(spec: TunnelSpec__Output, peer: TunnelPeer__Output, scope: string): string[];
  /** Why there is no userspace variant and where to get one. */
  readonly userspaceReason: string;
}

/** A 24-bit identifier (VNI, GRE key) both ends derive alike: the spec's, or one from the scope. */
export function scopeId(spec: TunnelSpec__Output, scope: string): number {
  if (spec.vni > 0) return spec.vni;
  const h = shortHash([scope, 'tunnel-id'], 6);
  let n = 0;
  for (const c of h) n = (n * 32 + 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(c)) % 0xffffff;
  return n === 0 ? 1 : n;
}

export function makeP2pLinkTunnel(k: P2pLinkKind): TunnelDriver {
  const dev = (ctx: DriverContext, p: TunnelPeer__Output): string => objectName(ctx.env.prefix, k.letter, [ctx.scope, k.kind, p.name]);
  const driver: TunnelDriver = {
    kind: k.kind,

    probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
      return cachedProbe(k.kind, async () => [
        await kernelLinkReport(ctx, k.kind, k.type, k.config, k.probeArgs, 'use a full kernel (e.g. the full-kernel lab)'),
        report(k.kind, 'userspace', false, '', k.userspaceReason),
      ]);
    },

    overhead(): number {
      return k.overhead;
    },

    async ensure(ctx: DriverContext, spec: TunnelSpec__Output, view: NetworkView): Promise<EnsureResult> {
      validatePeers(spec, true);
      const overlay = requireOverlay(spec);
      const cap = chooseVariant(k.kind, spec, await driver.probe(ctx));
      const mtu = ctx.env.underlayMtu - k.overhead;
      const want = digest({ mtu, local: spec.localAddress, overlay: overlay.address, peers: spec.peers.map((p) => [p.name, k.linkArgs(spec, p, ctx.scope), p.overlayAddress, p.routes]) });
      const prev = appliedNote(ctx, k.kind);
      if (prev?.digest === want && (await driver.check(ctx, spec, view)).length === 0) return { changed: false, variant: 'kernel', version: cap.version };

      const links: OwnedObject[] = spec.peers.map((p) => ({ type: 'link', name: dev(ctx, p), netns: ctx.env.hostNetns }));
      const objects = [...links, ...peerRouteObjects(ctx.env, spec.peers)];
      await dropStale(ctx, prev, objects);
      await ctx.journal.recordAll(objects);
      const lines: string[] = [];
      for (const p of spec.peers) {
        const d = dev(ctx, p);
        if (await readLink(ctx, d)) lines.push(`link del dev ${d}`);
        lines.push(`link add ${d} type ${k.type} ${k.linkArgs(spec, p, ctx.scope).join(' ')}`);
        lines.push(`link set dev ${d} mtu ${mtu} up`);
        lines.push(`addr replace ${overlay.address}/32 peer ${p.overlayAddress}/32 dev ${d}`);
      }
      lines.push(...peerRouteLines(spec.peers, (p) => dev(ctx, p), (p) => p.overlayAddress, true));
      await ipBatch(ctx, lines);
      await ctx.journal.setNote(noteKey(k.kind, 'applied'), { digest: want, objects });
      return { changed: true, variant: 'kernel', version: cap.version };
    },

    async check(ctx: DriverContext, spec: TunnelSpec__Output): Promise<DriftReport[]> {
      const mtu = ctx.env.underlayMtu - k.overhead;
      const out: DriftReport[] = [];
      for (const p of spec.peers) out.push(...(await linkDrift(ctx, dev(ctx, p), mtu)));
      out.push(...(await routeDrift(ctx, spec.peers, (p) => dev(ctx, p))));
      return out;
    },
  };
  return driver;
}
