// Reading D-ITG 2.8.1 results. `ITGDec <log>` prints a backspace spinner, then one block per
// flow ("Flow number: N") and a "TOTAL RESULTS" block of `Name = value unit` lines; `-c <ms>
// <file>` writes the aggregate time series (time, bitrate Kbit/s, delay s, jitter s, packets
// lost per bucket). A run split over several ITGSend processes (LAB-NOTES: a process closes
// its flows one by one, so 100 flows in one process take ~100 s) gives several logs: their
// totals are combined here (sums, packet-weighted means, pooled standard deviation).
// Delays are round trips: the workloads send with `-m rttm`, so no clock sync is needed.

import type { Metric } from '../gen/seconet/agent/v1/Metric.js';
import type { Series } from '../gen/seconet/agent/v1/Series.js';
import { metric } from './engine.js';

export interface DitgStats {
  readonly flow: string;
  readonly seconds: number;
  readonly packets: number;
  readonly minDelayS: number;
  readonly maxDelayS: number;
  readonly avgDelayS: number;
  readonly jitterS: number;
  readonly stddevS: number;
  readonly bytes: number;
  readonly bitrateKbps: number;
  readonly packetRate: number;
  readonly dropped: number;
}

export interface DitgDecode {
  readonly flows: DitgStats[];
  readonly total: DitgStats | undefined;
  readonly empty: boolean;
}

/** Removes ITGDec's spinner (each frame is a backspace and one of |/-\). */
export function stripSpinner(text: string): string {
  return text.replace(/\x08[|/\\-]?/g, '');
}

function block(lines: readonly string[], flow: string): DitgStats | undefined {
  const v = new Map<string, number>();
  for (const l of lines) {
    const m = /^([A-Za-z][A-Za-z -]*?)\s*=\s*(-?[\d.]+)/.exec(l.trim());
    if (m) v.set(m[1]!.toLowerCase(), Number(m[2]));
  }
  if (!v.has('total packets')) return undefined;
  const g = (k: string): number => v.get(k) ?? 0;
  return {
    flow,
    seconds: Math.max(0, g('total time')),
    packets: g('total packets'),
    minDelayS: g('minimum delay'),
    maxDelayS: g('maximum delay'),
    avgDelayS: g('average delay'),
    jitterS: g('average jitter'),
    stddevS: g('delay standard deviation'),
    bytes: g('bytes received'),
    bitrateKbps: g('average bitrate'),
    packetRate: g('average packet rate'),
    dropped: g('packets dropped'),
  };
}

export function parseItgDec(text: string): DitgDecode {
  const clean = stripSpinner(text);
  const lines = clean.split('\n');
  const flows: DitgStats[] = [];
  let total: DitgStats | undefined;
  let cur: string[] | undefined;
  let curFlow = '';
  const flush = (): void => {
    if (cur === undefined) return;
    const b = block(cur, curFlow);
    if (b) {
      if (curFlow === '') total = b;
      else flows.push(b);
    }
    cur = undefined;
  };
  for (const l of lines) {
    const fm = /^Flow number:\s*(\d+)/.exec(l.trim());
    if (fm) {
      flush();
      cur = [];
      curFlow = fm[1]!;
      continue;
    }
    if (/TOTAL RESULTS/.test(l)) {
      flush();
      cur = [];
      curFlow = '';
      continue;
    }
    cur?.push(l);
  }
  flush();
  flows.sort((a, b) => Number(a.flow) - Number(b.flow));
  return { flows, total, empty: /Empty log file/.test(clean) || (total?.packets ?? 0) === 0 };
}

