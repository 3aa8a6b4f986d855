// clients-scale totals describe one moment: the window every client was surely measuring at
// once (commonWindow), each client's rate inside it, and a run whose clients never measured
// together fails with the fix instead of adding up rates from different moments.
import t from 'tap';
import { aggregateRun, clientsSummary, commonWindow } from '../src/aggregator/aggregate.js';
import type { PairResultMsg } from '../src/agents/contract.js';
import type { PairOutcome } from '../src/workload-control/run-workload.js';
import type { WorkloadInstance } from '@seconet/core';
import { cell } from './fixtures.js';

const MBIT = 1e6;

function client(pair: string, startedAt: number, values: number[], startup = 0.1): PairResultMsg {
  return {
    pair, metrics: [{ name: 'throughput', value: values.reduce((a, v) => a + v, 0) / values.length, unit: 'bit/s', flow: '' }],
    series: [{ name: 'throughput', unit: 'bit/s', values, intervalS: 1 }],
    tool: 'iperf3', toolVersion: '3.12', rawOutput: '', startedAt, endedAt: startedAt + values.length + startup, argv: [],
  };
}

const get = (rows: ReturnType<typeof clientsSummary>, metric: string): number | undefined => rows.find((r) => r.metric === metric)?.value;

/** aggregateRun on a clients-scale run of 3 s tests with these clients' results. */
function aggregateClients(results: readonly PairResultMsg[], endedAt: number): ReturnType<typeof aggregateRun> {
  const outcomes = new Map<string, PairOutcome>(results.map((r) => [r.pair, { pair: r.pair, result: r } as PairOutcome]));
  const workload = { id: 'clients-scale/tcp/653', kind: 'clients-scale', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 3000, params: { clients: String(results.length) }, seed: 0 } satisfies WorkloadInstance;
  return aggregateRun({
    cell: cell(0), workload, scope: 's', attempt: 1, outcomes, hostSamples: [], hostSummary: [], agents: new Map(),
    tunnelVariant: '', filterVariant: '', startedAt: 0, endedAt, serverHost: 'h2',
  });
}

t.test('clients that start together: the window is the test minus the start-up time, rates are the intervals inside it', async (t) => {
  const w = commonWindow([client('c0', 100, [10, 10, 10, 10]), client('c1', 100.05, [20, 20, 20, 20])].map((c) => ({ ...c, values: c.series[0]!.values, intervalS: 1 })));
  t.ok(Math.abs(w.spreadS - 0.05) < 1e-9, 'the spread of the starts');
  t.ok(Math.abs(w.to - w.from - (4 - 0.05 - 0.1)) < 1e-9, `every client measured for ${(w.to - w.from).toFixed(2)} s at once`);
  t.same(w.rates.map((r) => Math.round(r)), [10, 20], 'steady clients keep their rate');
});

t.test('staggered starts: a client\'s rate counts only its intervals inside the common window', async (t) => {
  // c0 runs alone at 100 for its first two seconds, then shares with c1 (50 each).
  const c0 = client('c0', 0, [100 * MBIT, 100 * MBIT, 50 * MBIT, 50 * MBIT, 50 * MBIT, 50 * MBIT], 0);
  const c1 = client('c1', 2, [50 * MBIT, 50 * MBIT, 50 * MBIT, 50 * MBIT, 100 * MBIT, 100 * MBIT], 0);
  const rows = clientsSummary([c0, c1], [], undefined);
  t.equal(get(rows, 'clients'), 2);
  t.equal(get(rows, 'start_spread_s'), 2, 'starts 2 s apart');
  t.equal(get(rows, 'common_window_s'), 4, 'measured together for 4 s');
  t.equal(get(rows, 'throughput'), 100 * MBIT, 'the total is what the server carried while both ran (not 2 x 75)');
  t.equal(get(rows, 'fairness'), 1, 'fair while both ran, though whole-run means would differ');
  t.equal(get(rows, 'throughput_client_min'), 50 * MBIT);
  t.equal(get(rows, 'throughput_client_max'), 50 * MBIT);
});

t.test('engines without a throughput series (ping) get the count and no window', async (t) => {
  const ping: PairResultMsg = { ...client('c0', 0, [1]), metrics: [{ name: 'rtt_avg', value: 0.1, unit: 'ms', flow: '' }], series: [{ name: 'rtt', unit: 'ms', values: [0.1, 0.1], intervalS: 0 }] };
  const rows = clientsSummary([ping], [{ pair: 'host/h2', flow: '', metric: 'host_cpu_mean', value: 12, unit: '%' }], 'h2');
  t.same(rows.map((r) => r.metric), ['clients', 'server_host_cpu_mean']);
});

t.test('clients that never measured together fail the run with the spread and the fix', async (t) => {
  const c0 = client('c0', 0, [MBIT, MBIT, MBIT]);
  const agg = aggregateClients([c0, client('c1', 2.5, [MBIT, MBIT, MBIT])], 6);
  t.equal(agg.ok, false, 'the run is not measured');
  if (!agg.ok) {
    t.match(agg.error, /the 2 clients never measured together: their starts spread over 2\.5 s and a client spent up to 0\.1 s outside its test \(start-up and exit\), leaving a common window of 0\.4 s/, 'names the spread, the time outside the test and the window');
    t.match(agg.error, /duration well past both \(duration: 16 or more\)/, 'and the fix');
  }
  const ok = aggregateClients([c0, client('c1', 0.2, [MBIT, MBIT, MBIT])], 6);
  t.equal(ok.ok, true, 'clients 0.2 s apart are measured');
  const total = ok.ok ? ok.data.metrics.find((m) => m.pair === 'clients' && m.metric === 'throughput')?.value ?? 0 : 0;
  t.ok(Math.abs(total - 2 * MBIT) < 1, `their total is the two rates (${total})`);
});

t.test('clients released together whose start-up and exit outlast the test: the error names that time, not a spread of 0', async (t) => {
  // 3 s tests, released at once; one client took 5 s to start and exit around its test.
  const agg = aggregateClients([client('c0', 0, [MBIT, MBIT, MBIT], 0.2), client('c1', 0, [MBIT, MBIT, MBIT], 5)], 9);
  t.equal(agg.ok, false, 'the run is not measured');
  if (!agg.ok) {
    t.match(agg.error, /starts spread over 0\.0 s and a client spent up to 5\.0 s outside its test \(start-up and exit\), leaving a common window of 0\.0 s/, 'names the time outside the test');
    t.match(agg.error, /\(duration: 20 or more\)/, 'and a duration past it');
  }
});
