// Validation of a whole Apply request before anything runs. Every name, address, CIDR, port,
// key and count is checked here, once, so drivers can put the values on command lines and in
// config files without quoting concerns: a value that passes is made of the characters its
// format allows and nothing else. Errors are SeconetError('INVALID_ARGUMENT') naming the proto
// field path (`state.tunnel.peers[1].underlayAddress`) and what to do. Kinds are checked
// against the agent's driver registries, which are open sets.

import { CONTAINER_NAME_RE, NAME_RE, OPENVPN_STATIC_KEY_RE, SeconetError, cidrContains, invalid, ipToInt, isCidr, isIPv4, nthHost, parseCidr, requireName } from '@seconet/core';
import type { FilterDriver, NetworkDriver, TunnelDriver } from '../driver.js';
import type { ApplyRequest__Output } from '../gen/seconet/agent/v1/ApplyRequest.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { HostState__Output } from '../gen/seconet/agent/v1/HostState.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';

/** The lab range every agent may use (RFC 2544's benchmarking block). */
export const LAB_RANGE = '198.18.0.0/15';

export interface Registries {
  readonly network: ReadonlyMap<string, NetworkDriver>;
  readonly tunnel: ReadonlyMap<string, TunnelDriver>;
  readonly filter: ReadonlyMap<string, FilterDriver>;
}

export const LIMITS = {
  containers: { min: 1, max: 1024 },
  extraRules: { min: 0, max: 100_000 },
  allow: { max: 100_000 },
  guarded: { max: 256 },
  peers: { max: 254 },
  routes: { max: 64 },
  /** Container MTU when given (0 derives it from the tunnel). 576: the IPv4 minimum reassembly size. */
  mtu: { min: 576, max: 9216 },
} as const;

/** A validated request: the tunnel and filter are undefined when they ask for nothing. */
export interface ValidatedApply {
  readonly scope: string;
  readonly state: HostState__Output;
  readonly tunnel: TunnelSpec__Output | undefined;
  readonly filter: FilterSpec__Output | undefined;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const CIPHER_RE = /^[A-Za-z0-9_-]{1,64}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2}){16,1024}$/;
const PEM_RE = /^-----BEGIN ((?:RSA )?(?:PUBLIC|PRIVATE) KEY)-----\r?\n(?:[A-Za-z0-9+/=]{1,76}\r?\n)+-----END \1-----\r?\n?$/;
const GATEWAY_NETWORKS = new Set(['bridge', 'ovs']);

/** A WireGuard key: base64 of exactly 32 bytes. */
export function isWireGuardKey(s: string): boolean {
  return /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(s) && Buffer.from(s, 'base64').length === 32;
}

