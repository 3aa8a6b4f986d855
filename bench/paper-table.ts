// The paper's multi-host tunnel table from the results of `seconet run
// examples/paper-tunnels-table.yaml` (its CSV): per tunnel, the median RTT (each repetition's
// per-packet median) and the median TCP throughput at 64, 653 and 1370 B, each with its
// distribution-free 95 % interval over the repetitions (core's medianInterval: order statistics,
// no resampling), and the ratio to tunnel `none` measured in the same run, the baseline. A
// 1370 B cell whose segments were clamped to the path says so with the segment size.
// Run: node --import=tsx --conditions=seconet-source bench/paper-table.ts RESULTS.csv [--json]

import { readFileSync } from 'node:fs';
import { medianInterval, summarize, type ResultRow } from '@seconet/core';
import { fromCsv } from '../packages/controller/src/export/index.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
if (file === undefined) throw new Error('usage: bench/paper-table.ts RESULTS.csv [--json]');
const rows: ResultRow[] = fromCsv(readFileSync(file, 'utf8')).filter((r) => !r.pair.startsWith('host/') && r.flow === '');

const ORDER = ['none', 'vxlan', 'ipsec', 'wireguard', 'openvpn', 'tinc'];
const PAYLOADS = [64, 653, 1370];

interface Stat { median: number; low: number; high: number; coverage: number; n: number }

function stat(values: number[]): Stat | undefined {
  if (values.length === 0) return undefined;
  const ci = medianInterval(values, 0.95);
  return { median: summarize(values).median, low: ci.low, high: ci.high, coverage: ci.coverage, n: values.length };
}

/** One value per repetition: the mean over the run's pairs. */
function perRun(tunnel: string, workload: string, metric: string): number[] {
  const byRun = new Map<string, number[]>();
  for (const r of rows) if (r.tunnel === tunnel && (r.workload === workload || r.workload_kind === workload) && r.metric === metric) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r.value]);
  return [...byRun.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
}

const tunnels = ORDER.filter((t) => rows.some((r) => r.tunnel === t));
const out = tunnels.map((tunnel) => {
  const variant = rows.find((r) => r.tunnel === tunnel)?.tunnel_variant ?? '';
  const rtt = stat(perRun(tunnel, 'latency-basic', 'rtt_median'));
  const thr = Object.fromEntries(PAYLOADS.map((p) => {
    const w = `throughput-basic/tcp/${p}`;
    const seg = perRun(tunnel, w, 'segment_size');
    return [p, { ...stat(perRun(tunnel, w, 'throughput').map((v) => v / 1e6)), segment: seg.length > 0 ? Math.min(...seg) : undefined }];
  })) as Record<number, Partial<Stat> & { segment: number | undefined }>;
  return { tunnel, variant, rtt, thr };
});

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} else {
  const base = out.find((o) => o.tunnel === 'none');
  const f = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const ratio = (x: number | undefined, b: number | undefined): string => (x === undefined || b === undefined || b === 0 ? '' : ` (${(x / b).toFixed(2)}x)`);
  const lines = [
    `| tunnel (variant) | median RTT, ms [95 % CI] | TCP 64 B, Mbit/s [95 % CI] | TCP 653 B | TCP 1370 B |`,
    '|---|---|---|---|---|',
  ];
  for (const o of out) {
    const cells = PAYLOADS.map((p) => {
      const t = o.thr[p]!;
      const seg = p === 1370 && t.segment !== undefined && t.segment < p ? `; segments ${t.segment} B` : '';
      return `${f(t.median, 0)} [${f(t.low, 0)}-${f(t.high, 0)}]${ratio(t.median, base?.thr[p]?.median)}${seg}`;
    });
    lines.push(`| ${o.tunnel}${o.tunnel === 'none' ? '' : ` (${o.variant})`} | ${f(o.rtt?.median, 3)} [${f(o.rtt?.low, 3)}-${f(o.rtt?.high, 3)}]${ratio(o.rtt?.median, base?.rtt?.median)} | ${cells.join(' | ')} |`);
  }
  const n = out[0]?.rtt?.n ?? 0;
  lines.push('', `${n} repetitions per cell; intervals: order statistics over the repetitions (coverage ${((out[0]?.rtt?.coverage ?? 0) * 100).toFixed(1)} %); ratios against tunnel none from the same run.`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
