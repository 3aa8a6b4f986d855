// iperf3 (throughput-basic with engine iperf3, the plain `iperf3` workload, scale-out runs):
// a fresh one-shot server per pair and run (`-s -1`, bound to the sink address and the
// pair's port), a client with `-J`. Throughput is the receiver's figure over the test time
// (`end.sum_received.bits_per_second`), which iperf3 measures after the control and data
// connections are up, so set-up does not dilute it; the `intervals`, put on a 1 s grid by their
// own start and end times (onSecondGrid), become the series. `-l` sets the bytes per write and,
// for TCP, `-M` the segment size, so the payload on the wire is the one asked for (see
// docs/workloads.md for `mss`).

import { IPERF3_PACING_TIMER_US, requireIPv4, requirePort } from '@seconet/core';
import { joinOutput, metric, ToolFailure, type SourceOutcome, type WorkloadEngine } from './engine.js';
import type { WorkloadPlan } from './plan.js';

export function iperf3ServerArgv(address: string, port: number): string[] {
  return ['iperf3', '-s', '-1', '-B', requireIPv4('pairs.sinkAddress', address), '-p', String(requirePort('pairs.port', port))];
}

export function iperf3ClientArgv(plan: WorkloadPlan, address: string, port: number): string[] {
  const p = plan.iperf3;
  const argv = ['iperf3', '-c', requireIPv4('pairs.sinkAddress', address), '-p', String(requirePort('pairs.port', port)), '-J', '-t', String(plan.durationMs / 1000), '-l', String(plan.payload), '--connect-timeout', '3000'];
  if (plan.protocol === 'udp') argv.push('-u');
  if (p.bitrate !== undefined) argv.push('-b', p.bitrate);
  if (p.bitrate !== undefined && p.bitrate !== '0' && p.pacingTimerUs !== undefined && p.pacingTimerUs !== IPERF3_PACING_TIMER_US) argv.push('--pacing-timer', String(p.pacingTimerUs));
  if (plan.protocol === 'tcp' && p.mss !== undefined) argv.push('-M', String(p.mss));
  if (p.streams > 1) argv.push('-P', String(p.streams));
  if (p.reverse) argv.push('-R');
  if (p.omitS > 0) argv.push('-O', String(p.omitS));
  return argv;
}

interface IperfSum {
  start?: number;
  end?: number;
  omitted?: boolean;
  bytes?: number;
  seconds?: number;
  bits_per_second?: number;
  retransmits?: number;
  jitter_ms?: number;
  lost_packets?: number;
  packets?: number;
  lost_percent?: number;
}

interface IperfJson {
  start?: { version?: string };
  intervals?: Array<{ sum?: IperfSum }>;
  end?: {
    sum?: IperfSum;
    sum_sent?: IperfSum;
    sum_received?: IperfSum;
    cpu_utilization_percent?: { host_total?: number; remote_total?: number };
  };
  error?: string;
}

export interface Iperf3Parse {
  readonly version: string;
  readonly metrics: SourceOutcome['metrics'];
  readonly series: SourceOutcome['series'];
}

