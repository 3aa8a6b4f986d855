// The filter policy every filter driver renders, computed once from a FilterSpec: the guarded
// CIDRs (default deny between them), the allowed directed pairs (each AllowedPair both ways,
// de-duplicated), and the decoy pairs that stand for `extraRules` non-matching rules. Decoys
// come from the never-assigned block DEFAULT_DECOY (198.18.128.0/17), one distinct (src, dst)
// pair per rule, so no real packet ever matches them and every rule is distinct (a kernel that
// merged duplicates would otherwise hide the cost being measured). The digest identifies the
// rendered policy, so drivers can tell "already loaded" from one cheap read-back.

import { createHash } from 'node:crypto';
import { DEFAULT_DECOY, SeconetError, cidrContains, intToIp, ipToInt, parseCidr, requireCidr, requireIPv4 } from '@seconet/core';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';

/** Upper bound of extra rules per filter (the published sweeps go to 10 000). */
export const MAX_EXTRA_RULES = 100_000;
/** Upper bound of allowed pairs (a 254-container /24 holds at most 127 pairs per host). */
export const MAX_ALLOWED_PAIRS = 10_000;
/** Upper bound of guarded networks (the BPF LPM map holds two generations of them). */
export const MAX_GUARDED = 256;

export interface DirectedPair {
  readonly src: string;
  readonly dst: string;
}

/** An extra rule: a never-assigned pair, or (rule match "port") an allowed pair on a destination port range no traffic uses. */
export interface Decoy extends DirectedPair {
  readonly proto?: 'tcp' | 'udp';
  /** Inclusive range, aligned to its power-of-two width (so OpenFlow can match it as value/mask). */
  readonly ports?: { readonly lo: number; readonly hi: number };
}

export type RuleMatch = 'address' | 'port';

export interface RuleSet {
  /** Guarded networks, normalised to network/prefix. */
  readonly guarded: readonly string[];
  /** Allowed directed pairs: each AllowedPair in both directions, first-seen order. */
  readonly allow: readonly DirectedPair[];
  /** One per extra rule: pairs from the decoy block, or allowed pairs on unused port ranges. */
  readonly decoys: readonly Decoy[];
  readonly ruleMatch: RuleMatch;
  /** Hex SHA-256 over the above: equal digests render equal rule sets. */
  readonly digest: string;
}

const HALF = 2 ** (32 - parseCidr(DEFAULT_DECOY).prefix) / 2;

/** The i-th decoy pair: sources from the lower half of the decoy block, destinations from the upper half. */
export function decoyPair(i: number): DirectedPair {
  const base = ipToInt(parseCidr(DEFAULT_DECOY).network);
  const src = i % HALF;
  const dst = (Math.floor(i / HALF) + i) % HALF;
  return { src: intToIp(base + src), dst: intToIp(base + HALF + dst) };
}

/**
 * Destination ports the port-range rules cover: above every workload port (pairs from 5201,
 * D-ITG flows and clients-scale ports on top) and below Linux's ephemeral range (32768..60999),
 * so neither a request nor a reply to a client port ever falls into one.
 */
export const DECOY_PORTS = { lo: 10240, hi: 32767 } as const;
const PORT_SPAN = DECOY_PORTS.hi - DECOY_PORTS.lo + 1;
/** Widths 2, 4, ... 2048 (10240 is a multiple of 2048, so every range is aligned to its width). */
const WIDTHS = Array.from({ length: 11 }, (_, k) => 2 ** (k + 1));
const RANGES_PER_PROTO = WIDTHS.reduce((n, w) => n + Math.floor(PORT_SPAN / w), 0);
/** Distinct port-range rules one directed pair can hold (TCP and UDP). */
export const PORT_RULES_PER_PAIR = 2 * RANGES_PER_PROTO;

/** The i-th port-range rule over the allowed directed pairs: pairs rotate fastest, then protocol, then range. */
export function portDecoy(i: number, allow: readonly DirectedPair[]): Decoy {
  const pair = allow[i % allow.length]!;
  const j = Math.floor(i / allow.length);
  const proto = j % 2 === 0 ? 'tcp' : 'udp';
  let m = Math.floor(j / 2);
  for (const w of WIDTHS) {
    const n = Math.floor(PORT_SPAN / w);
    if (m < n) {
      const lo = DECOY_PORTS.lo + m * w;
      return { src: pair.src, dst: pair.dst, proto, ports: { lo, hi: lo + w - 1 } };
    }
    m -= n;
  }
  throw new SeconetError('INTERNAL', `port-range rule ${i} is beyond the ${PORT_RULES_PER_PAIR} per pair`);
}

