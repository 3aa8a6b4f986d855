// Parsers of the /proc files the sampler reads (proc(5)): /proc/stat, /proc/meminfo and
// /proc/net/dev. Pure functions over text, so fixture trees test them without a kernel.

/** Jiffies of one `cpu` line, folded into dstat's columns (usr includes nice). */
export interface CpuJiffies {
  readonly usr: number;
  readonly sys: number;
  readonly idle: number;
  readonly wai: number;
  readonly hiq: number;
  readonly siq: number;
  readonly stl: number;
}

export interface StatSnapshot {
  /** "total" for the aggregate `cpu` line, then "cpu0", "cpu1", ... */
  readonly cpus: ReadonlyMap<string, CpuJiffies>;
  readonly interrupts: number;
  readonly contextSwitches: number;
}

export interface MemorySnapshot {
  readonly used: number;
  readonly free: number;
  readonly buffers: number;
  readonly cached: number;
}

export interface IfaceCounters {
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly txPackets: number;
}

export function parseStat(text: string): StatSnapshot {
  const cpus = new Map<string, CpuJiffies>();
  let interrupts = 0;
  let contextSwitches = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu')) {
      const f = line.split(/\s+/);
      const key = f[0] ?? '';
      if (!/^cpu\d*$/.test(key)) continue;
      // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
      // already counted in user (proc(5)), so it is not added again.
      const n = (i: number): number => Number(f[i] ?? 0) || 0;
      cpus.set(key === 'cpu' ? 'total' : key, { usr: n(1) + n(2), sys: n(3), idle: n(4), wai: n(5), hiq: n(6), siq: n(7), stl: n(8) });
    } else if (line.startsWith('intr ')) {
      // Only the total: the per-IRQ columns that follow can number in the thousands.
      const end = line.indexOf(' ', 5);
      interrupts = Number(end < 0 ? line.slice(5) : line.slice(5, end)) || 0;
    } else if (line.startsWith('ctxt ')) {
      contextSwitches = Number(line.slice(5)) || 0;
    }
  }
  return { cpus, interrupts, contextSwitches };
}

/**
 * Memory as dstat's `mem` plugin computes it, in bytes: buff = Buffers, cach = Cached +
 * SReclaimable - Shmem, free = MemFree, used = MemTotal - free - buff - cach, so the four
 * columns add up to MemTotal.
 */
export function parseMeminfo(text: string): MemorySnapshot {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m) kb.set(m[1]!, Number(m[2]));
  }
  const v = (k: string): number => (kb.get(k) ?? 0) * 1024;
  const free = v('MemFree');
  const buffers = v('Buffers');
  const cached = Math.max(0, v('Cached') + v('SReclaimable') - v('Shmem'));
  const used = Math.max(0, v('MemTotal') - free - buffers - cached);
  return { used, free, buffers, cached };
}

export function parseNetDev(text: string): Map<string, IfaceCounters> {
  const out = new Map<string, IfaceCounters>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.includes('|')) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.set(name, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}
