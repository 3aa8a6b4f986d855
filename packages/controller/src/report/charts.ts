// The report's figures as Vega-Lite specs, in the spirit of the SeCoNetBench paper: latency box
// plots per technology with and without filtering (from per-packet RTTs), throughput vs payload
// per tunnel, throughput and latency vs rule count per filter, throughput vs pairs and vs
// clients, host CPU and softirq per cell. Each builder returns undefined when the data lack
// what its figure needs, so a running experiment shows the figures it can. Box statistics are
// computed here (stats/, R type 7 quartiles, Tukey whiskers) rather than by Vega-Lite, so the
// SVG stays small with thousands of RTTs and matches the tables.

import { maxOf, minOf, summarize, type ResultRow } from '@seconet/core';
import type { TopLevelSpec } from 'vega-lite';
import { MAIN_METRIC, isPairRow, points, runValues, techLabeler, type Point } from './groups.js';
import type { ReportData } from './types.js';
import { CORE_SATURATED_PCT } from '../monitor/validity.js';
import { CLIENTS_SUMMARY_PAIR } from '../aggregator/aggregate.js';

export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
  /** The runs whose values the figure draws (for the validity marks); absent: not tied to runs. */
  readonly runs?: ReadonlySet<string>;
}

const runsOf = (rows: Iterable<Pick<ResultRow, 'run'>>): Set<string> => new Set([...rows].map((r) => r.run));

const THROUGHPUT_KINDS = new Set(['throughput-basic', 'iperf3', 'pairs-scale']);
const MAX_OUTLIERS = 60;
const PALETTE = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#bab0ac', '#ff9da6'];

const mbit = (bps: number): number => +(bps / 1e6).toFixed(3);
/** Dash legends drawn as dashed strokes, not as the points the lines carry. */
const DASH_LEGEND = { symbolType: 'stroke', symbolStrokeWidth: 2, symbolSize: 400, encode: { symbols: { update: { stroke: { value: '#333' }, fill: { value: 'transparent' } } } } } as const;

/** Log scale when values span more than 20x (userspace VPNs vs kernel paths), else linear from zero. */
function yScale(values: readonly number[]): Record<string, unknown> {
  const pos = values.filter((v) => v > 0);
  if (pos.length === 0) return {};
  return maxOf(pos) / minOf(pos) > 20 ? { type: 'log' } : { zero: true };
}

/** Filter names with none first, then in order of appearance. */
function filterOrder(names: Iterable<string>): string[] {
  const seen = [...new Set(names)];
  return [...seen.filter((f) => f === 'none'), ...seen.filter((f) => f !== 'none')];
}

/** The payload used where a figure fixes one: 653 B (the paper's default) when measured, else the largest. */
function referencePayload(rows: readonly ResultRow[]): number | undefined {
  const ps = new Set(rows.map((r) => r.payload));
  if (ps.size === 0) return undefined;
  return ps.has(653) ? 653 : maxOf(ps);
}

/** Rows of the smallest container count, and per setup of its smallest rule count. */
function baseline(rows: readonly ResultRow[]): ResultRow[] {
  const c = minOf(rows.map((r) => r.containers));
  const minRules = new Map<string, number>();
  for (const r of rows) {
    const k = `${r.network}/${r.tunnel}/${r.filter}`;
    minRules.set(k, Math.min(minRules.get(k) ?? Infinity, r.rules));
  }
  return rows.filter((r) => r.containers === c && r.rules === minRules.get(`${r.network}/${r.tunnel}/${r.filter}`));
}

function notReference(data: ReportData): (r: ResultRow) => boolean {
  const refs = new Set(data.cells.filter((v) => v.cell.reference !== undefined).map((v) => v.cell.id));
  return (r) => !refs.has(r.cell);
}

