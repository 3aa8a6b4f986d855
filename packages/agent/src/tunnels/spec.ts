// Spec fields every tunnel driver validates, and the choice of variant (kernel first,
// userspace where the kernel lacks the feature, or what the spec forces).

import { SeconetError, cidrContains, invalid, parseCidr, requireCidr, requireIPv4, requirePort } from '@seconet/core';
import type { CapabilityReport, VariantName } from '../driver.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';

export const FIELD = 'state.tunnel';


export interface Overlay {
  /** Address without prefix, e.g. 198.18.1.1. */
  readonly address: string;
  readonly prefix: number;
  /** As given, e.g. 198.18.1.1/24. */
  readonly cidr: string;
}

export function requireOverlay(spec: TunnelSpec__Output): Overlay {
  const c = requireCidr(`${FIELD}.overlayAddress`, spec.overlayAddress);
  if (c.prefix === 32 || c.prefix < 8) throw invalid(`${FIELD}.overlayAddress`, `${spec.overlayAddress}: give this host's tunnel address with the overlay's prefix length (e.g. 198.18.1.1/24)`);
  return { address: c.address, prefix: c.prefix, cidr: spec.overlayAddress };
}

/** For kinds with one shared overlay network (vxlan, wireguard, tinc, ipsec): every peer's overlay address lies in it. */
export function requirePeersInOverlay(spec: TunnelSpec__Output, overlay: Overlay): void {
  spec.peers.forEach((p, i) => {
    if (!cidrContains(overlay.cidr, p.overlayAddress) || p.overlayAddress === overlay.address) {
      throw invalid(`${FIELD}.peers[${i}].overlayAddress`, `${p.overlayAddress} must be another address inside this host's overlay network ${overlay.cidr}`);
    }
  });
}

/** Checks the fields every kind uses: local underlay address, peers' names, addresses and routes. */
export function validatePeers(spec: TunnelSpec__Output, needOverlay: boolean): void {
  requireIPv4(`${FIELD}.localAddress`, spec.localAddress);
  const names = new Set<string>();
  spec.peers.forEach((p, i) => {
    const f = `${FIELD}.peers[${i}]`;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(p.name)) throw invalid(`${f}.name`, `${JSON.stringify(p.name)} is not a host name (lowercase letters, digits, dashes)`);
    if (names.has(p.name)) throw invalid(`${f}.name`, `peer ${p.name} is listed twice`);
    names.add(p.name);
    requireIPv4(`${f}.underlayAddress`, p.underlayAddress);
    if (p.underlayAddress === spec.localAddress) throw invalid(`${f}.underlayAddress`, `${p.underlayAddress} is this host's own address`);
    if (needOverlay) requireIPv4(`${f}.overlayAddress`, p.overlayAddress);
    p.routes.forEach((r, j) => requireCidr(`${f}.routes[${j}]`, r));
  });
}

export function specPort(spec: TunnelSpec__Output, fallback: number): number {
  return spec.port === 0 ? fallback : requirePort(`${FIELD}.port`, spec.port);
}

/** Route destinations normalised to network/prefix (`ip route` rejects host bits). */
export function routeDst(cidr: string): string {
  const c = parseCidr(cidr);
  return `${c.network}/${c.prefix}`;
}

/** Non-empty, printable, no whitespace or quotes: safe inside a config file line. */
export function requireKeyText(field: string, value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw invalid(field, `not a valid ${what} (the controller generates it with generateTunnelSecrets)`);
  return value;
}

export const WG_KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
export const HEX_RE = /^[0-9a-f]{32,1024}$/i;


export function wantedVariant(spec: TunnelSpec__Output): VariantName | undefined {
  if (spec.variant === 'VARIANT_KERNEL') return 'kernel';
  if (spec.variant === 'VARIANT_USERSPACE') return 'userspace';
  return undefined;
}

/** Picks the variant from the probe: the forced one or kernel first. Throws MISSING_TOOL with the probe's reason. */
export function chooseVariant(kind: string, spec: TunnelSpec__Output, reports: readonly CapabilityReport[]): CapabilityReport {
  const want = wantedVariant(spec);
  const candidates = reports.filter((r) => want === undefined || r.variant === want);
  const ok = candidates.find((r) => r.available && r.variant === 'kernel') ?? candidates.find((r) => r.available);
  if (ok) return ok;
  const reasons = candidates.map((r) => `${r.variant}: ${r.reason}`).join('; ');
  throw new SeconetError('MISSING_TOOL', `tunnel ${kind}${want ? ` (${want})` : ''} is not available on this host: ${reasons || 'no such variant'}`, {
    field: want ? `${FIELD}.variant` : `${FIELD}.kind`,
  });
}