/** Validates the spec (errors name the proto field) and computes the rule set. */
export function buildRuleSet(spec: Omit<FilterSpec__Output, 'ruleMatch'> & { readonly ruleMatch?: string }, field = 'state.filter'): RuleSet {
  if (spec.guarded.length === 0) throw new SeconetError('INVALID_ARGUMENT', `${field}.guarded: list at least one container network to guard (e.g. 198.19.1.0/24)`, { field: `${field}.guarded` });
  if (spec.guarded.length > MAX_GUARDED) throw new SeconetError('INVALID_ARGUMENT', `${field}.guarded: at most ${MAX_GUARDED} networks`, { field: `${field}.guarded` });
  const guarded = [...new Set(spec.guarded.map((g, i) => {
    const c = requireCidr(`${field}.guarded[${i}]`, g);
    return `${c.network}/${c.prefix}`;
  }))];
  const extra = spec.extraRules;
  if (!Number.isInteger(extra) || extra < 0 || extra > MAX_EXTRA_RULES) {
    throw new SeconetError('INVALID_ARGUMENT', `${field}.extraRules: ${extra} is out of range 0..${MAX_EXTRA_RULES}`, { field: `${field}.extraRules` });
  }
  if (spec.allow.length > MAX_ALLOWED_PAIRS) throw new SeconetError('INVALID_ARGUMENT', `${field}.allow: at most ${MAX_ALLOWED_PAIRS} pairs`, { field: `${field}.allow` });
  const seen = new Set<string>();
  const allow: DirectedPair[] = [];
  spec.allow.forEach((p, i) => {
    const src = requireIPv4(`${field}.allow[${i}].src`, p.src);
    const dst = requireIPv4(`${field}.allow[${i}].dst`, p.dst);
    for (const d of [{ src, dst }, { src: dst, dst: src }]) {
      const k = `${d.src}>${d.dst}`;
      if (!seen.has(k)) {
        seen.add(k);
        allow.push(d);
      }
    }
  });
  const rm = spec.ruleMatch ?? '';
  if (rm !== '' && rm !== 'address' && rm !== 'port') throw new SeconetError('INVALID_ARGUMENT', `${field}.ruleMatch: ${JSON.stringify(rm.slice(0, 40))} is not "address" or "port"`, { field: `${field}.ruleMatch` });
  const ruleMatch: RuleMatch = rm === 'port' ? 'port' : 'address';
  if (ruleMatch === 'port' && extra > 0) {
    if (allow.length === 0) throw new SeconetError('INVALID_ARGUMENT', `${field}.ruleMatch: port-range rules restrict the allowed pairs, and allow is empty`, { field: `${field}.ruleMatch` });
    const cap = PORT_RULES_PER_PAIR * allow.length;
    if (extra > cap) throw new SeconetError('INVALID_ARGUMENT', `${field}.extraRules: ${extra} port-range rules do not fit ${allow.length} directed pairs (at most ${cap}: ${PORT_RULES_PER_PAIR} each over ports ${DECOY_PORTS.lo}-${DECOY_PORTS.hi}); lower rules or add pairs`, { field: `${field}.extraRules` });
  }
  const decoys = Array.from({ length: extra }, (_, i) => (ruleMatch === 'port' ? portDecoy(i, allow) : decoyPair(i)));
  // The digest of an address-matched set is unchanged from before rule matches existed.
  const digest = createHash('sha256')
    .update(JSON.stringify(ruleMatch === 'port' ? { guarded, allow, extra, ruleMatch } : { guarded, allow, extra }))
    .digest('hex');
  return { guarded, allow, decoys, ruleMatch, digest };
}

/** Every (source network, destination network) combination of the guarded CIDRs. */
export function guardedPairs(rs: RuleSet): DirectedPair[] {
  return rs.guarded.flatMap((s) => rs.guarded.map((d) => ({ src: s, dst: d })));
}

/**
 * Where a filter sees the traffic it claims to filter. The OVS userspace datapath reads frames
 * from packet sockets before tc ingress, so the BPF filter on an OVS network filters nothing.
 * Netfilter filters on the ovs and bpf networks see only traffic routed through the host's
 * stack, i.e. traffic to and from other hosts: OVS switches same-host frames in userspace and
 * the bpf network moves them between veths with bpf_redirect_peer, past the forward hook
 * (measured: denied same-host pairs still ping). When every guarded network is this host's own
 * (a single-host cell), no guarded traffic would cross netfilter: refuse, as the planner skips
 * such cells (docs/spec.md); with remote guarded networks, cross-host traffic is filtered and
 * same-host traffic is not.
 */
export function requireVisibleTraffic(kind: string, view: { readonly kind: string; readonly containerCidr: string }, rs: RuleSet, userspaceOvs: boolean): void {
  if (kind === 'bpf' && view.kind === 'ovs' && userspaceOvs) {
    throw new SeconetError('UNSUPPORTED', 'state.filter.kind: the bpf filter does not see traffic the OVS userspace datapath reads before tc ingress; use filter "ovs" with network "ovs"', { field: 'state.filter.kind' });
  }
  if ((kind === 'iptables' || kind === 'nftables') && (view.kind === 'ovs' || view.kind === 'bpf')) {
    const local = parseCidr(view.containerCidr);
    const onlyLocal = rs.guarded.every((g) => {
      const c = parseCidr(g);
      return c.prefix >= local.prefix && cidrContains(`${local.network}/${local.prefix}`, c.network);
    });
    if (onlyLocal) {
      throw new SeconetError('UNSUPPORTED', `state.filter.kind: on network "${view.kind}" same-host traffic never crosses netfilter, and every guarded network is this host's own: the ${kind} filter would isolate nothing (use filter "${view.kind}")`, { field: 'state.filter.kind' });
    }
  }
}

/** Thrown by drivers that need a network the view lacks. */
export function unsupportedNetwork(kind: string, need: string, have: string): SeconetError {
  return new SeconetError('UNSUPPORTED', `state.filter.kind: the ${kind} filter needs network "${need}", this scope uses "${have}"`, { field: 'state.filter.kind' });
}