export function latencyBoxes(data: ReportData): Chart | undefined {
  const runRow = new Map<string, ResultRow>();
  const measured = notReference(data);
  for (const r of data.rows) if (r.workload_kind === 'latency-basic' && isPairRow(r) && measured(r) && !runRow.has(r.run)) runRow.set(r.run, r);
  const withSeries = data.series.filter((s) => s.name === 'rtt' && runRow.has(s.run));
  if (withSeries.length === 0) return undefined;
  const base = new Set(baseline([...runRow.values()]).map((r) => r.run));
  const tech = techLabeler([...runRow.values()]);
  const pooled = new Map<string, { tech: string; filter: string; values: number[] }>();
  let containers = 0;
  for (const s of withSeries) {
    if (!base.has(s.run)) continue;
    const r = runRow.get(s.run)!;
    containers = r.containers;
    const k = `${tech(r)}\u0000${r.filter}`;
    const g = pooled.get(k) ?? { tech: tech(r), filter: r.filter, values: [] };
    for (const v of s.values) g.values.push(v);
    pooled.set(k, g);
  }
  const boxes: Array<Record<string, unknown>> = [];
  const outliers: Array<Record<string, unknown>> = [];
  for (const g of pooled.values()) {
    const s = summarize(g.values);
    if (s.n === 0) continue;
    boxes.push({ tech: g.tech, filter: g.filter, q1: s.q1, q3: s.q3, median: s.median, lo: s.whiskerLow, hi: s.whiskerHigh, n: s.n });
    const step = Math.max(1, Math.ceil(s.outliers.length / MAX_OUTLIERS));
    for (let i = 0; i < s.outliers.length; i += step) outliers.push({ tech: g.tech, filter: g.filter, rtt: s.outliers[i] });
  }
  if (boxes.length === 0) return undefined;
  const filters = filterOrder(boxes.map((b) => b['filter'] as string));
  // A tail of a few slow packets (userspace VPNs under load) would squash every box against
  // the axis on a linear scale: log scale when the drawn values span more than 20x.
  const y = yScale([...boxes.flatMap((b) => [b['lo'] as number, b['hi'] as number]), ...outliers.map((o) => o['rtt'] as number)]);
  const enc = {
    x: { field: 'tech', type: 'nominal', title: 'tunnel', sort: null, axis: { labelAngle: 0, labelLimit: 400 } },
    xOffset: { field: 'filter', type: 'nominal', sort: filters },
    color: { field: 'filter', type: 'nominal', title: 'filter', scale: { domain: filters, range: PALETTE } },
  } as const;
  const spec = {
    // Each tunnel's band holds one box per filter and stays wide enough for its label.
    width: { step: Math.max(14, Math.ceil(64 / filters.length)) },
    height: 260,
    layer: [
      { data: { values: boxes }, mark: { type: 'rule' }, encoding: { ...enc, y: { field: 'lo', type: 'quantitative', title: 'RTT (ms)', scale: y }, y2: { field: 'hi' } } },
      { data: { values: boxes }, mark: { type: 'bar', size: 14 }, encoding: { ...enc, y: { field: 'q1', type: 'quantitative', scale: y }, y2: { field: 'q3' }, tooltip: [{ field: 'n' }, { field: 'median' }] } },
      { data: { values: boxes }, mark: { type: 'tick', color: 'white', size: 16, thickness: 2 }, encoding: { x: enc.x, xOffset: enc.xOffset, y: { field: 'median', type: 'quantitative', scale: y } } },
      ...(outliers.length > 0 ? [{ data: { values: outliers }, mark: { type: 'point', size: 12, filled: true, opacity: 0.6 }, encoding: { ...enc, y: { field: 'rtt', type: 'quantitative', scale: y } } }] : []),
    ],
  };
  return {
    id: 'latency-box',
    runs: base,
    title: 'Latency per tunnel and filter',
    caption: `Per-packet ping RTTs of latency-basic, pooled over repetitions and pairs; ${containers} containers, each setup at its smallest rule count. Box: quartiles (R type 7); white tick: median; whiskers: 1.5 IQR (Tukey); dots: outliers (at most ${MAX_OUTLIERS} drawn per box).${y['type'] === 'log' ? ' RTT axis logarithmic (the values span more than 20x).' : ''}`,
    spec: spec as unknown as TopLevelSpec,
  };
}