/** Parses `iperf3 -c ... -J` output; throws ToolFailure on an iperf3 error or no output. */
export function parseIperf3(stdout: string, protocol: 'tcp' | 'udp'): Iperf3Parse {
  if (stdout.trim() === '') throw new ToolFailure('iperf3 printed nothing (killed before it finished?)', stdout);
  let j: IperfJson;
  try {
    j = JSON.parse(stdout) as IperfJson;
  } catch {
    throw new ToolFailure('iperf3 output is not JSON (cut short?)', stdout);
  }
  if (j.error) throw new ToolFailure(`iperf3: ${j.error}`, stdout);
  const end = j.end;
  const recv = end?.sum_received ?? end?.sum;
  if (!end || !recv || typeof recv.bits_per_second !== 'number') throw new ToolFailure('iperf3 output has no end summary', stdout);
  const metrics = [metric('throughput', recv.bits_per_second, 'bit/s')];
  if (end.sum_sent?.bits_per_second !== undefined) metrics.push(metric('throughput_sent', end.sum_sent.bits_per_second, 'bit/s'));
  metrics.push(metric('bytes', recv.bytes ?? 0, 'B'), metric('duration', recv.seconds ?? 0, 's'));
  if (protocol === 'tcp') metrics.push(metric('retransmits', end.sum_sent?.retransmits ?? 0, 'count'));
  if (protocol === 'udp') {
    const u = end.sum ?? recv;
    metrics.push(
      metric('jitter', u.jitter_ms ?? 0, 'ms'),
      metric('loss', u.lost_percent ?? 0, '%'),
      metric('lost_packets', u.lost_packets ?? 0, 'count'),
      metric('packets', u.packets ?? 0, 'count'),
    );
  }
  const cpu = end.cpu_utilization_percent;
  if (cpu?.host_total !== undefined) metrics.push(metric('cpu_local', cpu.host_total, '%'));
  if (cpu?.remote_total !== undefined) metrics.push(metric('cpu_remote', cpu.remote_total, '%'));
  const intervals = (j.intervals ?? []).map((i) => i.sum ?? {}).filter((x) => x.omitted !== true);
  const timed = intervals.every((x) => typeof x.start === 'number' && typeof x.end === 'number' && x.end >= x.start);
  const values = timed
    ? onSecondGrid(intervals.map((x) => ({ start: x.start!, end: x.end!, rate: x.bits_per_second ?? 0 })))
    : intervals.map((x) => x.bits_per_second ?? 0);
  return { version: j.start?.version ?? '', metrics, series: [{ name: 'throughput', unit: 'bit/s', values, intervalS: 1 }] };
}

/**
 * iperf3's intervals as one rate per second of the test. iperf3 reports an interval when its
 * timer runs; a starved client (hundreds of tools on a core) reports late and irregularly
 * (1.7 s, then 0.7 s, then 2 s, measured at 1,000 clients on 2 cores), so one value per
 * interval read as one per second would make the series shorter than the test and misplace
 * every rate in time (and with it the clients-scale common window). Each second of the grid
 * gets the time-weighted mean rate of the intervals that cover it; 1 s intervals (the normal
 * case) come out as they were, up to their timer's microseconds of drift. A last second
 * covered for less than 50 ms (the timer's drift past the end) is not a second of the test.
 */
export function onSecondGrid(intervals: ReadonlyArray<{ start: number; end: number; rate: number }>): number[] {
  if (intervals.length === 0) return [];
  const last = intervals[intervals.length - 1]!.end;
  const seconds = Math.max(1, last - Math.floor(last) < 0.05 ? Math.floor(last) : Math.ceil(last));
  const weighted = new Array<number>(seconds).fill(0);
  const covered = new Array<number>(seconds).fill(0);
  for (const iv of intervals) {
    for (let k = Math.max(0, Math.floor(iv.start)); k < seconds && k < iv.end; k++) {
      const overlap = Math.min(iv.end, k + 1) - Math.max(iv.start, k);
      if (overlap > 0) {
        weighted[k]! += iv.rate * overlap;
        covered[k]! += overlap;
      }
    }
  }
  return weighted.map((w, k) => (covered[k]! > 0 ? w / covered[k]! : 0));
}

export const iperf3Engine: WorkloadEngine = {
  name: 'iperf3',
  tools: () => ['iperf3'],
  sinkPorts: (_plan, pair) => [pair.port],
  async startSink(ctx, _plan, pair, sink) {
    const proc = ctx.spawn(iperf3ServerArgv(pair.sinkAddress, pair.port), { netns: sink.netns });
    return { procs: [proc], listenPorts: [pair.port] };
  },
  async runSource(ctx, plan, pair, source) {
    const argv = iperf3ClientArgv(plan, pair.sinkAddress, pair.port);
    const proc = ctx.spawn(argv, { netns: source.netns });
    const r = await proc.exited;
    const raw = joinOutput(r);
    try {
      const parsed = parseIperf3(r.stdout, plan.protocol === 'udp' ? 'udp' : 'tcp');
      // The segment size on the wire: the -M pin (the payload, or the path's MSS when the payload is larger).
      const seg = plan.protocol === 'tcp' && plan.iperf3.mss !== undefined ? [metric('segment_size', plan.iperf3.mss, 'B')] : [];
      return { metrics: [...parsed.metrics, ...seg], series: parsed.series, tool: 'iperf3', argv: proc.argv, rawOutput: raw };
    } catch (e) {
      if (e instanceof ToolFailure) throw new ToolFailure(e.message, raw);
      throw e;
    }
  },
};
