// Why a cell (or a workload in a cell) cannot be measured, decided before the first run
// from the spec and the agents' capability lists (GetInfo). Every reason is a sentence a
// user can act on. Rules that hold on any kernel come first; capability rules only apply
// when the caller passed capabilities.

import type { Engine, FilterKind, NetworkKind, Placement, TunnelKind, WorkloadKind } from '../model.js';

/** The fields of proto `Capability` expansion needs (variant as "kernel"/"userspace" or the enum name). */
export interface CapabilityLike {
  readonly category: string;
  readonly kind: string;
  readonly variant?: string;
  readonly available: boolean;
  readonly reason?: string;
  readonly engine?: string;
  readonly version?: string;
  /** Not available as far as the probe got, which met a failure that may pass (a timeout): not the kernel's answer. */
  readonly undetermined?: boolean;
}

export type CapabilityMap = ReadonlyMap<string, readonly CapabilityLike[]>;

export interface CellCoordinates {
  readonly network: NetworkKind;
  readonly tunnel: TunnelKind;
  readonly filter: FilterKind;
  readonly containers: number;
  readonly rules: number;
  readonly placement: Placement;
  readonly hosts: readonly string[];
  /** The CNI recipe the setup comes from (matrix.recipe). */
  readonly recipe?: string | undefined;
  readonly ruleMatch?: 'port' | undefined;
}

function isUserspace(variant: string | undefined): boolean {
  return variant !== undefined && /userspace/i.test(variant);
}

/** Availability of one building block on one host: undefined when available, else the reason. */
export function lacks(caps: readonly CapabilityLike[], category: string, kind: string): string | undefined {
  const matching = caps.filter((c) => c.category === category && c.kind === kind);
  if (matching.some((c) => c.available)) return undefined;
  // A probe that timed out did not get the kernel's answer: the block is not ruled out on it
  // (the cell is planned, and its Apply probes again and gives the answer; undeterminedNotes).
  if (matching.some((c) => c.undetermined === true)) return undefined;
  const reasons = matching.map((c) => c.reason).filter((r): r is string => !!r);
  return reasons.length > 0 ? reasons.join('; ') : `not in the agent's capabilities`;
}

/** Static rules: what makes no sense on any host. */
export function staticReason(c: CellCoordinates, hostCount: number): string | undefined {
  if (hostCount === 0) return 'the experiment has no hosts: list agents in hosts, or start the lab';
  if (c.placement === 'multi-host' && hostCount < 2) {
    return `multi-host placement needs at least 2 hosts and the experiment has ${hostCount}: add hosts or use placement single-host`;
  }
  if (c.placement === 'single-host' && c.tunnel !== 'none') {
    return `tunnel ${c.tunnel} joins hosts, but single-host placement keeps every pair on one host, so it would carry no traffic: use placement multi-host or tunnel none`;
  }
  if (c.filter === 'none' && c.rules > 0) {
    return `filter none has no rules to add; the rules=0 cell of this setup measures it`;
  }
  if (c.filter === 'ovs' && c.network !== 'ovs') {
    return `the ovs filter is OpenFlow rules on the OVS bridge, and network ${c.network} has no OVS bridge: use network ovs or another filter`;
  }
  if (c.placement === 'single-host' && (c.filter === 'iptables' || c.filter === 'nftables' || c.filter === 'l7-http')) {
    if (c.network === 'ovs') return `OVS switches container traffic in its own datapath, which netfilter never sees, so ${c.filter} rules would not isolate pairs on one host: use filter ovs`;
    if (c.network === 'bpf') return `the bpf network redirects packets at tc, past netfilter, so ${c.filter} rules would not isolate pairs on one host: use filter bpf`;
  }
  return undefined;
}

/**
 * The l7-http filter passes only `GET /` to a sink (its proxy answers anything else with 403):
 * an HTTP workload measures through it, ICMP (latency-basic) passes below it; any other TCP
 * workload would be refused by the proxy, and UDP would bypass it.
 */
export function l7WorkloadReason(filter: string, kind: WorkloadKind): string | undefined {
  if (filter !== 'l7-http' || kind === 'http' || kind === 'latency-basic') return undefined;
  return `filter l7-http lets only HTTP GET / through its proxy to the sink: workload ${kind} is not HTTP (measure it with another filter, or use workload http)`;
}