/** Combines the totals of several logs (processes) into one. */
export function combineTotals(parts: readonly DitgStats[]): DitgStats | undefined {
  const live = parts.filter((p) => p.packets > 0);
  if (live.length === 0) return parts[0];
  const n = live.reduce((a, p) => a + p.packets, 0);
  const mean = live.reduce((a, p) => a + p.avgDelayS * p.packets, 0) / n;
  const pooledVar = live.reduce((a, p) => a + p.packets * (p.stddevS ** 2 + (p.avgDelayS - mean) ** 2), 0) / n;
  return {
    flow: '',
    seconds: Math.max(...live.map((p) => p.seconds)),
    packets: n,
    minDelayS: Math.min(...live.map((p) => p.minDelayS)),
    maxDelayS: Math.max(...live.map((p) => p.maxDelayS)),
    avgDelayS: mean,
    jitterS: live.reduce((a, p) => a + p.jitterS * p.packets, 0) / n,
    stddevS: Math.sqrt(pooledVar),
    bytes: live.reduce((a, p) => a + p.bytes, 0),
    bitrateKbps: live.reduce((a, p) => a + p.bitrateKbps, 0),
    packetRate: live.reduce((a, p) => a + p.packetRate, 0),
    dropped: parts.reduce((a, p) => a + p.dropped, 0),
  };
}

export function ditgMetrics(s: DitgStats): Metric[] {
  const sent = s.packets + s.dropped;
  return [
    metric('rtt_avg', s.avgDelayS * 1000, 'ms', s.flow),
    metric('rtt_min', s.minDelayS * 1000, 'ms', s.flow),
    metric('rtt_max', s.maxDelayS * 1000, 'ms', s.flow),
    metric('rtt_stddev', s.stddevS * 1000, 'ms', s.flow),
    metric('jitter', s.jitterS * 1000, 'ms', s.flow),
    metric('loss', sent > 0 ? (100 * s.dropped) / sent : 0, '%', s.flow),
    metric('lost_packets', s.dropped, 'count', s.flow),
    metric('packets', s.packets, 'count', s.flow),
    metric('bytes', s.bytes, 'B', s.flow),
    metric('bitrate', s.bitrateKbps * 1000, 'bit/s', s.flow),
    metric('packet_rate', s.packetRate, 'pkt/s', s.flow),
    metric('duration', s.seconds, 's', s.flow),
  ];
}

export interface CombinedRow {
  readonly t: number;
  readonly bitrateKbps: number;
  readonly delayS: number;
  readonly jitterS: number;
  readonly lost: number;
}

/** Rows of an `ITGDec -c` file (the header line, if any, is skipped). */
export function parseCombinedStats(text: string): CombinedRow[] {
  const rows: CombinedRow[] = [];
  for (const l of text.split('\n')) {
    const f = l.trim().split(/\s+/).map(Number);
    if (f.length < 5 || f.some((x) => !Number.isFinite(x))) continue;
    rows.push({ t: f[0]!, bitrateKbps: f[1]!, delayS: f[2]!, jitterS: f[3]!, lost: f[4]! });
  }
  return rows;
}

/** Series over all processes: bitrate and losses add up per bucket, delay and jitter average over the processes with traffic. */
export function combineSeries(parts: readonly CombinedRow[][], intervalS: number): Series[] {
  const len = Math.max(0, ...parts.map((p) => p.length));
  const bitrate: number[] = [];
  const rtt: number[] = [];
  const jitter: number[] = [];
  const lost: number[] = [];
  for (let i = 0; i < len; i++) {
    const rows = parts.map((p) => p[i]).filter((r): r is CombinedRow => r !== undefined);
    const active = rows.filter((r) => r.bitrateKbps > 0);
    bitrate.push(rows.reduce((a, r) => a + r.bitrateKbps * 1000, 0));
    lost.push(rows.reduce((a, r) => a + r.lost, 0));
    rtt.push(active.length ? (1000 * active.reduce((a, r) => a + r.delayS, 0)) / active.length : 0);
    jitter.push(active.length ? (1000 * active.reduce((a, r) => a + r.jitterS, 0)) / active.length : 0);
  }
  return [
    { name: 'bitrate', unit: 'bit/s', values: bitrate, intervalS },
    { name: 'rtt', unit: 'ms', values: rtt, intervalS },
    { name: 'jitter', unit: 'ms', values: jitter, intervalS },
    { name: 'lost_packets', unit: 'count', values: lost, intervalS },
  ];
}
