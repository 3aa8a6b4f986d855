// latency-basic: iputils ping from the source container to the sink address. ICMP needs no
// sink process, so the sink side only reports ready. Every reply's RTT is kept (series "rtt",
// for box plots) next to the summary lines ping(8) prints: "N packets transmitted, M
// received, L% packet loss" and "rtt min/avg/max/mdev = a/b/c/d ms". A run cut short (killed)
// has no summary: the metrics then come from the replies seen, and say so in `complete`.

import { requireIPv4 } from '@seconet/core';
import { joinOutput, metric, ToolFailure, type SourceOutcome, type WorkloadEngine } from './engine.js';
import type { WorkloadPlan } from './plan.js';

export interface PingParse {
  readonly rtts: number[];
  readonly transmitted: number;
  readonly received: number;
  readonly lossPercent: number;
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly mdev: number;
  /** False when no summary was printed (the process was killed). */
  readonly complete: boolean;
  readonly errors: number;
}

export function pingArgv(plan: WorkloadPlan, target: string): string[] {
  const pattern = plan.ping.pattern === undefined ? [] : ['-p', plan.ping.pattern];
  return ['ping', '-n', '-c', String(plan.ping.count), '-i', String(plan.ping.intervalS), '-s', String(plan.payload), '-W', String(plan.ping.waitS), ...pattern, requireIPv4('pairs.sinkAddress', target)];
}

function median(xs: readonly number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function parsePing(text: string): PingParse {
  const rtts: number[] = [];
  for (const m of text.matchAll(/icmp_seq=\d+ ttl=\d+ time=([\d.]+) ms/g)) rtts.push(Number(m[1]));
  const sum = /(\d+) packets transmitted, (\d+) received,(?: \+(\d+) errors,)?(?: \+\d+ duplicates,)? ([\d.]+)% packet loss/.exec(text);
  const rtt = /rtt min\/avg\/max\/mdev = ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(text);
  if (sum) {
    return {
      rtts,
      transmitted: Number(sum[1]),
      received: Number(sum[2]),
      errors: Number(sum[3] ?? 0),
      lossPercent: Number(sum[4]),
      min: rtt ? Number(rtt[1]) : 0,
      avg: rtt ? Number(rtt[2]) : 0,
      max: rtt ? Number(rtt[3]) : 0,
      mdev: rtt ? Number(rtt[4]) : 0,
      complete: true,
    };
  }
  const n = rtts.length;
  const avg = n ? rtts.reduce((a, b) => a + b, 0) / n : 0;
  const mdev = n ? Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / n) : 0;
  return { rtts, transmitted: n, received: n, errors: 0, lossPercent: 0, min: n ? Math.min(...rtts) : 0, avg, max: n ? Math.max(...rtts) : 0, mdev, complete: false };
}

export function pingOutcome(p: PingParse): Pick<SourceOutcome, 'metrics' | 'series'> {
  const metrics = [
    metric('packets_sent', p.transmitted, 'count'),
    metric('packets_received', p.received, 'count'),
    metric('loss', p.lossPercent, '%'),
  ];
  if (p.received > 0) {
    metrics.push(
      metric('rtt_min', p.min, 'ms'),
      metric('rtt_avg', p.avg, 'ms'),
      metric('rtt_max', p.max, 'ms'),
      metric('rtt_mdev', p.mdev, 'ms'),
      metric('rtt_median', median(p.rtts), 'ms'),
    );
  }
  return { metrics, series: [{ name: 'rtt', unit: 'ms', values: p.rtts, intervalS: 0 }] };
}

export const pingEngine: WorkloadEngine = {
  name: 'ping',
  tools: (side) => (side === 'source' ? ['ping'] : []),
  sinkPorts: () => [],
  startSink: async () => ({ procs: [], listenPorts: [] }),
  async runSource(ctx, plan, pair, source) {
    const argv = pingArgv(plan, pair.sinkAddress);
    const proc = ctx.spawn(argv, { netns: source.netns });
    const r = await proc.exited;
    const raw = joinOutput(r);
    const parsed = parsePing(r.stdout);
    // Exit 1: ran, no reply at all (a measurement: 100% loss). Exit 2 or other: ping failed.
    if (r.exitCode !== 0 && r.exitCode !== 1) {
      throw new ToolFailure(`ping exited with ${r.exitCode ?? r.signal}: ${r.stderr.trim().split('\n').pop() ?? ''}`, raw, ctx.signal.aborted ? 'CANCELLED' : 'COMMAND_FAILED');
    }
    if (!parsed.complete) throw new ToolFailure('ping printed no summary', raw);
    return { ...pingOutcome(parsed), tool: 'ping', argv: proc.argv, rawOutput: raw };
  },
};
