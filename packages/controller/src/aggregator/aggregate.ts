// The Result Aggregator: turns the pairs' results of one run into the rows the store keeps
// (metrics in long format, series, raw outputs) plus the provenance every result carries:
// agent and tool versions, kernel, tunnel and filter variants, the engine, the full cell.
// A run counts as measured only when every pair delivered a result; otherwise the pairs'
// errors become the run's error, so a half-measured run never looks like a whole one.

import { maxOf, minOf, type Cell, type WorkloadInstance } from '@seconet/core';
import type { AgentInfo, PairResultMsg } from '../agents/contract.js';
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

/** One client's measured test: its agent's clock before the start and after the exit, and its rate per interval. */
export interface ClientWindow {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly values: readonly number[];
  readonly intervalS: number;
}

/**
 * The window every client was measuring at once, and each client's rate inside it.
 *
 * The agent starts N clients as fast as it can, but at hundreds of clients the starts spread
 * over seconds, so whole-run rates of different clients describe different moments. A client's
 * test of D = intervals x intervalS seconds began somewhere between its spawn (startedAt) and
 * endedAt - D, and ended between startedAt + D and its exit: every client was surely inside its
 * test from the latest possible start, max(endedAt - D), to the earliest possible end,
 * min(startedAt + D). A client's rate in that window is the overlap-weighted mean of its
 * intervals, placed at the middle of its possible starts (error at most half its start-up
 * time). Clocks are the agents' own: hosts must be time-synchronized (NTP), as on any testbed.
 */
export function commonWindow(clients: readonly ClientWindow[]): { readonly from: number; readonly to: number; readonly spreadS: number; readonly outsideS: number; readonly rates: number[] } {
  const span = clients.map((c) => ({ c, d: c.values.length * c.intervalS }));
  const from = maxOf(span.map(({ c, d }) => c.endedAt - d));
  const to = minOf(span.map(({ c, d }) => c.startedAt + d));
  const spreadS = maxOf(clients.map((c) => c.startedAt)) - minOf(clients.map((c) => c.startedAt));
  // The most any client spent outside its test (start-up and exit): the uncertainty of its start.
  const outsideS = Math.max(0, maxOf(span.map(({ c, d }) => c.endedAt - c.startedAt - d)));
  if (!(to > from)) return { from, to: from, spreadS, outsideS, rates: [] };
  const rates = span.map(({ c, d }) => {
    const start = (c.startedAt + c.endedAt - d) / 2;
    let weighted = 0;
    let covered = 0;
    c.values.forEach((v, k) => {
      const a = Math.max(from, start + k * c.intervalS);
      const b = Math.min(to, start + (k + 1) * c.intervalS);
      if (b > a) {
        weighted += v * (b - a);
        covered += b - a;
      }
    });
    return covered > 0 ? weighted / covered : 0;
  });
  return { from, to, spreadS, outsideS, rates };
}

/**
 * A clients-scale run's summary over its clients (pair `clients`, flow `total`): how many
 * clients reported, how far apart they started, and the window all of them measured at once;
 * within that window the total throughput, the per-client minimum, mean and maximum and Jain's
 * fairness index (1: every client got the same share; 1/N: one client got everything); and the
 * server host's CPU busy mean and peak over the run. Totals and fairness describe one moment or
 * nothing: clients that never measured together (a window shorter than one interval) give no
 * total, and the run fails with the fix (aggregateRun).
 */
export function clientsSummary(outcomes: readonly PairResultMsg[], hostSummary: readonly MetricValue[], serverHost: string | undefined): MetricValue[] {
  return summarizeClients(outcomes, hostSummary, serverHost).rows;
}

/** Clients that never measured together: the spread of their starts, the longest time one spent outside its test, and the window left. */
interface ClientsApart { readonly spreadS: number; readonly outsideS: number; readonly windowS: number }

/** clientsSummary's rows and, when the clients never measured together, why (the run then fails). */
function summarizeClients(outcomes: readonly PairResultMsg[], hostSummary: readonly MetricValue[], serverHost: string | undefined): { rows: MetricValue[]; apart?: ClientsApart } {
  let apart: ClientsApart | undefined;
  const row = (metric: string, value: number, unit: string): MetricValue => ({ pair: CLIENTS_SUMMARY_PAIR, flow: 'total', metric, value, unit });
  const out: MetricValue[] = [row('clients', outcomes.length, 'count')];
  const windows = outcomes.map((o) => ({ o, s: o.series.find((x) => x.name === 'throughput' && x.intervalS > 0 && x.values.length > 0) }));
  if (windows.length > 0 && windows.every((w) => w.s !== undefined)) {
    const w = commonWindow(windows.map(({ o, s }) => ({ startedAt: o.startedAt, endedAt: o.endedAt, values: s!.values, intervalS: s!.intervalS })));
    out.push(row('start_spread_s', w.spreadS, 's'), row('common_window_s', w.to - w.from, 's'));
    const tp = w.rates;
    if (tp.length > 0 && w.to - w.from >= minOf(windows.map(({ s }) => s!.intervalS))) {
      const sum = tp.reduce((a, v) => a + v, 0);
      const sq = tp.reduce((a, v) => a + v * v, 0);
      out.push(
        row('throughput', sum, 'bit/s'),
        row('throughput_client_min', minOf(tp), 'bit/s'),
        row('throughput_client_mean', sum / tp.length, 'bit/s'),
        row('throughput_client_max', maxOf(tp), 'bit/s'),
        row('fairness', sq > 0 ? (sum * sum) / (tp.length * sq) : 1, 'ratio'),
      );
    } else {
      apart = { spreadS: w.spreadS, outsideS: w.outsideS, windowS: w.to - w.from };
    }
  }
  if (serverHost !== undefined) {
    for (const [from, to] of [['host_cpu_mean', 'server_host_cpu_mean'], ['host_cpu_peak', 'server_host_cpu_peak']] as const) {
      const h = hostSummary.find((m) => m.pair === `host/${serverHost}` && m.metric === from);
      if (h) out.push(row(to, h.value, h.unit));
    }
  }
  return apart === undefined ? { rows: out } : { rows: out, apart };
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
  if (input.workload.kind === 'clients-scale') {
    const { rows, apart } = summarizeClients([...input.outcomes.values()].map((o) => o.result!), input.hostSummary, input.serverHost);
    if (apart !== undefined) {
      // A client's test lies somewhere in its span from spawn to exit: the window shrinks by the
      // spread of the spawns and by the longest start-up plus exit, so the fix names both.
      const past = apart.spreadS + apart.outsideS;
      return { ok: false, error: `clients-scale: the ${input.outcomes.size} clients never measured together: their starts spread over ${apart.spreadS.toFixed(1)} s and a client spent up to ${apart.outsideS.toFixed(1)} s outside its test (start-up and exit), leaving a common window of ${apart.windowS.toFixed(1)} s, less than one interval; a total or fairness would mix different moments. Give the workload a duration well past both (duration: ${Math.ceil(past * 2 + 10)} or more)` };
    }
    metrics.push(...rows);
  }
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
