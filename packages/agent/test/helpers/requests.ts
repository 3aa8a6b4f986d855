// Test helper: Apply requests in the generated __Output shape, with every field present.
//
//   applyRequest(scope, { network, cidr, containers: n | ContainerSpec[], tunnel?, filter?, mtu? })
//   noneTunnel(localAddress, peers: Array<{ name, underlayAddress, routes, index }>)

import { containerCidr, nthHost } from '@seconet/core';
import type { ApplyRequest__Output } from '../../src/gen/seconet/agent/v1/ApplyRequest.js';
import type { ContainerSpec__Output } from '../../src/gen/seconet/agent/v1/ContainerSpec.js';
import type { FilterSpec__Output } from '../../src/gen/seconet/agent/v1/FilterSpec.js';
import type { TunnelSpec__Output } from '../../src/gen/seconet/agent/v1/TunnelSpec.js';

export interface RequestOptions {
  network?: string;
  cidr?: string;
  containers?: number | ContainerSpec__Output[];
  tunnel?: TunnelSpec__Output | null;
  filter?: FilterSpec__Output | null;
  mtu?: number;
}

export function containerSpecs(n: number, cidr = containerCidr(1)): ContainerSpec__Output[] {
  return Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, address: nthHost(cidr, i + 2) }));
}

export function applyRequest(scope: string, o: RequestOptions = {}): ApplyRequest__Output {
  const cidr = o.cidr ?? containerCidr(1);
  return {
    requestId: `r-${Math.random().toString(36).slice(2, 10)}`,
    scope,
    state: {
      network: o.network ?? 'bridge',
      containerCidr: cidr,
      containers: typeof o.containers === 'object' ? o.containers : containerSpecs(o.containers ?? 2, cidr),
      tunnel: o.tunnel ?? null,
      filter: o.filter ?? null,
      mtu: o.mtu ?? 0,
    },
  };
}

export function tunnelSpec(kind: string, localAddress: string, peers: Array<{ name: string; underlayAddress: string; routes: string[]; index: number; publicKey?: string; overlayAddress?: string }>, extra: Partial<TunnelSpec__Output> = {}): TunnelSpec__Output {
  return {
    kind,
    variant: 'VARIANT_UNSPECIFIED',
    cipher: '',
    localAddress,
    overlayAddress: '',
    peers: peers.map((p) => ({ name: p.name, underlayAddress: p.underlayAddress, overlayAddress: p.overlayAddress ?? '', routes: p.routes, publicKey: p.publicKey ?? '', index: p.index })),
    secrets: null,
    port: 0,
    vni: 0,
    ...extra,
  };
}
