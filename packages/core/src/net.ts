// IPv4 addresses and networks: parsing, validation and the default address plan.
// seconet uses the benchmarking range RFC 2544 reserves (198.18.0.0/15) by default; every
// function here validates strictly, so nothing malformed reaches a command line.

import { invalid } from './errors.js';

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => OCTET.test(p));
}

export function ipToInt(s: string): number {
  if (!isIPv4(s)) throw new Error(`not an IPv4 address: ${JSON.stringify(s)}`);
  return s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((sh) => Math.floor(n / 2 ** sh) % 256).join('.');
}

export interface Cidr {
  readonly address: string; // as given (may have host bits)
  readonly network: string; // host bits cleared
  readonly prefix: number;
}

export function parseCidr(s: string): Cidr {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(s)}`);
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const net = Math.floor(ipToInt(m[1]!) / size) * size;
  return { address: m[1]!, network: intToIp(net), prefix };
}

export function isCidr(s: string): boolean {
  try {
    parseCidr(s);
    return true;
  } catch {
    return false;
  }
}

export function cidrContains(cidr: string, ip: string): boolean {
  const c = parseCidr(cidr);
  const size = 2 ** (32 - c.prefix);
  const start = ipToInt(c.network);
  const x = ipToInt(ip);
  return x >= start && x < start + size;
}

export function cidrsOverlap(a: string, b: string): boolean {
  const ca = parseCidr(a);
  const cb = parseCidr(b);
  const shorter = ca.prefix <= cb.prefix ? ca : cb;
  const other = shorter === ca ? cb : ca;
  return cidrContains(`${shorter.network}/${shorter.prefix}`, other.network);
}

/** The n-th host address of a network (1 = first usable). */
export function nthHost(cidr: string, n: number): string {
  const c = parseCidr(cidr);
  const size = 2 ** (32 - c.prefix);
  if (n < 0 || n >= size) throw new Error(`host ${n} is outside ${cidr}`);
  return intToIp(ipToInt(c.network) + n);
}

// ---------------------------------------------------------------------------------------------
// Field validators: throw SeconetError('INVALID_ARGUMENT') naming the field.

export function requireIPv4(field: string, value: string): string {
  if (!isIPv4(value)) throw invalid(field, `${JSON.stringify(value)} is not an IPv4 address (expected e.g. 198.18.0.1)`);
  return value;
}

export function requireCidr(field: string, value: string): Cidr {
  if (!isCidr(value)) throw invalid(field, `${JSON.stringify(value)} is not an IPv4 CIDR (expected e.g. 198.19.1.0/24)`);
  return parseCidr(value);
}

export function requirePort(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw invalid(field, `${value} is not a port (1-65535)`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The default address plan (docs/addresses.md).

export const BENCHMARK_RANGE = '198.18.0.0/15';
export const DEFAULT_UNDERLAY = '198.18.0.0/24';
export const DEFAULT_OVERLAY = '198.18.1.0/24';
/** Never assigned: the source of the filters' extra non-matching rules. */
export const DEFAULT_DECOY = '198.18.128.0/17';

/** Container network of host `index` (1-based): 198.19.<index>.0/24. */
export function containerCidr(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 254) throw new Error(`host index ${index} out of 1..254`);
  return `198.19.${index}.0/24`;
}

/** Containers one host of a cell holds in its /24 (containerCidr); more take largeContainerCidr. */
export const CONTAINERS_PER_SMALL_CIDR = 253;

/**
 * Container network of host `index` (1-based) in a cell where some host holds more than
 * CONTAINERS_PER_SMALL_CIDR containers: 198.18.<4 x index>.0/22 (1,021 containers), between
 * the overlay and the decoy block, for hosts 1..31.
 */
export function largeContainerCidr(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > 31) throw new Error(`host index ${index} out of 1..31 (a cell with more than ${CONTAINERS_PER_SMALL_CIDR} containers on a host uses /22s of 198.18.4.0-198.18.127.255)`);
  return `198.18.${4 * index}.0/22`;
}

/** Underlay address of host `index` (1-based) in the lab. */
export function underlayAddress(index: number): string {
  return nthHost(DEFAULT_UNDERLAY, index);
}

/** Tunnel (overlay) address of host `index`. */
export function overlayAddress(index: number): string {
  return nthHost(DEFAULT_OVERLAY, index);
}
