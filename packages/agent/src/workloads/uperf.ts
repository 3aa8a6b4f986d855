// throughput-basic on uperf (the paper's tool): a profile written from protocol, payload and
// duration (connect, stream writes for the duration, disconnect), a slave `uperf -s -P port`
// in the sink and the master `uperf -m profile -R -i 1 -P port` in the source.
//
// What the parser must get right (/work/shared/fixtures/uperf/README.md): uperf's `Total`
// divides by the whole run, connect and disconnect included, and under-reports the streaming
// rate by about a third; the steady-state throughput is the streaming transaction's, taken
// from the `-R` timestamped byte counters (first to last sample of the transaction that moved
// the most bytes), or, without `-R`, from the last state of that `TxnN` progress line
// (carriage-return separated). Byte sizes are binary (M = MiB), rates decimal (Mb/s = 1e6).

import { requireIPv4, requirePort } from '@seconet/core';
import { joinOutput, metric, ToolFailure, type SourceOutcome, type WorkloadEngine } from './engine.js';
import type { WorkloadPlan } from './plan.js';
import { writeFile } from 'node:fs/promises';

export function uperfProfileName(plan: Pick<WorkloadPlan, 'kind' | 'protocol' | 'payload'>): string {
  return `${plan.kind}-${plan.protocol}-${plan.payload}`;
}

export function uperfProfile(plan: Pick<WorkloadPlan, 'kind' | 'protocol' | 'payload' | 'durationMs' | 'uperf'>, remote: string): string {
  const host = requireIPv4('pairs.sinkAddress', remote);
  return [
    '<?xml version="1.0"?>',
    `<profile name="${uperfProfileName(plan)}">`,
    `  <group nthreads="${plan.uperf.nthreads}">`,
    '    <transaction iterations="1">',
    `      <flowop type="connect" options="remotehost=${host} protocol=${plan.protocol}"/>`,
    '    </transaction>',
    `    <transaction duration="${Math.round(plan.durationMs / 1000)}s">`,
    `      <flowop type="write" options="size=${plan.payload}"/>`,
    '    </transaction>',
    '    <transaction iterations="1">',
    '      <flowop type="disconnect"/>',
    '    </transaction>',
    '  </group>',
    '</profile>',
    '',
  ].join('\n');
}

export function uperfSlaveArgv(port: number): string[] {
  return ['uperf', '-s', '-P', String(requirePort('pairs.port', port))];
}

export function uperfMasterArgv(profilePath: string, port: number): string[] {
  return ['uperf', '-m', profilePath, '-R', '-i', '1', '-P', String(requirePort('pairs.port', port))];
}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, B: 1, K: 2 ** 10, KB: 2 ** 10, M: 2 ** 20, MB: 2 ** 20, G: 2 ** 30, GB: 2 ** 30, T: 2 ** 40, TB: 2 ** 40 };
const RATE_UNITS: Readonly<Record<string, number>> = { 'b/s': 1, 'Kb/s': 1e3, 'Mb/s': 1e6, 'Gb/s': 1e9, 'Tb/s': 1e12 };