export function throughputVsPayload(data: ReportData): Chart | undefined {
  const measured = notReference(data);
  const rows = baseline(data.rows.filter((r) => THROUGHPUT_KINDS.has(r.workload_kind) && r.metric === 'throughput' && isPairRow(r) && measured(r)));
  if (new Set(rows.map((r) => r.payload)).size < 2) return undefined;
  const tech = techLabeler(rows);
  const pts = points(runValues(rows, 'throughput'), (r) => `${tech(r)}|${r.filter}|${r.protocol}|${r.payload}`).map((p) => ({
    tech: tech(p.row), filter: p.row.filter, protocol: p.row.protocol, payload: p.row.payload, mbit: mbit(p.mean), low: mbit(p.low), high: mbit(p.high), n: p.n,
  }));
  const protocols = new Set(pts.map((p) => p.protocol));
  const enc = { x: { field: 'payload', type: 'quantitative', title: 'payload (B)', axis: { values: [...new Set(pts.map((p) => p.payload))].sort((a, b) => a - b) } }, color: { field: 'tech', type: 'nominal', title: 'tunnel', scale: { range: PALETTE } }, strokeDash: { field: 'filter', type: 'nominal', title: 'filter', legend: DASH_LEGEND } };
  const layer = {
    layer: [
      { mark: { type: 'line', point: true }, encoding: { ...enc, y: { field: 'mbit', type: 'quantitative', title: 'throughput per pair (Mbit/s)', scale: yScale(pts.map((p) => p.mbit)) }, tooltip: [{ field: 'tech' }, { field: 'filter' }, { field: 'payload' }, { field: 'mbit' }, { field: 'n' }] } },
      { mark: { type: 'rule' }, encoding: { x: enc.x, color: enc.color, y: { field: 'low', type: 'quantitative', scale: yScale(pts.map((p) => p.mbit)) }, y2: { field: 'high' } } },
    ],
  };
  const spec = protocols.size > 1
    ? { data: { values: pts }, facet: { column: { field: 'protocol', type: 'nominal' } }, spec: { width: 300, height: 240, ...layer } }
    : { data: { values: pts }, width: 420, height: 260, ...layer };
  return {
    id: 'throughput-payload',
    runs: runsOf(rows),
    title: 'Throughput vs payload size per tunnel',
    caption: 'Mean over repetitions of the per-pair throughput; bars: 95 % t interval over repetitions. Smallest container count, each setup at its smallest rule count.',
    spec: spec as unknown as TopLevelSpec,
  };
}

