// Kernel limits a thousand containers on one host run into, raised (never lowered) before a
// cell's containers are created. Both are global to the kernel (only the initial network
// namespace has them), so every namespace on the machine counts:
//
// - The IPv4 neighbour (ARP) table: one table for all namespaces, with a hard limit of
//   net.ipv4.neigh.default.gc_thresh3 entries (1024 by default) and forced garbage collection
//   above gc_thresh2 (512). Every container holds at least its gateway's or peer's entry and the
//   host one per container, so 1,000 containers need about 2,000 entries: past the limit the
//   kernel refuses new entries ("neighbor table overflow", /proc/net/stat/arp_cache
//   table_fulls) and a container's first packets to an unresolved neighbour are dropped, which
//   made a pre-flight pair of a 1,000-container cell fail to connect. Budget: NEIGH_PER_NETNS
//   entries per namespace plus the default 1024.
// - net.core.netdev_max_backlog (1000 by default): an ARP broadcast on a bridge with 1,000
//   ports is 1,000 packets queued on one CPU's backlog at once; past the limit they are
//   dropped. Budget: BACKLOG_PER_NETNS per namespace.
//
// A limit that cannot be read or written (an agent outside the initial network namespace, a
// read-only /proc) is left alone and logged: the cell still runs, and the evidence of any drop
// is in the kernel's counters.

import { readFileSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';

export const NEIGH_PER_NETNS = 4;
export const BACKLOG_PER_NETNS = 2;
const DEFAULT_GC_THRESH3 = 1024;

export interface LimitChange {
  readonly sysctl: string;
  readonly from: number;
  readonly to: number;
}

/** What the limits must be for `namespaces` network namespaces on the machine. */
export function wantedLimits(namespaces: number): Record<string, number> {
  const thresh3 = DEFAULT_GC_THRESH3 + NEIGH_PER_NETNS * namespaces;
  return {
    'net/ipv4/neigh/default/gc_thresh2': Math.ceil(thresh3 / 2),
    'net/ipv4/neigh/default/gc_thresh3': thresh3,
    'net/core/netdev_max_backlog': Math.max(1000, BACKLOG_PER_NETNS * namespaces),
  };
}

/**
 * Raises the neighbour table and backlog limits to what `namespaces` namespaces need; returns
 * what it changed. Never lowers a limit (an operator's larger setting stays).
 */
export function ensureHostLimits(namespaces: number, log: Pick<Logger, 'info' | 'warn'>, procSys = '/proc/sys'): LimitChange[] {
  const changes: LimitChange[] = [];
  for (const [key, want] of Object.entries(wantedLimits(namespaces))) {
    const path = `${procSys}/${key}`;
    const sysctl = key.replaceAll('/', '.');
    let have: number;
    try {
      have = Number(readFileSync(path, 'utf8').trim());
    } catch (e) {
      log.warn({ sysctl, err: (e as Error).message }, 'kernel limit not readable (agent outside the initial network namespace?); left alone');
      continue;
    }
    if (!Number.isFinite(have) || have >= want) continue;
    try {
      writeFileSync(path, `${want}\n`);
      changes.push({ sysctl, from: have, to: want });
    } catch (e) {
      log.warn({ sysctl, have, want, err: (e as Error).message }, 'could not raise a kernel limit the containers need; left alone');
    }
  }
  if (changes.length > 0) log.info({ namespaces, changes }, 'raised kernel limits for the containers on this machine');
  return changes;
}