/** "663.82M", "1.44GB", "192.00B", "0" -> bytes (binary multiples, as uperf prints them). */
export function parseUperfBytes(s: string): number {
  const m = /^([\d.]+)([KMGT]?B?)$/.exec(s.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (BYTE_UNITS[m[2]!] ?? Number.NaN);
}

/** "1.07Gb/s", "365.39b/s", "0" -> bit/s (decimal multiples). */
export function parseUperfRate(s: string): number {
  const t = s.trim();
  if (t === '0') return 0;
  const m = /^([\d.]+)([KMGT]?b\/s)$/.exec(t);
  if (!m) return Number.NaN;
  return Number(m[1]) * (RATE_UNITS[m[2]!] ?? Number.NaN);
}

export interface UperfTxn {
  readonly name: string;
  readonly bytes: number;
  readonly seconds: number;
  readonly bitsPerSecond: number;
}

export interface UperfParse {
  /** Last state of each progress line (TxnN), or the -R counters summarised. */
  readonly txns: UperfTxn[];
  readonly total: UperfTxn | undefined;
  /** Steady-state throughput of the streaming transaction. */
  readonly throughput: number | undefined;
  readonly series: number[];
  readonly hosts: Array<{ host: string; seconds: number; bytes: number; bitsPerSecond: number; operations: number; errors: number }>;
  readonly error: string | undefined;
}

export function parseUperf(text: string): UperfParse {
  const lines = text.split(/[\r\n]+/).map((l) => l.trim()).filter((l) => l !== '');
  const progress = new Map<string, UperfTxn>();
  const counters = new Map<string, Array<{ t: number; bytes: number }>>();
  let total: UperfTxn | undefined;
  const hosts: UperfParse['hosts'] = [];
  let error: string | undefined;
  for (const l of lines) {
    let m = /^(Txn\d+|Total)\s+(\S+)\s*\/\s*([\d.]+)\(s\)\s*=\s*(\S+)\s+\d+op\/s$/.exec(l);
    if (m) {
      // The printed rate has three digits; bytes over seconds is the same figure, more precisely.
      const bytes = parseUperfBytes(m[2]!);
      const seconds = Number(m[3]);
      const t: UperfTxn = { name: m[1]!, bytes, seconds, bitsPerSecond: seconds > 0 ? (bytes * 8) / seconds : parseUperfRate(m[4]!) };
      if (t.name === 'Total') total = t;
      else progress.set(t.name, t);
      continue;
    }
    m = /^timestamp_ms:([\d.]+) name:(\S+) nr_bytes:(\d+) nr_ops:\d+$/.exec(l);
    if (m) {
      if (m[2] === 'Total') continue;
      const arr = counters.get(m[2]!) ?? [];
      arr.push({ t: Number(m[1]), bytes: Number(m[3]) });
      counters.set(m[2]!, arr);
      continue;
    }
    m = /^(\S+)\s+([\d.]+)s\s+(\S+)\s+(\S+)\s+(\d+)\s+([\d.]+)$/.exec(l);
    if (m && !m[1]!.startsWith('Difference')) {
      hosts.push({ host: m[1]!, seconds: Number(m[2]), bytes: parseUperfBytes(m[3]!), bitsPerSecond: parseUperfRate(m[4]!), operations: Number(m[5]), errors: Number(m[6]) });
      continue;
    }
    if (error === undefined && (/^Error /.test(l) || /^\*\* /.test(l) || /Cannot connect|Connection refused/.test(l))) error = l.replace(/^\*\*\s*/, '');
  }

  let throughput: number | undefined;
  let series: number[] = [];
  const txns: UperfTxn[] = [];
  if (counters.size > 0) {
    for (const [name, arr] of counters) {
      const first = arr[0]!;
      const last = arr[arr.length - 1]!;
      const seconds = (last.t - first.t) / 1000;
      txns.push({ name, bytes: last.bytes, seconds, bitsPerSecond: seconds > 0 ? ((last.bytes - first.bytes) * 8) / seconds : 0 });
    }
    const stream = [...txns].sort((a, b) => b.bytes - a.bytes)[0];
    if (stream && stream.bytes > 0) {
      throughput = stream.bitsPerSecond;
      const arr = counters.get(stream.name)!;
      series = arr.slice(1).map((p, i) => {
        const prev = arr[i]!;
        const dt = (p.t - prev.t) / 1000;
        return dt > 0 ? ((p.bytes - prev.bytes) * 8) / dt : 0;
      });
    }
  } else {
    txns.push(...progress.values());
    const stream = [...txns].sort((a, b) => b.bytes - a.bytes)[0];
    if (stream && stream.bytes > 0) throughput = stream.bitsPerSecond;
  }
  return { txns, total, throughput, series, hosts, error };
}

export function uperfOutcome(p: UperfParse, protocol: string): Pick<SourceOutcome, 'metrics' | 'series'> {
  if (p.throughput === undefined) throw new ToolFailure(p.error ? `uperf: ${p.error}` : 'uperf moved no data', '');
  const metrics = [metric('throughput', p.throughput, 'bit/s')];
  if (p.total) metrics.push(metric('throughput_with_setup', p.total.bitsPerSecond, 'bit/s'));
  const master = p.hosts.find((h) => h.host === 'master');
  const slaves = p.hosts.filter((h) => h.host !== 'master');
  if (master) {
    metrics.push(metric('bytes', master.bytes, 'B'), metric('duration', master.seconds, 's'), metric('errors', p.hosts.reduce((a, h) => a + h.errors, 0), 'count'));
    if (protocol === 'udp' && slaves.length > 0 && master.bytes > 0) {
      const received = slaves.reduce((a, h) => a + h.bytes, 0);
      metrics.push(metric('loss', Math.max(0, (100 * (master.bytes - received)) / master.bytes), '%'));
    }
  }
  return { metrics, series: p.series.length ? [{ name: 'throughput', unit: 'bit/s', values: p.series, intervalS: 1 }] : [] };
}

export const uperfEngine: WorkloadEngine = {
  name: 'uperf',
  tools: () => ['uperf'],
  sinkPorts: (_plan, pair) => [pair.port],
  async startSink(ctx, _plan, pair, sink) {
    const proc = ctx.spawn(uperfSlaveArgv(pair.port), { netns: sink.netns });
    return { procs: [proc], listenPorts: [pair.port] };
  },
  async runSource(ctx, plan, pair, source) {
    const profile = `${ctx.workDir}/uperf-${pair.pair}.xml`;
    await writeFile(profile, uperfProfile(plan, pair.sinkAddress), { mode: 0o600 });
    const proc = ctx.spawn(uperfMasterArgv(profile, pair.port), { netns: source.netns });
    const r = await proc.exited;
    const raw = joinOutput(r);
    const parsed = parseUperf(r.stdout + '\n' + r.stderr);
    if (r.exitCode !== 0 || parsed.throughput === undefined) {
      throw new ToolFailure(parsed.error ? `uperf: ${parsed.error}` : `uperf exited with ${r.exitCode ?? r.signal}`, raw);
    }
    return { ...uperfOutcome(parsed, plan.protocol), tool: 'uperf', argv: proc.argv, rawOutput: raw };
  },
};