export function isPem(s: string, kind: 'PUBLIC' | 'PRIVATE'): boolean {
  const m = PEM_RE.exec(s);
  return m !== null && m[1]!.endsWith(`${kind} KEY`);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function ipv4(field: string, v: string): string {
  if (!isIPv4(v)) throw invalid(field, `${show(v)} is not an IPv4 address (expected e.g. 198.19.1.2)`);
  return v;
}

function cidr(field: string, v: string, requireNetwork: boolean): string {
  if (!isCidr(v)) throw invalid(field, `${show(v)} is not an IPv4 CIDR (expected e.g. 198.19.1.0/24)`);
  const c = parseCidr(v);
  if (requireNetwork && c.network !== c.address) throw invalid(field, `${v} has host bits set; use ${c.network}/${c.prefix}`);
  return v;
}

/**
 * The address ranges a request may touch. A network outside them is refused with the field
 * named: an agent must not be talked into routing 0.0.0.0/0 through a tunnel or claiming
 * 10.0.0.0/8 for containers, whoever holds a controller certificate.
 */
export class AllowedRanges {
  private readonly ranges: ReadonlyArray<{ first: number; last: number }>;
  constructor(readonly cidrs: readonly string[] = [LAB_RANGE]) {
    this.ranges = cidrs.map((c) => {
      const p = parseCidr(c);
      const first = ipToInt(p.network);
      return { first, last: first + 2 ** (32 - p.prefix) - 1 };
    });
  }

  private inside(first: number, last: number): boolean {
    return this.ranges.some((r) => first >= r.first && last <= r.last);
  }

  /** `v` is a CIDR (its whole network) or an address. */
  require(field: string, v: string): void {
    let first: number;
    let last: number;
    if (v.includes('/')) {
      const p = parseCidr(v);
      first = ipToInt(p.network);
      last = first + 2 ** (32 - p.prefix) - 1;
    } else {
      first = last = ipToInt(v);
    }
    if (!this.inside(first, last)) {
      throw new SeconetError('FORBIDDEN', `${field}: ${v} is outside the address ranges this agent may touch (${this.cidrs.join(', ')}); add the range to the agent config's allowedRanges if it is really meant`, { field });
    }
  }
}

function intIn(field: string, v: number, min: number, max: number, what = ''): number {
  if (!Number.isInteger(v) || v < min || v > max) throw invalid(field, `${show(v)} is out of range ${min}..${max}${what}`);
  return v;
}

function kind<T>(field: string, v: string, reg: ReadonlyMap<string, T>, what: string): T {
  const d = reg.get(v);
  if (d === undefined) {
    const offered = [...reg.keys()].sort().join(', ') || 'none';
    throw invalid(field, `unknown ${what} ${show(v)}; this agent offers: ${offered}`);
  }
  return d;
}

function checkTunnel(t: TunnelSpec__Output, reg: Registries, allowed: AllowedRanges): TunnelSpec__Output | undefined {
  const k = t.kind === '' ? 'none' : t.kind;
  if (k === 'none' && t.peers.length === 0) return undefined;
  kind('state.tunnel.kind', k, reg.tunnel, 'tunnel kind');
  if (t.cipher !== '' && !CIPHER_RE.test(t.cipher)) throw invalid('state.tunnel.cipher', `${show(t.cipher)} is not a cipher name (letters, digits, '-', '_')`);
  ipv4('state.tunnel.localAddress', t.localAddress);
  if (t.overlayAddress !== '') {
    cidr('state.tunnel.overlayAddress', t.overlayAddress, false);
    allowed.require('state.tunnel.overlayAddress', t.overlayAddress);
  }
  if (t.port !== 0) intIn('state.tunnel.port', t.port, 1, 65535, ' (0 for the default)');
  intIn('state.tunnel.vni', t.vni, 0, 0xffffff);
  if (t.peers.length > LIMITS.peers.max) throw invalid('state.tunnel.peers', `${t.peers.length} peers; at most ${LIMITS.peers.max}`);
  const names = new Set<string>();
  const underlays = new Set<string>([t.localAddress]);
  for (const [i, p] of t.peers.entries()) {
    const f = `state.tunnel.peers[${i}]`;
    requireName(`${f}.name`, p.name);
    if (names.has(p.name)) throw invalid(`${f}.name`, `peer ${show(p.name)} is listed twice`);
    names.add(p.name);
    ipv4(`${f}.underlayAddress`, p.underlayAddress);
    if (underlays.has(p.underlayAddress)) throw invalid(`${f}.underlayAddress`, `${p.underlayAddress} is used by this host or another peer`);
    underlays.add(p.underlayAddress);
    if (p.overlayAddress !== '') {
      ipv4(`${f}.overlayAddress`, p.overlayAddress);
      allowed.require(`${f}.overlayAddress`, p.overlayAddress);
    }
    if (p.routes.length > LIMITS.routes.max) throw invalid(`${f}.routes`, `${p.routes.length} routes; at most ${LIMITS.routes.max}`);
    for (const [r, route] of p.routes.entries()) {
      cidr(`${f}.routes[${r}]`, route, true);
      allowed.require(`${f}.routes[${r}]`, route);
    }
    if (p.index !== 0) intIn(`${f}.index`, p.index, 1, 254);
    if (k === 'wireguard' && !isWireGuardKey(p.publicKey)) throw invalid(`${f}.publicKey`, 'a WireGuard public key is 32 bytes in base64 (44 characters, as `wg pubkey` prints it)');
    if (k === 'tinc' && !isPem(p.publicKey, 'PUBLIC')) throw invalid(`${f}.publicKey`, 'a tinc public key is an RSA public key in PEM');
    if (k !== 'wireguard' && k !== 'tinc' && p.publicKey !== '') throw invalid(`${f}.publicKey`, `tunnel kind ${k} takes no public key`);
  }
  const sec = t.secrets ?? { privateKey: '', preSharedKey: '' };
  if (k === 'wireguard' && !isWireGuardKey(sec.privateKey)) throw invalid('state.tunnel.secrets.privateKey', 'a WireGuard private key is 32 bytes in base64 (44 characters, as `wg genkey` prints it)');
  if (k === 'tinc' && !isPem(sec.privateKey, 'PRIVATE')) throw invalid('state.tunnel.secrets.privateKey', 'a tinc private key is an RSA private key in PEM');
  if (k !== 'wireguard' && k !== 'tinc' && sec.privateKey !== '') throw invalid('state.tunnel.secrets.privateKey', `tunnel kind ${k} takes no private key`);
  // One format per kind, the one core's generateTunnelSecrets produces and the tool reads:
  // IPsec a hex PSK, OpenVPN a static key file body; other kinds take none.
  if (k === 'ipsec' && !HEX_RE.test(sec.preSharedKey)) throw invalid('state.tunnel.secrets.preSharedKey', sec.preSharedKey === '' ? 'IPsec needs a pre-shared key (hex)' : 'the IPsec pre-shared key must be hex, 16 to 1024 bytes');
  if (k === 'openvpn' && !OPENVPN_STATIC_KEY_RE.test(sec.preSharedKey)) {
    throw invalid('state.tunnel.secrets.preSharedKey', `${sec.preSharedKey === '' ? 'OpenVPN needs a static key' : 'the OpenVPN key is not a static key file'}: send the body of an "OpenVPN Static key V1" file (2048 bit, as \`openvpn --genkey secret\` writes it)`);
  }
  if (k !== 'ipsec' && k !== 'openvpn' && sec.preSharedKey !== '') throw invalid('state.tunnel.secrets.preSharedKey', `tunnel kind ${k} takes no pre-shared key`);
  return { ...t, kind: k };
}

function checkFilter(f: FilterSpec__Output, reg: Registries, allowed: AllowedRanges): FilterSpec__Output | undefined {
  const k = f.kind === '' ? 'none' : f.kind;
  intIn('state.filter.extraRules', f.extraRules, LIMITS.extraRules.min, LIMITS.extraRules.max);
  if (k === 'none') return undefined;
  kind('state.filter.kind', k, reg.filter, 'filter kind');
  if (f.allow.length > LIMITS.allow.max) throw invalid('state.filter.allow', `${f.allow.length} pairs; at most ${LIMITS.allow.max}`);
  for (const [i, p] of f.allow.entries()) {
    ipv4(`state.filter.allow[${i}].src`, p.src);
    ipv4(`state.filter.allow[${i}].dst`, p.dst);
    allowed.require(`state.filter.allow[${i}].src`, p.src);
    allowed.require(`state.filter.allow[${i}].dst`, p.dst);
  }
  if (f.guarded.length > LIMITS.guarded.max) throw invalid('state.filter.guarded', `${f.guarded.length} networks; at most ${LIMITS.guarded.max}`);
  for (const [i, g] of f.guarded.entries()) {
    cidr(`state.filter.guarded[${i}]`, g, true);
    allowed.require(`state.filter.guarded[${i}]`, g);
  }
  return { ...f, kind: k };
}

/**
 * Validates an Apply request; throws SeconetError('INVALID_ARGUMENT') naming the first bad
 * field, or FORBIDDEN naming a network outside `allowed`.
 */
export function validateApply(req: ApplyRequest__Output, reg: Registries, allowed: AllowedRanges = new AllowedRanges()): ValidatedApply {
  if (req.requestId !== '' && !REQUEST_ID_RE.test(req.requestId)) throw invalid('requestId', `${show(req.requestId)}: use 1-128 letters, digits, '.', '_', ':' or '-'`);
  const scope = validateScope(req.scope);
  const s = req.state;
  if (s === null) throw invalid('state', 'the desired state is missing');
  kind('state.network', s.network, reg.network, 'network solution');
  cidr('state.containerCidr', s.containerCidr, true);
  const net = parseCidr(s.containerCidr);
  if (net.prefix < 8 || net.prefix > 30) throw invalid('state.containerCidr', `/${net.prefix} is out of range /8../30`);
  allowed.require('state.containerCidr', s.containerCidr);
  const n = s.containers.length;
  if (n < LIMITS.containers.min || n > LIMITS.containers.max) throw invalid('state.containers', `${n} containers; use ${LIMITS.containers.min}..${LIMITS.containers.max}`);
  const first = ipToInt(net.network);
  const last = first + 2 ** (32 - net.prefix) - 1;
  const gateway = GATEWAY_NETWORKS.has(s.network) ? nthHost(s.containerCidr, 1) : undefined;
  const names = new Set<string>();
  const addrs = new Set<string>();
  for (const [i, c] of s.containers.entries()) {
    const f = `state.containers[${i}]`;
    requireName(`${f}.name`, c.name, CONTAINER_NAME_RE);
    if (names.has(c.name)) throw invalid(`${f}.name`, `container ${show(c.name)} is listed twice`);
    names.add(c.name);
    ipv4(`${f}.address`, c.address);
    if (!cidrContains(s.containerCidr, c.address)) throw invalid(`${f}.address`, `${c.address} is outside state.containerCidr ${s.containerCidr}`);
    const x = ipToInt(c.address);
    if (x === first || x === last) throw invalid(`${f}.address`, `${c.address} is the network or broadcast address of ${s.containerCidr}`);
    if (c.address === gateway) throw invalid(`${f}.address`, `${c.address} is the ${s.network} gateway; containers start at .2`);
    if (addrs.has(c.address)) throw invalid(`${f}.address`, `${c.address} is given to two containers`);
    addrs.add(c.address);
  }
  if (s.mtu !== 0) intIn('state.mtu', s.mtu, LIMITS.mtu.min, LIMITS.mtu.max, ' (0 derives it from the tunnel)');
  const tunnel = s.tunnel === null ? undefined : checkTunnel(s.tunnel, reg, allowed);
  const filter = s.filter === null ? undefined : checkFilter(s.filter, reg, allowed);
  return { scope, state: s, tunnel, filter };
}

export function validateScope(scope: string, field = 'scope'): string {
  return requireName(field, scope, NAME_RE);
}