function vsRules(data: ReportData, metric: 'throughput' | 'rtt_avg'): Chart | undefined {
  const measured = notReference(data);
  const kinds = metric === 'throughput' ? THROUGHPUT_KINDS : new Set(['latency-basic']);
  let rows = data.rows.filter((r) => kinds.has(r.workload_kind) && r.metric === metric && r.filter !== 'none' && isPairRow(r) && measured(r));
  const c = minOf(rows.map((r) => r.containers));
  rows = rows.filter((r) => r.containers === c);
  if (metric === 'throughput') {
    const p = referencePayload(rows);
    rows = rows.filter((r) => r.payload === p && r.protocol === (rows.some((x) => x.protocol === 'tcp') ? 'tcp' : r.protocol));
  }
  if (new Set(rows.map((r) => r.rules)).size < 2) return undefined;
  const tech = techLabeler(rows);
  const scale = metric === 'throughput' ? mbit : (x: number): number => +x.toFixed(4);
  const pts = points(runValues(rows, metric), (r) => `${tech(r)}|${r.filter}|${r.rules}`).map((p) => ({
    tech: tech(p.row), filter: p.row.filter, rules: p.row.rules, y: scale(p.mean), low: scale(p.low), high: scale(p.high), n: p.n,
  }));
  const title = metric === 'throughput' ? 'throughput per pair (Mbit/s)' : 'mean RTT (ms)';
  const spec = {
    data: { values: pts },
    width: 420,
    height: 240,
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x: { field: 'rules', type: 'quantitative', title: 'extra filter rules', scale: { type: 'symlog' }, axis: { values: [...new Set(pts.map((p) => p.rules))].sort((a, b) => a - b) } }, y: { field: 'y', type: 'quantitative', title, scale: yScale(pts.map((p) => p.y)) }, color: { field: 'tech', type: 'nominal', title: 'tunnel', scale: { range: PALETTE } }, strokeDash: { field: 'filter', type: 'nominal', title: 'filter', legend: DASH_LEGEND }, tooltip: [{ field: 'filter' }, { field: 'tech' }, { field: 'rules' }, { field: 'y' }, { field: 'n' }] } },
      { mark: { type: 'rule' }, encoding: { x: { field: 'rules', type: 'quantitative', scale: { type: 'symlog' } }, y: { field: 'low', type: 'quantitative', scale: yScale(pts.map((p) => p.y)) }, y2: { field: 'high' }, color: { field: 'tech', type: 'nominal' } } },
    ],
  };
  return {
    id: metric === 'throughput' ? 'throughput-rules' : 'latency-rules',
    runs: runsOf(rows),
    title: metric === 'throughput' ? 'Throughput vs rule count per tunnel and filter' : 'Latency vs rule count per tunnel and filter',
    caption: `${metric === 'throughput' ? 'Per-pair throughput' : 'Per-pair mean RTT (latency-basic)'}, mean over repetitions with 95 % t interval; ${c} containers${metric === 'throughput' ? `, payload ${rows[0]?.payload ?? ''} B` : ''}. Rule axis is symmetric-log.`,
    spec: spec as unknown as TopLevelSpec,
  };
}

export const throughputVsRules = (d: ReportData): Chart | undefined => vsRules(d, 'throughput');
export const latencyVsRules = (d: ReportData): Chart | undefined => vsRules(d, 'rtt_avg');

export function throughputVsPairs(data: ReportData): Chart | undefined {
  const measured = notReference(data);
  let rows = data.rows.filter((r) => THROUGHPUT_KINDS.has(r.workload_kind) && r.metric === 'throughput' && isPairRow(r) && measured(r));
  const p = referencePayload(rows);
  rows = rows.filter((r) => r.payload === p);
  const minRules = minOf(rows.map((r) => r.rules));
  rows = rows.filter((r) => r.rules === minRules || r.filter === 'none');
  if (new Set(rows.map((r) => r.containers)).size < 2) return undefined;
  const tech = techLabeler(rows);
  const pts = points(runValues(rows, 'throughput', 'sum'), (r) => `${tech(r)}|${r.filter}|${r.protocol}|${r.containers}`).map((q) => ({
    tech: tech(q.row), filter: q.row.filter, pairs: q.row.containers / 2, y: mbit(q.mean), low: mbit(q.low), high: mbit(q.high), n: q.n,
  }));
  return {
    id: 'throughput-pairs',
    runs: runsOf(rows),
    title: 'Throughput vs number of source-sink pairs',
    caption: `Sum over all pairs running at once, mean over repetitions with 95 % t interval; payload ${p ?? ''} B, smallest rule count.`,
    spec: {
      data: { values: pts },
      width: 420,
      height: 240,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'pairs', type: 'quantitative', title: 'pairs', axis: { tickMinStep: 1 } }, y: { field: 'y', type: 'quantitative', title: 'total throughput (Mbit/s)', scale: yScale(pts.map((p) => p.y)) }, color: { field: 'tech', type: 'nominal', title: 'tunnel', scale: { range: PALETTE } }, strokeDash: { field: 'filter', type: 'nominal', title: 'filter', legend: DASH_LEGEND } } },
        { mark: { type: 'rule' }, encoding: { x: { field: 'pairs', type: 'quantitative' }, y: { field: 'low', type: 'quantitative', scale: yScale(pts.map((p) => p.y)) }, y2: { field: 'high' }, color: { field: 'tech', type: 'nominal' } } },
      ],
    } as unknown as TopLevelSpec,
  };
}

