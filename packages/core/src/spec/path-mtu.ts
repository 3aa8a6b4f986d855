// A cell's path MTU before the first run: the container MTU the agents will configure, which is
// the smallest underlay MTU of the cell's hosts less the tunnel's encapsulation overhead (the
// agent's drivers use the same numbers; a test keeps the two in step). The variant is the one
// the agent picks: kernel where every host offers it, else userspace.
//
// What it decides (docs/spec.md, "Payload and path MTU"): a TCP payload above the path's MSS
// runs with the segment size clamped to the path (results carry `segment_size`); a UDP payload
// that would fragment is not run: the (cell, workload) is skipped with the reason.

import type { TunnelKind, WorkloadInstance } from '../model.js';
import type { CapabilityLike } from './feasibility.js';

/** Encapsulation overhead in bytes per tunnel kind and variant (the agent drivers' `overhead()`). */
export const TUNNEL_OVERHEAD: Readonly<Record<TunnelKind, { readonly kernel?: number; readonly userspace?: number }>> = {
  none: { kernel: 0, userspace: 0 },
  ipip: { kernel: 20 },
  gre: { kernel: 20 + 4 + 4 },
  vxlan: { kernel: 20 + 8 + 8 + 14 },
  geneve: { kernel: 20 + 8 + 8 + 14 },
  // Kernel ESP: outer IPv4 + ESP header, IV, padding and ICV of the AEAD suites; strongSwan's
  // libipsec runs ESP-in-UDP on a TUN device of MTU 1400 (on a 1500-byte underlay).
  ipsec: { kernel: 73, userspace: 100 },
  wireguard: { kernel: 20 + 8 + 16 + 16, userspace: 20 + 8 + 16 + 16 },
  openvpn: { userspace: 20 + 8 + 63 },
  tinc: { userspace: 20 + 8 + 43 },
};

/** IPv4 + TCP / UDP header bytes a payload shares the MTU with. */
export const L4_HEADER = { tcp: 20 + 20, udp: 20 + 8 } as const;

export type TunnelVariantName = 'kernel' | 'userspace';

/** The variant the agents will run: kernel when every host offers it, else userspace. */
export function expectedVariant(tunnel: TunnelKind, hosts: readonly string[], capabilities: ReadonlyMap<string, readonly CapabilityLike[]> | undefined): TunnelVariantName {
  if (tunnel === 'none' || capabilities === undefined) return 'kernel';
  const kernelEverywhere = hosts.every((h) => (capabilities.get(h) ?? []).some((c) => c.category === 'tunnel' && c.kind === tunnel && c.available && !/userspace/i.test(c.variant ?? '')));
  return kernelEverywhere ? 'kernel' : 'userspace';
}

/** Path MTU of a cell, or undefined when an underlay MTU is unknown. */
export function pathMtu(tunnel: TunnelKind, variant: TunnelVariantName, underlayMtus: readonly (number | undefined)[]): number | undefined {
  if (underlayMtus.length === 0 || underlayMtus.some((m) => m === undefined || m <= 0)) return undefined;
  const o = TUNNEL_OVERHEAD[tunnel];
  const overhead = (variant === 'kernel' ? o.kernel ?? o.userspace : o.userspace ?? o.kernel) ?? 0;
  const underlay = Math.min(...(underlayMtus as number[]));
  // libipsec's TUN device never exceeds 1400 B, whatever the underlay.
  return tunnel === 'ipsec' && variant === 'userspace' ? Math.min(1400, underlay - overhead) : underlay - overhead;
}

export type PayloadFit =
  | { readonly kind: 'fits' }
  | { readonly kind: 'clamped'; readonly segmentSize: number; readonly note: string }
  | { readonly kind: 'refused'; readonly reason: string };

/** How a workload instance fits a path of `mtu` (see the module comment). */
export function fitPayload(w: WorkloadInstance, mtu: number | undefined): PayloadFit {
  if (mtu === undefined || w.kind === 'quake3' || w.protocol === 'icmp' || w.payload <= 0) return { kind: 'fits' };
  if (w.protocol === 'tcp') {
    const mss = mtu - L4_HEADER.tcp;
    const pinned = w.engine === 'iperf3' && (w.params['mss'] ?? 'payload') === 'payload';
    if (!pinned || w.payload <= mss) return { kind: 'fits' };
    return { kind: 'clamped', segmentSize: mss, note: `${w.id}: ${w.payload} B of TCP payload is above the path's MSS of ${mss} B (path MTU ${mtu}); the segment size is clamped to ${mss} B (results: segment_size)` };
  }
  const max = mtu - L4_HEADER.udp;
  if (w.payload <= max) return { kind: 'fits' };
  return { kind: 'refused', reason: `${w.id}: ${w.payload} B of UDP payload would fragment on this path (path MTU ${mtu}: at most ${max} B per datagram); use a payload of at most ${max} B for this tunnel` };
}
