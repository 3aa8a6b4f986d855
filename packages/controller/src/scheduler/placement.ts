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
//
// clients-scale (N clients against one server): the server is pair p0's sink. Its clients are
// the cell's own containers first (multi-host: those on other hosts than the server, so every
// client crosses hosts; single-host: every other container), in pair order, then extra client
// containers `cli<i>` (round robin over the hosts other than the server's; single-host: the one
// host) until there are as many as the largest `clients` value the cell runs. Client i talks to
// the server on port BASE_PORT + 1 + i, so the server holds one port per client; the filter's
// allow-list holds every client -> server pair.

import { CONTAINERS_PER_SMALL_CIDR, SeconetError, containerCidr, largeContainerCidr, nthHost, type Cell, type WorkloadInstance } from '@seconet/core';

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
  /** clients-scale: client i -> the server (pair p0's sink), as many as the cell's largest `clients`; empty without clients-scale. */
  readonly clients: readonly PlacedPair[];
}

/** At most this many clients against one server (the spec's `clients` range). */
export const MAX_CLIENTS = 1024;

export interface PlaceOptions {
  /** Clients against one server the cell must hold (the largest clients-scale `clients` it runs); 0: none. */
  readonly clients?: number;
}

export function placeCell(cell: Pick<Cell, 'containers' | 'placement' | 'hosts'>, experimentHosts: readonly string[] = cell.hosts, opts: PlaceOptions = {}): CellPlacement {
  const nClients = opts.clients ?? 0;
  if (!Number.isInteger(nClients) || nClients < 0 || nClients > MAX_CLIENTS) {
    throw new SeconetError('INVALID_SPEC', `workloads.clients-scale.clients: ${nClients} is not a count of 1..${MAX_CLIENTS} clients`, { field: 'workloads.clients-scale.clients' });
  }
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
  // The server is pair p0's sink; clients live off its host when there is another host.
  const serverHost = hosts[1 % hosts.length]!;
  const clientHosts = hosts.length > 1 ? hosts.filter((h) => h !== serverHost) : hosts;
  const ownClients = nClients === 0 ? 0 : hosts.length > 1 ? [...counts].filter(([h]) => h !== serverHost).reduce((a, [, n]) => a + n, 0) : cell.containers - 1;
  const extraClients = Math.max(0, nClients - ownClients);
  for (let i = 0; i < extraClients; i++) {
    const h = clientHosts[i % clientHosts.length]!;
    counts.set(h, (counts.get(h) ?? 0) + 1);
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
  const clients: PlacedPair[] = [];
  if (nClients > 0) {
    const server = pairs[0]!.sink;
    const own = pairs.flatMap((p) => [p.source, p.sink]).filter((c) => c !== server && (hosts.length === 1 || c.host !== server.host));
    for (let i = 0; i < extraClients; i++) own.push(add(clientHosts[i % clientHosts.length]!, `cli${i}`, 'source'));
    for (let i = 0; i < nClients; i++) clients.push({ pair: `c${i}`, source: own[i]!, sink: server, port: BASE_PORT + 1 + i });
  }
  for (const [host, list] of byHost) {
    if (list.length > 1021) throw new SeconetError('UNSUPPORTED', `matrix.containers: host ${host} would hold ${list.length} containers, more than one /22 holds`, { field: 'matrix.containers' });
  }
  const placed = experimentHosts
    .filter((h) => byHost.has(h))
    .map((h) => ({ name: h, index: hostIndex(h), containerCidr: cidrOf(h), containers: byHost.get(h)! }));
  return { hosts: placed, pairs: withUniquePorts(pairs), clients };
}

/** The clients of one clients-scale instance (its `clients` parameter; 0 for another kind). */
export function clientsOf(w: Pick<WorkloadInstance, 'kind' | 'params'>): number {
  if (w.kind !== 'clients-scale') return 0;
  const n = Number(w.params['clients'] ?? '');
  if (!Number.isInteger(n) || n < 1 || n > MAX_CLIENTS) {
    throw new SeconetError('INVALID_SPEC', `workloads.clients-scale.clients: ${JSON.stringify(w.params['clients'] ?? '')} is not a count of 1..${MAX_CLIENTS} clients`, { field: 'workloads.clients-scale.clients' });
  }
  return n;
}

/** The clients a cell must hold: the largest `clients` of its clients-scale instances. */
export function cellClients(workloads: readonly Pick<WorkloadInstance, 'kind' | 'params'>[]): number {
  return Math.max(0, ...workloads.map(clientsOf));
}

/** The run's pairs for a clients-scale run of `n` clients: the first n of the placement's clients. */
export function clientPairs(placement: CellPlacement, n: number): readonly PlacedPair[] {
  if (!Number.isInteger(n) || n < 1 || n > placement.clients.length) {
    throw new SeconetError('INTERNAL', `clients-scale: ${n} clients asked, the cell was placed with ${placement.clients.length}`);
  }
  return placement.clients.slice(0, n);
}

/** Every directed pair the filter must allow: the cell's pairs and every client -> server pair. */
export function allowedPairs(placement: CellPlacement): readonly PlacedPair[] {
  return [...placement.pairs, ...placement.clients];
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
  // A client of the clients-scale server is allowed to reach it (allowed pairs hold both ways): never sampled as denied.
  const allowed = new Set(allowedPairs(placement).flatMap((p) => [`${p.source.name}>${p.sink.name}`, `${p.sink.name}>${p.source.name}`]));
  const push = (from: PlacedContainer, to: PlacedContainer): void => {
    if (!allowed.has(`${from.name}>${to.name}`)) out.push({ from, to, label: `${from.name}->${to.name}` });
  };
  for (let i = 0; i < ps.length && out.length < max; i++) {
    const j = (i + 1) % ps.length;
    if (j === i) break;
    push(ps[i]!.source, ps[j]!.sink);
  }
  if (ps.length >= 2 && out.length < max + 1) push(ps[0]!.source, ps[1]!.source);
  // A single pair with clients: a client must not reach the server's own source (pair p0's).
  if (ps.length === 1 && placement.clients.length > 0 && out.length < max) {
    const other = placement.clients.find((c) => c.source !== ps[0]!.source);
    if (other) push(other.source, ps[0]!.source);
  }
  return out;
}