/** Mean RTT (latency-basic) against the number of source-sink pairs, per tunnel and filter. */
export function latencyVsPairs(data: ReportData): Chart | undefined {
  const measured = notReference(data);
  let rows = data.rows.filter((r) => r.workload_kind === 'latency-basic' && r.metric === 'rtt_avg' && isPairRow(r) && measured(r));
  const minRules = minOf(rows.map((r) => r.rules));
  rows = rows.filter((r) => r.rules === minRules || r.filter === 'none');
  if (new Set(rows.map((r) => r.containers)).size < 2) return undefined;
  const tech = techLabeler(rows);
  const ms = (x: number): number => +x.toFixed(4);
  const pts = points(runValues(rows, 'rtt_avg'), (r) => `${tech(r)}|${r.filter}|${r.containers}`).map((q) => ({
    tech: tech(q.row), filter: q.row.filter, pairs: q.row.containers / 2, y: ms(q.mean), low: ms(q.low), high: ms(q.high), n: q.n,
  }));
  const y = yScale(pts.map((p) => p.y));
  return {
    id: 'latency-pairs',
    title: 'Latency vs number of source-sink pairs',
    caption: 'Per-pair mean ping RTT (latency-basic) with every pair pinging at once, mean over repetitions with 95 % t interval; smallest rule count.',
    runs: runsOf(rows),
    spec: {
      data: { values: pts },
      width: 460,
      height: 240,
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'pairs', type: 'quantitative', title: 'source-sink pairs', axis: { tickMinStep: 1 } }, y: { field: 'y', type: 'quantitative', title: 'mean RTT per pair (ms)', scale: y }, color: { field: 'tech', type: 'nominal', title: 'tunnel', scale: { range: PALETTE } }, strokeDash: { field: 'filter', type: 'nominal', title: 'filter', legend: DASH_LEGEND }, tooltip: [{ field: 'tech' }, { field: 'filter' }, { field: 'pairs' }, { field: 'y' }, { field: 'n' }] } },
        { mark: { type: 'rule' }, encoding: { x: { field: 'pairs', type: 'quantitative' }, y: { field: 'low', type: 'quantitative', scale: y }, y2: { field: 'high' }, color: { field: 'tech', type: 'nominal' } } },
      ],
    } as unknown as TopLevelSpec,
  };
}

const DITG_KINDS = ['bursty', 'tcp-100', 'quake3', 'video'] as const;
const DITG_MEASURES: ReadonlyArray<{ metric: string; label: string; scale: (x: number) => number }> = [
  { metric: 'rtt_avg', label: 'mean RTT (ms)', scale: (x) => +x.toFixed(4) },
  { metric: 'jitter', label: 'jitter (ms)', scale: (x) => +x.toFixed(4) },
  { metric: 'loss', label: 'loss (%)', scale: (x) => +x.toFixed(3) },
  { metric: 'bitrate', label: 'bitrate (Mbit/s)', scale: mbit },
];

