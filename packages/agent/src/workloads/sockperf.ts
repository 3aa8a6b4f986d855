// rr: request/response transactions with sockperf (Debian's `sockperf`), the netperf
// TCP_RR-style measure of the CNI studies. The sink is `sockperf server` bound to the sink
// address and the pair's port (it runs until the call stops it by PID); the source is
// `sockperf ping-pong` for the run's duration with `--full-rtt`, so every figure is a round
// trip: one message out, the server's echo back, one transaction. sockperf discards a warm-up
// at the start and reports over its "[Valid Duration]"; the transaction rate is the messages
// received in that window divided by its length. sockperf keeps one connection for the whole
// run; it cannot open a connection per transaction (TCP_CRR): the `http` workload with
// `keepalive: false` is that measure (docs/workloads.md).
//
// sockperf prints its report on stderr or stdout depending on the version and colours parts of
// it with ANSI escapes; the parser reads both streams with the escapes removed. On a refused
// connection sockperf prints "ERROR: ..." and still exits 0, so a missing report is a failure.

import { requireIPv4, requirePort } from '@seconet/core';
import { joinOutput, metric, ToolFailure, type SourceOutcome, type WorkloadEngine } from './engine.js';
import type { WorkloadPlan } from './plan.js';

export function sockperfServerArgv(plan: Pick<WorkloadPlan, 'protocol'>, address: string, port: number): string[] {
  const argv = ['sockperf', 'server', '-i', requireIPv4('pairs.sinkAddress', address), '-p', String(requirePort('pairs.port', port))];
  if (plan.protocol === 'tcp') argv.push('--tcp');
  return argv;
}

export function sockperfClientArgv(plan: Pick<WorkloadPlan, 'protocol' | 'payload' | 'durationMs'>, address: string, port: number): string[] {
  const argv = ['sockperf', 'ping-pong', '-i', requireIPv4('pairs.sinkAddress', address), '-p', String(requirePort('pairs.port', port)), '-t', String(Math.round(plan.durationMs / 1000)), '-m', String(plan.payload), '--full-rtt'];
  if (plan.protocol === 'tcp') argv.push('--tcp');
  return argv;
}

export interface SockperfParse {
  readonly version: string;
  readonly metrics: SourceOutcome['metrics'];
}

const ANSI = /\u001b\[[0-9;]*m/g;

function num(re: RegExp, text: string): number | undefined {
  const m = re.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Parses a `sockperf ping-pong --full-rtt` report (µs); throws ToolFailure when it has none. */
export function parseSockperf(output: string): SockperfParse {
  const text = output.replace(ANSI, '');
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)/.exec(text);
  if (!valid) {
    const err = /ERROR: (.+)/.exec(text)?.[1]?.trim();
    throw new ToolFailure(err ? `sockperf: ${err}` : 'sockperf printed no report (killed before the test ended?)', output);
  }
  const seconds = Number(valid[1]);
  const received = Number(valid[3]);
  if (!(seconds > 0) || received === 0) throw new ToolFailure(`sockperf measured no transaction in ${seconds} s`, output);
  const avg = num(/avg-rtt=([\d.]+)/, text);
  if (avg === undefined) throw new ToolFailure('sockperf report has no avg-rtt line (was --full-rtt dropped?)', output);
  const metrics = [
    metric('tps', received / seconds, '1/s'),
    metric('transactions', received, 'count'),
    metric('duration', seconds, 's'),
    metric('rtt_avg', avg, 'us'),
  ];
  const std = num(/avg-rtt=[\d.]+ \(std-dev=([\d.]+)\)/, text);
  if (std !== undefined) metrics.push(metric('rtt_stddev', std, 'us'));
  const pct: Array<[string, string]> = [['50.000', 'rtt_p50'], ['90.000', 'rtt_p90'], ['99.000', 'rtt_p99'], ['99.900', 'rtt_p999']];
  for (const [p, name] of pct) {
    const v = num(new RegExp(`percentile ${p.replace('.', '\\.')} =\\s*([\\d.]+)`), text);
    if (v !== undefined) metrics.push(metric(name, v, 'us'));
  }
  const min = num(/<MIN> observation =\s*([\d.]+)/, text);
  const max = num(/<MAX> observation =\s*([\d.]+)/, text);
  if (min !== undefined) metrics.push(metric('rtt_min', min, 'us'));
  if (max !== undefined) metrics.push(metric('rtt_max', max, 'us'));
  const dropped = num(/# dropped messages = (\d+)/, text);
  if (dropped !== undefined) metrics.push(metric('dropped', dropped, 'count'));
  return { version: /version #?([\w.-]+)/.exec(text)?.[1] ?? '', metrics };
}

export const sockperfEngine: WorkloadEngine = {
  name: 'sockperf',
  tools: () => ['sockperf'],
  sinkPorts: (_plan, pair) => [pair.port],
  async startSink(ctx, plan, pair, sink) {
    const proc = ctx.spawn(sockperfServerArgv(plan, pair.sinkAddress, pair.port), { netns: sink.netns });
    return { procs: [proc], listenPorts: [pair.port] };
  },
  async runSource(ctx, plan, pair, source) {
    const proc = ctx.spawn(sockperfClientArgv(plan, pair.sinkAddress, pair.port), { netns: source.netns });
    const r = await proc.exited;
    const raw = joinOutput(r);
    if (r.exitCode !== 0 && !/\[Valid Duration\]/.test(raw)) throw new ToolFailure(`sockperf exited with code ${r.exitCode ?? r.signal}`, raw);
    const parsed = parseSockperf(raw);
    return { metrics: parsed.metrics, series: [], tool: 'sockperf', argv: proc.argv, rawOutput: raw };
  },
};
