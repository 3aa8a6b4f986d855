// The /proc sampler: reads /proc/stat, /proc/meminfo and one net/dev file per network
// namespace, and turns two consecutive reads into dstat-style rates. It reads files only
// (about a millisecond per sample), never spawns a process per sample: systeminformation and
// `ip -s link` are far too costly at 10 Hz (LAB-NOTES). Counters that go backwards (a reset,
// an interface re-created under the same name) count as zero for that interval, and an
// interface seen for the first time only sets its baseline, so a rate is never negative and
// never a whole counter divided by one interval.

import { readFileSync } from 'node:fs';
import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';
import type { CpuTimes } from '../gen/seconet/agent/v1/CpuTimes.js';
import type { InterfaceRates } from '../gen/seconet/agent/v1/InterfaceRates.js';
import { parseMeminfo, parseNetDev, parseStat, type CpuJiffies, type IfaceCounters, type StatSnapshot } from './proc-parse.js';

/** Where the counters of one network namespace are read from. */
export interface NetDevSource {
  /** "" for the host's own namespace, else the namespace name. */
  readonly netns: string;
  /** A net/dev file that shows that namespace (/proc/net/dev or /proc/<pid>/net/dev). */
  readonly path: string;
}

export interface SamplerOptions {
  /** Root of the proc tree (default "/proc"); fixture trees in tests. */
  readonly procRoot?: string;
  /** The namespaces to read at each sample (may change between samples). */
  readonly netDevSources: () => readonly NetDevSource[];
  readonly now?: () => number;
  /** CPU time the agent process has used so far, in microseconds (default process.cpuUsage()). */
  readonly selfCpuMicros?: () => number;
}

interface Snapshot {
  readonly at: number;
  readonly selfCpu: number;
  readonly stat: StatSnapshot;
  readonly ifaces: ReadonlyMap<string, IfaceCounters>;
}

const CPU_KEYS = ['usr', 'sys', 'idle', 'wai', 'hiq', 'siq', 'stl'] as const;

function delta(cur: number, prev: number): number {
  return cur >= prev ? cur - prev : 0;
}

function cpuPercent(name: string, cur: CpuJiffies, prev: CpuJiffies | undefined): CpuTimes {
  const d = Object.fromEntries(CPU_KEYS.map((k) => [k, prev === undefined ? 0 : delta(cur[k], prev[k])])) as Record<(typeof CPU_KEYS)[number], number>;
  const total = CPU_KEYS.reduce((s, k) => s + d[k], 0);
  const pct = (k: (typeof CPU_KEYS)[number]): number => (total > 0 ? (100 * d[k]) / total : 0);
  return { name, usr: pct('usr'), sys: pct('sys'), idle: pct('idle'), wai: pct('wai'), hiq: pct('hiq'), siq: pct('siq'), stl: pct('stl') };
}

export class ProcSampler {
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly selfCpu: () => number;
  private prev: Snapshot | undefined;

  constructor(private readonly opts: SamplerOptions) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.selfCpu = opts.selfCpuMicros ?? ((): number => {
      const u = process.cpuUsage();
      return u.user + u.system;
    });
  }

  // Synchronous reads on purpose: /proc files are generated in memory and never wait on a
  // disk, and a dozen readFileSync calls cost a fifth of what the promise-based API does.
  private read(): { snap: Snapshot; memory: ReturnType<typeof parseMeminfo> } {
    const at = this.now();
    const selfCpu = this.selfCpu();
    const ifaces = new Map<string, IfaceCounters>();
    for (const s of this.opts.netDevSources()) {
      let text: string;
      try {
        text = readFileSync(s.path, 'utf8');
      } catch {
        continue; // namespace gone: its interfaces vanish
      }
      for (const [name, c] of parseNetDev(text)) ifaces.set(`${s.netns}\u0000${name}`, c);
    }
    const stat = parseStat(readFileSync(`${this.procRoot}/stat`, 'utf8'));
    const memory = parseMeminfo(readFileSync(`${this.procRoot}/meminfo`, 'utf8'));
    return { snap: { at, selfCpu, stat, ifaces }, memory };
  }

  /** Sets the baseline; the first `sample()` after it covers the time since. */
  async prime(): Promise<void> {
    this.prev = this.read().snap;
  }

  /** One sample covering the time since the previous read (primes first when needed). */
  async sample(): Promise<MetricsSample> {
    if (this.prev === undefined) await this.prime();
    const prev = this.prev!;
    const { snap, memory } = this.read();
    this.prev = snap;
    const dt = Math.max(1e-6, snap.at - prev.at);
    const cores: CpuTimes[] = [];
    let cpu: CpuTimes | null = null;
    for (const [name, j] of snap.stat.cpus) {
      const c = cpuPercent(name, j, prev.stat.cpus.get(name));
      if (name === 'total') cpu = c;
      else cores.push(c);
    }
    const interfaces: InterfaceRates[] = [];
    for (const [key, c] of snap.ifaces) {
      const p = prev.ifaces.get(key);
      if (p === undefined) continue; // new interface: baseline only
      const [netns, name] = key.split('\u0000') as [string, string];
      interfaces.push({
        netns,
        name,
        rxBytesPerS: delta(c.rxBytes, p.rxBytes) / dt,
        txBytesPerS: delta(c.txBytes, p.txBytes) / dt,
        rxPacketsPerS: delta(c.rxPackets, p.rxPackets) / dt,
        txPacketsPerS: delta(c.txPackets, p.txPackets) / dt,
      });
    }
    return {
      timestamp: snap.at,
      intervalS: dt,
      cpu,
      cores,
      memory,
      interruptsPerS: delta(snap.stat.interrupts, prev.stat.interrupts) / dt,
      contextSwitchesPerS: delta(snap.stat.contextSwitches, prev.stat.contextSwitches) / dt,
      interfaces,
      dropped: 0,
      merged: 0,
      // The agent's own CPU time (this process: gRPC, the sampler, workload supervision) as a
      // share of every core the host has, for the controller's testbed-share guard.
      agentCpu: cores.length > 0 ? Math.min(100, (100 * delta(snap.selfCpu, prev.selfCpu)) / 1e6 / dt / cores.length) : 0,
    };
  }
}
