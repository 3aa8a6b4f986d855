// The Performance Monitor: StreamMetrics from every host involved in a run, for exactly the
// run's duration, flattened into dstat-style columns ("total cpu usage:usr", "net/eth0:recv")
// and tied to the run; plus a per-run summary per host (mean and peak CPU busy, softirq share,
// memory used, peak interface rates, the busiest core with its softirq and steal, the agent's
// own share) that goes into the run's metric rows as pair "host/<name>".
// A host whose stream fails only loses its samples: monitoring never fails a run.

import { maxOf, startPacer } from '@seconet/core';
import type { AgentLink, CpuTimesMsg, MetricsSampleMsg } from '../agents/contract.js';
import type { HostSample, MetricValue } from '../store/store.js';

export interface MonitorOptions {
  readonly intervalMs: number;
  /** Samples the agent holds for a slow reader. */
  readonly buffer?: number;
}

function cpuColumns(prefix: string, c: CpuTimesMsg): Array<[string, number]> {
  return [
    [`${prefix}:usr`, c.usr], [`${prefix}:sys`, c.sys], [`${prefix}:idl`, c.idle], [`${prefix}:wai`, c.wai],
    [`${prefix}:hiq`, c.hiq], [`${prefix}:siq`, c.siq], [`${prefix}:stl`, c.stl],
  ];
}

/** One sample as dstat-style (column, value) pairs. */
export function flattenSample(s: MetricsSampleMsg): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  if (s.cpu) out.push(...cpuColumns('total cpu usage', s.cpu));
  for (const c of s.cores) out.push(...cpuColumns(`${c.name} usage`, c));
  if (s.memory) {
    out.push(['memory usage:used', Number(s.memory.used)], ['memory usage:free', Number(s.memory.free)], ['memory usage:buff', Number(s.memory.buffers)], ['memory usage:cach', Number(s.memory.cached)]);
  }
  out.push(['system:int', s.interruptsPerS], ['system:csw', s.contextSwitchesPerS]);
  if (s.agentCpu !== undefined) out.push(['testbed:agent_cpu', s.agentCpu]);
  // Cumulative: the run's last value is how many samples the agent dropped for this reader.
  if (s.dropped !== undefined) out.push(['testbed:samples_dropped', Number(s.dropped)]);
  for (const i of s.interfaces) {
    const dev = i.netns === '' ? i.name : `${i.netns}/${i.name}`;
    out.push([`net/${dev}:recv`, i.rxBytesPerS], [`net/${dev}:send`, i.txBytesPerS], [`net/${dev}:recv_pkt`, i.rxPacketsPerS], [`net/${dev}:send_pkt`, i.txPacketsPerS]);
  }
  return out.filter(([, v]) => Number.isFinite(v));
}

/** Mean and peak CPU busy, softirq share, memory and peak interface rates per host. */
export function summarize(samples: readonly HostSample[]): MetricValue[] {
  const byHost = new Map<string, HostSample[]>();
  for (const s of samples) {
    const list = byHost.get(s.host);
    if (list === undefined) byHost.set(s.host, [s]);
    else list.push(s);
  }
  const out: MetricValue[] = [];
  for (const [host, list] of byHost) {
    const col = (name: string): number[] => list.filter((s) => s.column === name).map((s) => s.value);
    const pair = `host/${host}`;
    const idle = col('total cpu usage:idl');
    if (idle.length > 0) {
      const busy = idle.map((i) => Math.max(0, 100 - i));
      const siq = col('total cpu usage:siq');
      const meanBusy = mean(busy);
      out.push({ pair, flow: '', metric: 'host_cpu_mean', value: meanBusy, unit: '%' });
      out.push({ pair, flow: '', metric: 'host_cpu_peak', value: maxOf(busy), unit: '%' });
      out.push({ pair, flow: '', metric: 'host_softirq_share', value: meanBusy > 0 ? (mean(siq) / meanBusy) * 100 : 0, unit: '%' });
    }
    out.push(...coreSummary(pair, list));
    const agent = col('testbed:agent_cpu');
    if (agent.length > 0) out.push({ pair, flow: '', metric: 'testbed_cpu_share', value: mean(agent), unit: '%' });
    const used = col('memory usage:used');
    if (used.length > 0) out.push({ pair, flow: '', metric: 'host_mem_used_mean', value: mean(used), unit: 'B' });
    const peak = (suffix: string): number => {
      const v = list.filter((s) => s.column.startsWith('net/') && s.column.endsWith(suffix)).map((s) => s.value);
      return v.length > 0 ? maxOf(v) : 0;
    };
    if (list.some((s) => s.column.startsWith('net/'))) {
      out.push({ pair, flow: '', metric: 'host_net_rx_peak', value: peak(':recv') * 8, unit: 'bit/s' });
      out.push({ pair, flow: '', metric: 'host_net_tx_peak', value: peak(':send') * 8, unit: 'bit/s' });
    }
    out.push({ pair, flow: '', metric: 'host_samples', value: new Set(list.map((s) => s.timestamp)).size, unit: 'count' });
    const dropped = col('testbed:samples_dropped');
    if (dropped.length > 0) out.push({ pair, flow: '', metric: 'host_samples_dropped', value: maxOf(dropped), unit: 'count' });
  }
  return out;
}

