// From long rows to the numbers the report shows. A run's value of a metric is the mean over
// its pairs (per-pair throughput, per-pair mean RTT) or, for "total" plots, the sum; host
// summary rows (pair "host/<name>") and per-flow rows never mix into pair values. A run group
// is (cell, workload instance, metric): its values are one per repetition, which is what the
// convergence decision and the confidence intervals are about.

import { decide, meanInterval, summarize, type Cell, type ConvergencePolicy, type ResultRow } from '@seconet/core';
import type { ReportData, RunGroupDecision } from './types.js';

/** The metric that decides convergence per workload kind (the engine uses the same). */
export const MAIN_METRIC: Readonly<Record<string, string>> = {
  'latency-basic': 'rtt_avg',
  'throughput-basic': 'throughput',
  iperf3: 'throughput',
  'pairs-scale': 'throughput',
  'clients-scale': 'throughput',
  rr: 'tps',
  http: 'rps',
};

export function isPairRow(r: ResultRow): boolean {
  return !r.pair.startsWith('host/') && r.flow === '';
}

export interface RunValue {
  readonly run: string;
  readonly row: ResultRow;
  readonly value: number;
  readonly pairs: number;
}

/** One value per run of `metric`: mean (or sum) over the run's pairs. */
export function runValues(rows: readonly ResultRow[], metric: string, mode: 'mean' | 'sum' = 'mean', filter?: (r: ResultRow) => boolean): RunValue[] {
  const byRun = new Map<string, ResultRow[]>();
  for (const r of rows) {
    if (r.metric !== metric || !isPairRow(r) || !Number.isFinite(r.value)) continue;
    if (filter && !filter(r)) continue;
    const list = byRun.get(r.run);
    if (list) list.push(r);
    else byRun.set(r.run, [r]);
  }
  const out: RunValue[] = [];
  for (const [run, list] of byRun) {
    const sum = list.reduce((a, r) => a + r.value, 0);
    out.push({ run, row: list[0]!, value: mode === 'sum' ? sum : sum / list.length, pairs: list.length });
  }
  return out;
}

export interface Point {
  readonly key: string;
  readonly n: number;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
  readonly row: ResultRow;
}

/** Groups run values by `key` and gives mean and 95 % t interval per group (low = high = mean for one run). */
export function points(values: readonly RunValue[], key: (r: ResultRow) => string): Point[] {
  const groups = new Map<string, RunValue[]>();
  for (const v of values) {
    const k = key(v.row);
    const list = groups.get(k);
    if (list) list.push(v);
    else groups.set(k, [v]);
  }
  return [...groups].map(([k, list]) => {
    const xs = list.map((v) => v.value);
    const s = summarize(xs);
    const ci = meanInterval(xs);
    const finite = Number.isFinite(ci.low);
    return { key: k, n: s.n, mean: s.mean, low: finite ? ci.low : s.mean, high: finite ? ci.high : s.mean, row: list[0]!.row };
  });
}

function policyOf(spec: unknown): ConvergencePolicy {
  const r = (spec !== null && typeof spec === 'object' ? (spec as Record<string, unknown>)['repetitions'] : undefined) as Record<string, unknown> | undefined;
  const num = (k: string, d: number): number => (typeof r?.[k] === 'number' ? (r[k] as number) : d);
  return {
    min: num('min', 3),
    max: num('max', 10),
    ciRelWidth: num('ciRelWidth', 0.05),
    statistic: r?.['statistic'] === 'median' ? 'median' : 'mean',
    confidence: num('confidence', 0.95),
  };
}

/** The stored decisions, completed with ones computed from rows for groups that have none. */
export function groupDecisions(data: ReportData): RunGroupDecision[] {
  const have = new Set(data.decisions.map((d) => `${d.cell}\u0000${d.workload}`));
  const out = [...data.decisions];
  const policy = policyOf(data.experiment.spec);
  const groups = new Map<string, { cell: string; workload: string; metric: string; values: number[] }>();
  for (const kind of new Set(data.rows.map((r) => r.workload_kind))) {
    const metric = MAIN_METRIC[kind] ?? data.rows.find((r) => r.workload_kind === kind && isPairRow(r))?.metric;
    if (metric === undefined) continue;
    for (const v of runValues(data.rows, metric, 'mean', (r) => r.workload_kind === kind)) {
      const k = `${v.row.cell}\u0000${v.row.workload}`;
      if (have.has(k)) continue;
      const g = groups.get(k) ?? { cell: v.row.cell, workload: v.row.workload, metric, values: [] };
      g.values.push(v.value);
      groups.set(k, g);
    }
  }
  for (const g of groups.values()) {
    const d = decide(policy, g.values);
    out.push({ cell: g.cell, workload: g.workload, metric: g.metric, repetitions: d.n, converged: d.converged, ciLow: d.ci.low, ciHigh: d.ci.high, center: d.center, relHalfWidth: d.relHalfWidth });
  }
  return out;
}

/** "#3 bridge/vxlan/iptables c8 r1000", or "#3 calico-vxlan (routing/vxlan/iptables) c8 r1000" for a recipe cell. */
export function cellLabel(c: Pick<Cell, 'index' | 'network' | 'tunnel' | 'filter' | 'containers' | 'rules'> & { reference?: number | undefined; recipe?: string | undefined; ruleMatch?: string | undefined }): string {
  const ref = c.reference === undefined ? '' : ` (reference ${c.reference + 1})`;
  const blocks = `${c.network}/${c.tunnel}/${c.filter}`;
  const setup = c.recipe ? `${c.recipe} (${blocks})` : blocks;
  return `#${c.index + 1} ${setup} c${c.containers} r${c.rules}${c.ruleMatch === 'port' ? ' (port ranges)' : ''}${ref}`;
}

/**
 * How a row's network setup is named in plots: its recipe when it has one, else the tunnel,
 * prefixed by the network when several networks ran.
 */
export function techLabeler(rows: readonly Pick<ResultRow, 'network' | 'tunnel' | 'recipe'>[]): (r: Pick<ResultRow, 'network' | 'tunnel' | 'recipe'>) => string {
  const several = new Set(rows.map((r) => r.network)).size > 1;
  return (r) => (r.recipe ? r.recipe : several ? `${r.network}+${r.tunnel}` : r.tunnel);
}
