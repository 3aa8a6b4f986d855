// The Result Aggregator: turns the pairs' results of one run into the rows the store keeps
// (metrics in long format, series, raw outputs) plus the provenance every result carries:
// agent and tool versions, kernel, tunnel and filter variants, the engine, the full cell.
// A run counts as measured only when every pair delivered a result; otherwise the pairs'
// errors become the run's error, so a half-measured run never looks like a whole one.

import { maxOf, minOf, type Cell, type WorkloadInstance } from '@seconet/core';
import type { AgentInfo } from '../agents/contract.js';
import type { HostSample, MetricValue, RunResultData } from '../store/store.js';
import type { PairOutcome } from '../workload-control/run-workload.js';

export interface AggregateInput {
  readonly cell: Cell;
  readonly workload: WorkloadInstance;
  readonly scope: string;
  readonly attempt: number;
  readonly outcomes: ReadonlyMap<string, PairOutcome>;
  readonly hostSamples: readonly HostSample[];
  readonly hostSummary: readonly MetricValue[];
  readonly agents: ReadonlyMap<string, AgentInfo | undefined>;
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** clients-scale: the host of the server container (its CPU joins the clients' summary). */
  readonly serverHost?: string | undefined;
}

/** The pair name of a clients-scale run's summary rows (flow `total`, so per-pair sums never count them). */
export const CLIENTS_SUMMARY_PAIR = 'clients';

/**
 * A clients-scale run's summary over its clients (pair `clients`, flow `total`): how many
 * clients reported, total throughput, the per-client minimum, mean and maximum, Jain's fairness
 * index (1: every client got the same share; 1/N: one client got everything), and the server
 * host's CPU busy mean and peak over the run.
 */
export function clientsSummary(metrics: readonly MetricValue[], hostSummary: readonly MetricValue[], serverHost: string | undefined): MetricValue[] {
  const row = (metric: string, value: number, unit: string): MetricValue => ({ pair: CLIENTS_SUMMARY_PAIR, flow: 'total', metric, value, unit });
  const clients = new Set(metrics.filter((m) => !m.pair.startsWith('host/')).map((m) => m.pair));
  const out: MetricValue[] = [row('clients', clients.size, 'count')];
  const tp = metrics.filter((m) => m.metric === 'throughput' && m.flow === '' && clients.has(m.pair)).map((m) => m.value);
  if (tp.length > 0) {
    const sum = tp.reduce((a, v) => a + v, 0);
    const sq = tp.reduce((a, v) => a + v * v, 0);
    out.push(
      row('throughput', sum, 'bit/s'),
      row('throughput_client_min', minOf(tp), 'bit/s'),
      row('throughput_client_mean', sum / tp.length, 'bit/s'),
      row('throughput_client_max', maxOf(tp), 'bit/s'),
      row('fairness', sq > 0 ? (sum * sum) / (tp.length * sq) : 1, 'ratio'),
    );
  }
  if (serverHost !== undefined) {
    for (const [from, to] of [['host_cpu_mean', 'server_host_cpu_mean'], ['host_cpu_peak', 'server_host_cpu_peak']] as const) {
      const h = hostSummary.find((m) => m.pair === `host/${serverHost}` && m.metric === from);
      if (h) out.push(row(to, h.value, h.unit));
    }
  }
  return out;
}

export type Aggregated = { readonly ok: true; readonly data: RunResultData } | { readonly ok: false; readonly error: string };

export function aggregateRun(input: AggregateInput): Aggregated {
  const failed = [...input.outcomes.values()].filter((o) => !o.result);
  if (failed.length > 0 || input.outcomes.size === 0) {
    const msgs = failed.map((o) => `${o.pair}: ${o.error ? `${o.error.code} ${o.error.message}` : 'no result'}`);
    return { ok: false, error: msgs.length > 0 ? msgs.slice(0, 5).join('; ') + (msgs.length > 5 ? `; and ${msgs.length - 5} more` : '') : 'no pairs reported' };
  }
  const metrics: MetricValue[] = [];
  const series: RunResultData['series'][number][] = [];
  const raw: RunResultData['raw'][number][] = [];
  const tools: Record<string, { tool: string; version: string; argv: readonly string[] }> = {};
  for (const o of input.outcomes.values()) {
    const r = o.result!;
    for (const m of r.metrics) if (Number.isFinite(m.value)) metrics.push({ pair: r.pair, flow: m.flow, metric: m.name, value: m.value, unit: m.unit });
    for (const s of r.series) series.push({ pair: r.pair, name: s.name, unit: s.unit, intervalS: s.intervalS, values: [...s.values] });
    raw.push({ pair: r.pair, tool: r.tool, argv: [...r.argv], text: r.rawOutput });
    tools[r.pair] = { tool: r.tool, version: r.toolVersion, argv: [...r.argv] };
  }
  if (input.workload.kind === 'clients-scale') metrics.push(...clientsSummary(metrics, input.hostSummary, input.serverHost));
  metrics.push(...input.hostSummary);
  const agents: Record<string, { agentVersion: string; kernel: string; tools: Record<string, string> }> = {};
  for (const [name, info] of input.agents) {
    if (!info) continue;
    agents[name] = { agentVersion: info.agentVersion, kernel: info.kernel, tools: Object.fromEntries(info.tools.map((t) => [t.tool, t.version])) };
  }
  return {
    ok: true,
    data: {
      metrics,
      series,
      raw,
      hostSamples: input.hostSamples,
      provenance: {
        engine: input.workload.engine,
        workload: input.workload,
        cell: input.cell,
        scope: input.scope,
        attempt: input.attempt,
        tunnelVariant: input.tunnelVariant,
        filterVariant: input.filterVariant,
        agents,
        tools,
        startedAt: input.startedAt,
        endedAt: input.endedAt,
      },
    },
  };
}