const CORE_COLUMN = /^(cpu\d+) usage:(usr|sys|idl|wai|hiq|siq|stl)$/;

/**
 * The busiest core per sample (busy = 100 - idle - iowait, so softirq and steal count), averaged
 * over the run's samples, with that core's softirq and steal; and the largest steal of any core.
 * These feed the validity guards (validity.ts).
 */
function coreSummary(pair: string, list: readonly HostSample[]): MetricValue[] {
  const perSample = new Map<number, Map<string, Record<string, number>>>();
  for (const s of list) {
    const m = CORE_COLUMN.exec(s.column);
    if (!m) continue;
    const cores = perSample.get(s.timestamp) ?? new Map<string, Record<string, number>>();
    const c = cores.get(m[1]!) ?? {};
    c[m[2]!] = s.value;
    cores.set(m[1]!, c);
    perSample.set(s.timestamp, cores);
  }
  if (perSample.size === 0) return [];
  const busiest: number[] = [];
  const siq: number[] = [];
  const stl: number[] = [];
  const stealMax: number[] = [];
  for (const cores of perSample.values()) {
    let best: Record<string, number> | undefined;
    let bestBusy = -1;
    let steal = 0;
    for (const c of cores.values()) {
      const busy = Math.max(0, 100 - (c['idl'] ?? 0) - (c['wai'] ?? 0));
      if (busy > bestBusy) {
        bestBusy = busy;
        best = c;
      }
      steal = Math.max(steal, c['stl'] ?? 0);
    }
    busiest.push(bestBusy);
    siq.push(best?.['siq'] ?? 0);
    stl.push(best?.['stl'] ?? 0);
    stealMax.push(steal);
  }
  return [
    { pair, flow: '', metric: 'host_core_busiest', value: mean(busiest), unit: '%' },
    { pair, flow: '', metric: 'host_core_busiest_siq', value: mean(siq), unit: '%' },
    { pair, flow: '', metric: 'host_core_busiest_stl', value: mean(stl), unit: '%' },
    { pair, flow: '', metric: 'host_steal_max', value: mean(stealMax), unit: '%' },
  ];
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

export interface MonitorSession {
  /** Stops every stream and returns the samples gathered. */
  stop(): Promise<{ samples: HostSample[]; errors: ReadonlyMap<string, string> }>;
}

/**
 * Starts StreamMetrics on every given host; call stop() when the run ends. The streams are
 * opened, and ended, in slices of the event loop (core's pacer.ts): a 64-host cell's opens are
 * ~40 ms of call set-up, its ends 64 cancelled calls, and the API waits behind either in one tick.
 */
export function startMonitor(agents: ReadonlyMap<string, AgentLink>, hosts: readonly string[], scope: string, opts: MonitorOptions): MonitorSession {
  const samples: HostSample[] = [];
  const errors = new Map<string, string>();
  const streams: Array<{ stop: AbortController; task: Promise<void> }> = [];
  let stopping = false;
  const open = async (host: string, a: AgentLink, stop: AbortController): Promise<void> => {
    try {
      for await (const s of a.streamMetrics({ intervalMs: opts.intervalMs, scope, buffer: opts.buffer ?? 60 }, { signal: stop.signal })) {
        for (const [column, value] of flattenSample(s)) samples.push({ host, timestamp: s.timestamp, column, value });
      }
    } catch (e) {
      if (!stop.signal.aborted) errors.set(host, (e as Error).message);
    }
  };
  const opening = (async () => {
    const pacer = startPacer();
    for (const host of hosts) {
      await pacer.next();
      if (stopping) return;
      const a = agents.get(host);
      if (!a) continue;
      const stop = new AbortController();
      streams.push({ stop, task: open(host, a, stop) });
    }
  })();
  return {
    async stop() {
      stopping = true;
      await opening;
      const pacer = startPacer();
      for (const s of streams) {
        await pacer.next();
        s.stop.abort();
      }
      await Promise.allSettled(streams.map((s) => s.task));
      return { samples, errors };
    },
  };
}
