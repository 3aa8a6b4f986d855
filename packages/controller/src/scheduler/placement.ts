// The Scheduler's placement of one cell: which container lives on which host, its address,
// which containers form the pairs and which port each sink listens on. Pure and deterministic,
// so the same cell always lands the same way (a resumed sweep re-applies an identical state
// and the agent finds nothing to change).
//
// single-host: every container on hosts[0]. multi-host: pair k's source on host (2k mod H) and
// its sink on host (2k+1 mod H), which for two hosts is "sources on hosts[0], sinks on
// hosts[1]" and for more hosts spreads round robin while every pair still crosses hosts.
// Host i of the experiment (1-based, by its position in the experiment's host list) always owns
// containerCidr(i) (a /24), so addresses never move between cells; a cell that puts more than
// 253 containers on one host gives every host largeContainerCidr(i) (a /22) instead, the same
// for every such cell.

import { CONTAINERS_PER_SMALL_CIDR, SeconetError, containerCidr, largeContainerCidr, nthHost, type Cell } from '@seconet/core';

export const BASE_PORT = 5201;

export interface PlacedContainer {
  readonly name: string;
  readonly host: string;
  readonly address: string;
  readonly role: 'source' | 'sink';
}

export interface PlacedPair {
  readonly pair: string;
  readonly source: PlacedContainer;
  readonly sink: PlacedContainer;
  /** Unique per sink container. */
  readonly port: number;
}

export interface HostPlacement {
  readonly name: string;
  /** 1-based position in the experiment's host list. */
  readonly index: number;
  readonly containerCidr: string;
  readonly containers: readonly PlacedContainer[];
}

export interface CellPlacement {
  /** Hosts that hold at least one container, in experiment order. */
  readonly hosts: readonly HostPlacement[];
  readonly pairs: readonly PlacedPair[];
}

export function placeCell(cell: Pick<Cell, 'containers' | 'placement' | 'hosts'>, experimentHosts: readonly string[] = cell.hosts): CellPlacement {
  if (!Number.isInteger(cell.containers) || cell.containers < 2 || cell.containers % 2 !== 0) {
    throw new SeconetError('INVALID_SPEC', `matrix.containers: ${cell.containers} is not an even count of at least 2 (containers form source-sink pairs)`, { field: 'matrix.containers' });
  }
  if (cell.hosts.length === 0) throw new SeconetError('INVALID_SPEC', 'hosts: a cell needs at least one host', { field: 'hosts' });
  if (cell.placement === 'multi-host' && cell.hosts.length < 2) {
    throw new SeconetError('INVALID_SPEC', 'placement: multi-host needs at least two hosts; list two or more in `hosts` or use single-host', { field: 'placement' });
  }
  const hostIndex = (name: string): number => {
    const i = experimentHosts.indexOf(name);
    if (i < 0) throw new SeconetError('INVALID_SPEC', `hosts: ${name} is not one of the experiment's hosts`, { field: 'hosts' });
    return i + 1;
  };
  const hosts = cell.placement === 'single-host' ? [cell.hosts[0]!] : cell.hosts;
  const nPairs = cell.containers / 2;
  const counts = new Map<string, number>();
  for (let k = 0; k < nPairs; k++) {
    for (const h of [hosts[(2 * k) % hosts.length]!, hosts[(2 * k + 1) % hosts.length]!]) counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  const large = Math.max(...counts.values()) > CONTAINERS_PER_SMALL_CIDR;
  if (large && hosts.some((h) => hostIndex(h) > 31)) {
    throw new SeconetError('UNSUPPORTED', `matrix.containers: ${cell.containers} containers put more than ${CONTAINERS_PER_SMALL_CIDR} on a host, which takes a /22 per host, and only the first 31 experiment hosts have one; use fewer containers or list these hosts among the first 31`, { field: 'matrix.containers' });
  }
  const cidrOf = (host: string): string => (large ? largeContainerCidr(hostIndex(host)) : containerCidr(hostIndex(host)));
  const byHost = new Map<string, PlacedContainer[]>();
  const add = (host: string, name: string, role: PlacedContainer['role']): PlacedContainer => {
    const list = byHost.get(host) ?? [];
    byHost.set(host, list);
    const c: PlacedContainer = { name, host, role, address: nthHost(cidrOf(host), list.length + 2) };
    list.push(c);
    return c;
  };
  const pairs: PlacedPair[] = [];
  for (let k = 0; k < nPairs; k++) {
    const srcHost = hosts[(2 * k) % hosts.length]!;
    const sinkHost = hosts[(2 * k + 1) % hosts.length]!;
    const source = add(srcHost, `src${k}`, 'source');
    const sink = add(sinkHost, `snk${k}`, 'sink');
    pairs.push({ pair: `p${k}`, source, sink, port: BASE_PORT });
  }
  for (const [host, list] of byHost) {
    if (list.length > 1021) throw new SeconetError('UNSUPPORTED', `matrix.containers: host ${host} would hold ${list.length} containers, more than one /22 holds`, { field: 'matrix.containers' });
  }
  const placed = experimentHosts
    .filter((h) => byHost.has(h))
    .map((h) => ({ name: h, index: hostIndex(h), containerCidr: cidrOf(h), containers: byHost.get(h)! }));
  return { hosts: placed, pairs: withUniquePorts(pairs) };
}

/** Ports count up per sink container, so several pairs sharing a sink never collide. */
function withUniquePorts(pairs: readonly PlacedPair[]): PlacedPair[] {
  const next = new Map<string, number>();
  return pairs.map((p) => {
    const key = `${p.sink.host}/${p.sink.name}`;
    const port = next.get(key) ?? BASE_PORT;
    next.set(key, port + 1);
    return { ...p, port };
  });
}

/** A sample of pairs the filter must block: source i -> sink j (i != j) and source -> source. */
export function deniedSample(placement: CellPlacement, max = 4): Array<{ from: PlacedContainer; to: PlacedContainer; label: string }> {
  const out: Array<{ from: PlacedContainer; to: PlacedContainer; label: string }> = [];
  const ps = placement.pairs;
  for (let i = 0; i < ps.length && out.length < max; i++) {
    const j = (i + 1) % ps.length;
    if (j === i) break;
    out.push({ from: ps[i]!.source, to: ps[j]!.sink, label: `${ps[i]!.source.name}->${ps[j]!.sink.name}` });
  }
  if (ps.length >= 2 && out.length < max + 1) {
    out.push({ from: ps[0]!.source, to: ps[1]!.source, label: `${ps[0]!.source.name}->${ps[1]!.source.name}` });
  }
  return out;
}