/** The building blocks a cell needs, as (category, kind). */
function cellBlocks(c: CellCoordinates): Array<[string, string]> {
  const blocks: Array<[string, string]> = [['network', c.network]];
  if (c.tunnel !== 'none') blocks.push(['tunnel', c.tunnel]);
  if (c.filter !== 'none') blocks.push(['filter', c.filter]);
  return blocks;
}

/** Capability rules for one cell on its hosts. */
export function capabilityReason(c: CellCoordinates, capabilities: CapabilityMap): string | undefined {
  for (const host of c.hosts) {
    const caps = capabilities.get(host);
    if (caps === undefined) return `agent '${host}' is not registered or has not reported its capabilities: start it or remove it from hosts`;
    for (const [category, kind] of cellBlocks(c)) {
      const why = lacks(caps, category, kind);
      if (why !== undefined) return `host '${host}' lacks ${category} ${kind}: ${why}`;
    }
    if (c.filter === 'bpf' && c.network === 'ovs') {
      const ovs = caps.filter((x) => x.category === 'network' && x.kind === 'ovs' && x.available);
      if (ovs.length > 0 && ovs.every((x) => isUserspace(x.variant))) {
        return `host '${host}' runs OVS with the userspace datapath, which reads packets from the veth before tc ingress, so a bpf filter would not isolate pairs: use filter ovs`;
      }
    }
  }
  return undefined;
}

/**
 * One note per host and building block the planned cells use whose probe did not get the
 * kernel's answer (a timeout): the cells are planned, and their Apply gives the answer.
 */
export function undeterminedNotes(cells: readonly CellCoordinates[], capabilities: CapabilityMap): string[] {
  const notes = new Map<string, string>();
  for (const c of cells) {
    for (const host of c.hosts) {
      for (const [category, kind] of cellBlocks(c)) {
        const matching = (capabilities.get(host) ?? []).filter((x) => x.category === category && x.kind === kind);
        if (matching.some((x) => x.available)) continue;
        const u = matching.find((x) => x.undetermined === true);
        const key = `${host}\u0000${category}\u0000${kind}`;
        if (u !== undefined && !notes.has(key)) {
          notes.set(key, `host '${host}': ${category} ${kind} was not determined when planned (its probe met a failure that may pass: ${u.reason || 'no reason given'}); its cells are planned, and their Apply probes again and gives the answer`);
        }
      }
    }
  }
  return [...notes.values()];
}

function offersEngine(caps: readonly CapabilityLike[], kind: WorkloadKind, engine: Engine): boolean | undefined {
  const workloadCaps = caps.filter((c) => c.category === 'workload');
  if (workloadCaps.length === 0) return undefined;
  return workloadCaps.some((c) => c.available && ((c.kind === kind && (c.engine === undefined || c.engine === '' || c.engine === engine)) || c.kind === engine));
}

/** Why `engine` cannot run `kind` on these hosts, or undefined. Hosts that report no workload capabilities are trusted. */
export function engineReason(kind: WorkloadKind, engine: Engine, hosts: readonly string[], capabilities: CapabilityMap | undefined): string | undefined {
  if (capabilities === undefined) return undefined;
  for (const host of hosts) {
    const caps = capabilities.get(host);
    if (caps === undefined) continue;
    if (offersEngine(caps, kind, engine) === false) {
      const why = caps.find((c) => c.category === 'workload' && (c.kind === engine || (c.kind === kind && c.engine === engine)) && !c.available)?.reason;
      return `host '${host}' cannot run ${kind} with ${engine}${why ? `: ${why}` : ''}; install ${engine} there or set engine explicitly to one it has`;
    }
  }
  return undefined;
}

/**
 * The engine for an entry without one: uperf (the paper's tool) when every host has it,
 * else iperf3 when every host has that; without capabilities, uperf. Never a silent switch
 * of an explicit choice: an explicit engine is returned as is.
 */
export function chooseEngine(kind: WorkloadKind, explicit: Engine | undefined, candidates: readonly Engine[], hosts: readonly string[], capabilities: CapabilityMap | undefined): Engine {
  if (explicit !== undefined) return explicit;
  for (const e of candidates) {
    if (engineReason(kind, e, hosts, capabilities) === undefined) return e;
  }
  return candidates[0]!;
}