/** The paper's D-ITG workloads per tunnel: RTT, jitter, loss and bitrate, one panel per workload and measure. */
export function ditgPerTunnel(data: ReportData): Chart | undefined {
  const measured = notReference(data);
  const kinds = new Set<string>(DITG_KINDS);
  const all = baseline(data.rows.filter((r) => kinds.has(r.workload_kind) && isPairRow(r) && measured(r)));
  if (all.length === 0) return undefined;
  const tech = techLabeler(all);
  const values: Array<Record<string, unknown>> = [];
  const used: ResultRow[] = [];
  for (const m of DITG_MEASURES) {
    const rows = all.filter((r) => r.metric === m.metric);
    for (const r of rows) used.push(r);
    for (const q of points(runValues(rows, m.metric), (r) => `${r.workload_kind}|${tech(r)}|${r.filter}`)) {
      values.push({ workload: q.row.workload_kind, measure: m.label, tech: tech(q.row), filter: q.row.filter, y: m.scale(q.mean), low: m.scale(q.low), high: m.scale(q.high), n: q.n });
    }
  }
  if (values.length === 0) return undefined;
  const workloads = DITG_KINDS.filter((k) => values.some((v) => v['workload'] === k));
  const filters = filterOrder(values.map((v) => v['filter'] as string));
  const enc = {
    x: { field: 'tech', type: 'nominal', title: null, sort: null, axis: { labelAngle: -45, labelLimit: 120 } },
    xOffset: { field: 'filter', type: 'nominal', sort: filters },
    color: { field: 'filter', type: 'nominal', title: 'filter', scale: { domain: filters, range: PALETTE } },
  };
  return {
    id: 'ditg',
    title: 'D-ITG workloads per tunnel: delay, jitter, loss and bitrate',
    caption: `The paper's traffic models (${workloads.join(', ')}; one row each), measured by D-ITG in RTT mode: mean RTT, jitter, loss and bitrate per pair (flow totals), mean over repetitions; black bars: 95 % t interval over repetitions. x: tunnel. Smallest container count, each setup at its smallest rule count. Each panel has its own y scale.`,
    runs: runsOf(used),
    spec: {
      data: { values },
      facet: {
        row: { field: 'workload', type: 'nominal', title: null, sort: workloads, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
        column: { field: 'measure', type: 'nominal', title: null, sort: DITG_MEASURES.map((m) => m.label), header: { labelFontSize: 12, labelLimit: 200 } },
      },
      spec: {
        width: 170,
        height: 110,
        layer: [
          { mark: { type: 'bar' }, encoding: { ...enc, y: { field: 'y', type: 'quantitative', title: null }, tooltip: [{ field: 'workload' }, { field: 'measure' }, { field: 'tech' }, { field: 'filter' }, { field: 'y' }, { field: 'n' }] } },
          { mark: { type: 'rule', color: '#222' }, encoding: { x: enc.x, xOffset: enc.xOffset, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    } as unknown as TopLevelSpec,
  };
}

export function throughputVsClients(data: ReportData): Chart | undefined {
  const measured = notReference(data);
  // The run's total inside the window all its clients measured together (the aggregator's
  // summary row), not the sum of whole-run rates of clients that started at different moments.
  const rows = data.rows.filter((r) => r.workload_kind === 'clients-scale' && r.metric === 'throughput' && r.pair === CLIENTS_SUMMARY_PAIR && r.flow === 'total' && measured(r) && /\/\d+c$/.test(r.workload));
  const clientsOf = (r: ResultRow): number => Number(/\/(\d+)c$/.exec(r.workload)![1]);
  if (new Set(rows.map(clientsOf)).size < 2) return undefined;
  const tech = techLabeler(rows);
  const pts = points(rows.map((r) => ({ run: r.run, row: r, value: r.value, pairs: 1 })), (r) => `${tech(r)}|${r.filter}|${clientsOf(r)}`).map((q) => ({
    tech: tech(q.row), filter: q.row.filter, clients: clientsOf(q.row), y: mbit(q.mean), n: q.n,
  }));
  return {
    id: 'throughput-clients',
    runs: runsOf(rows),
    title: 'Throughput vs number of clients',
    caption: 'clients-scale: N clients against one server, total throughput while every client was measuring (the common window), mean over repetitions.',
    spec: {
      data: { values: pts },
      width: 420,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'clients', type: 'quantitative' }, y: { field: 'y', type: 'quantitative', title: 'total throughput (Mbit/s)', scale: yScale(pts.map((p) => p.y)) }, color: { field: 'tech', type: 'nominal', title: 'tunnel', scale: { range: PALETTE } }, strokeDash: { field: 'filter', type: 'nominal', title: 'filter', legend: DASH_LEGEND } },
    } as unknown as TopLevelSpec,
  };
}

export function hostLoad(data: ReportData): Chart | undefined {
  if (data.hostSamples.length === 0) return undefined;
  const runCell = new Map(data.runs.map((r) => [r.id, r.cell]));
  for (const r of data.rows) if (!runCell.has(r.run)) runCell.set(r.run, r.cell);
  const cells = new Map(data.cells.map((v) => [v.cell.id, v.cell]));
  const acc = new Map<string, { busy: number[]; siq: number[]; core: number[]; cell: string; host: string }>();
  const bySample = new Map<string, { cell: string; host: string; busy: number; siq: number }>();
  const coreIdle = new Map<string, Map<string, number>>();
  for (const s of data.hostSamples) {
    const cell = runCell.get(s.run);
    if (cell === undefined || !cells.has(cell)) continue;
    const k = `${s.run}\u0000${s.host}\u0000${s.timestamp}`;
    const core = /^(cpu\d+) usage:idl$/.exec(s.column);
    if (core) {
      const c = coreIdle.get(k) ?? new Map<string, number>();
      c.set(core[1]!, s.value);
      coreIdle.set(k, c);
      continue;
    }
    const m = /^total cpu usage:(usr|sys|hiq|siq)$/.exec(s.column);
    if (!m) continue;
    const e = bySample.get(k) ?? { cell, host: s.host, busy: 0, siq: 0 };
    e.busy += s.value;
    if (m[1] === 'siq') e.siq += s.value;
    bySample.set(k, e);
  }
  for (const [sk, e] of bySample) {
    const k = `${e.cell}\u0000${e.host}`;
    const a = acc.get(k) ?? { busy: [], siq: [], core: [], cell: e.cell, host: e.host };
    a.busy.push(e.busy);
    a.siq.push(e.siq);
    const idle = coreIdle.get(sk);
    if (idle && idle.size > 0) a.core.push(100 - minOf(idle.values()));
    acc.set(k, a);
  }
  if (acc.size === 0) return undefined;
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const severalNetworks = new Set(data.cells.map((v) => v.cell.network)).size > 1;
  const values: Array<Record<string, unknown>> = [];
  for (const a of acc.values()) {
    const c = cells.get(a.cell)!;
    const label = `#${c.index + 1} ${c.recipe ? `${c.recipe} ` : severalNetworks ? `${c.network}/` : ''}${c.tunnel}/${c.filter} c${c.containers} r${c.rules}`;
    values.push({ cell: label, index: c.index, host: a.host, measure: 'CPU busy (all cores)', pct: +mean(a.busy).toFixed(2) });
    values.push({ cell: label, index: c.index, host: a.host, measure: 'softirq (all cores)', pct: +mean(a.siq).toFixed(2) });
    if (a.core.length > 0) values.push({ cell: label, index: c.index, host: a.host, measure: 'busiest core', pct: +mean(a.core).toFixed(2) });
  }
  const hosts = new Set(values.map((v) => v['host']));
  return {
    id: 'host-load',
    title: 'Host CPU, softirq and busiest core during each cell',
    caption: `Mean of the hosts' dstat-style samples taken while the cell's runs were measuring: CPU busy = usr + sys + hiq + siq (percent of all cores); softirq = siq alone; busiest core = the most loaded core of each sample (100 - idle), where a run saturating one core shows even when the host as a whole looks idle. Runs whose busiest core reached ${CORE_SATURATED_PCT} % are flagged cpu-bound.`,
    spec: {
      data: { values },
      // Narrower bars for long sweeps, so the figure stays within the page.
      width: { step: Math.max(2, Math.min(9, Math.floor(600 / Math.max(1, new Set(values.map((v) => v['cell'])).size * new Set(values.map((v) => v['measure'])).size)))) },
      height: 140,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'cell', type: 'nominal', sort: { field: 'index' }, title: null, axis: { labelAngle: -60, labelLimit: 400 } },
        xOffset: { field: 'measure', type: 'nominal' },
        y: { field: 'pct', type: 'quantitative', title: 'CPU (%)', scale: { domain: [0, 100] } },
        color: { field: 'measure', type: 'nominal', title: null, scale: { domain: ['CPU busy (all cores)', 'softirq (all cores)', 'busiest core'], range: ['#4c78a8', '#e45756', '#f58518'] }, legend: { orient: 'top', direction: 'horizontal' } },
        ...(hosts.size > 1 ? { row: { field: 'host', type: 'nominal', title: null } } : {}),
        tooltip: [{ field: 'cell' }, { field: 'host' }, { field: 'measure' }, { field: 'pct' }],
      },
    } as unknown as TopLevelSpec,
  };
}

/** The reference cell's main metric at each drift check, relative to the first check. */
export function drift(data: ReportData): Chart | undefined {
  const refIndex = new Map(data.cells.filter((v) => v.cell.reference !== undefined).map((v) => [v.cell.id, v.cell.reference!]));
  if (refIndex.size < 2) return undefined;
  const values: Array<Record<string, unknown>> = [];
  for (const [kind, metric] of Object.entries(MAIN_METRIC)) {
    const pts = points(runValues(data.rows, metric, 'mean', (r) => r.workload_kind === kind && refIndex.has(r.cell)), (r) => `${r.workload}|${refIndex.get(r.cell)}`);
    const byWorkload = new Map<string, Point[]>();
    for (const p of pts) byWorkload.set(p.row.workload, [...(byWorkload.get(p.row.workload) ?? []), p]);
    for (const [workload, list] of byWorkload) {
      list.sort((a, b) => refIndex.get(a.row.cell)! - refIndex.get(b.row.cell)!);
      const first = list[0]!.mean;
      if (list.length < 2 || first === 0) continue;
      for (const p of list) values.push({ check: refIndex.get(p.row.cell)! + 1, workload, metric, pct: +((p.mean / first) * 100).toFixed(2), n: p.n });
    }
  }
  if (values.length === 0) return undefined;
  return {
    id: 'drift',
    title: 'Drift of the reference cell through the sweep',
    caption: 'The reference cell re-measured between network setups: each workload\'s main metric (mean over the check\'s repetitions) as a percentage of the first check. A flat line means the testbed did not drift.',
    spec: {
      data: { values },
      width: 420,
      height: 200,
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: '#999' }, encoding: { y: { datum: 100 } } },
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'check', type: 'quantitative', title: 'drift check', axis: { tickMinStep: 1 } }, y: { field: 'pct', type: 'quantitative', title: '% of first check', scale: { zero: false } }, color: { field: 'workload', type: 'nominal', scale: { range: PALETTE } }, tooltip: [{ field: 'workload' }, { field: 'metric' }, { field: 'check' }, { field: 'pct' }, { field: 'n' }] } },
      ],
    } as unknown as TopLevelSpec,
  };
}

/** Every figure the data support, in report order. */
export function buildCharts(data: ReportData): Chart[] {
  return [latencyBoxes, throughputVsPayload, ditgPerTunnel, throughputVsRules, latencyVsRules, throughputVsPairs, latencyVsPairs, throughputVsClients, drift, hostLoad]
    .map((f) => f(data))
    .filter((c): c is Chart => c !== undefined);
}
