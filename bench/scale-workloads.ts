// Benchmark: the scale workloads through the controller on a two-host lab (real agents, Redis,
// queue, engine), each with a baseline measured in the same run.
//
// pairs-scale (iperf3, TCP): one experiment on cells of 32 containers (the baseline) and of
// --containers containers (default 1000: 500 pairs, 500 containers per host, multi-host).
// clients-scale (iperf3, TCP): one experiment per --placement on a 2-container cell with
// --clients clients against one server (default 1000) and 8 clients as the baseline, for every
// --filters value (default none). Reports per cell the experiment phases (apply, measure,
// teardown) and the pre-flight, per run the pairs or clients with a throughput result, the
// total (clients-scale: inside the window every client measured at once, with the start spread
// and that window), the per-client spread and fairness and the server host's CPU, and fails (exit 1)
// unless every run succeeded with a result for every pair or client. Needs root.
//
// Run: node --import=tsx --conditions=seconet-source bench/scale-workloads.ts
//        [--containers N | --containers 0 (no pairs-scale)] [--clients N | 0 (no clients-scale)]
//        [--filters none,iptables] [--placement multi-host,single-host] [--duration S]
//        [--bitrate R (per pair or client, iperf3 -b: 2M; default unlimited TCP)] [--json]

import { readFileSync } from 'node:fs';
import { startController, type RunningController } from '@seconet/controller';
import { startE2eLab } from '../test/helpers/e2e-lab.js';
import { isRoot } from '../test/helpers/requirements.js';

if (!isRoot) {
  console.error('bench/scale-workloads.ts needs root (lab namespaces)');
  process.exit(2);
}
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const containers = Number(arg('--containers', '1000'));
const clients = Number(arg('--clients', '1000'));
const filters = arg('--filters', 'none').split(',');
const placements = arg('--placement', 'multi-host').split(',');
const duration = Number(arg('--duration', '5'));
const bitrate = arg('--bitrate', '');
const paced = bitrate === '' ? {} : { bitrate };
const json = process.argv.includes('--json');
const BASE_CONTAINERS = 32;
const BASE_CLIENTS = 8;
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => teardowns.unshift(fn) };

interface RunLine {
  experiment: string;
  workload: string;
  placement: string;
  filter: string;
  containers: number;
  clients?: number;
  state: string;
  error?: string | undefined;
  withResult: number;
  expected: number;
  totalMbps: number;
  clientMinMbps?: number;
  clientMaxMbps?: number;
  fairness?: number;
  serverHostCpu?: number;
  startSpreadS?: number;
  commonWindowS?: number;
  measureS?: number;
}

async function runExperiment(ctl: RunningController, spec: Record<string, unknown>): Promise<{ runs: RunLine[]; summary: Record<string, unknown> }> {
  const loadBefore = loadavg();
  const t0 = performance.now();
  const { id } = await ctl.service.submit(spec);
  let s = await ctl.service.get(id);
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state)) {
    await new Promise((r) => setTimeout(r, 1000));
    s = await ctl.service.get(id);
  }
  const wallS = (performance.now() - t0) / 1000;
  const rows = ctl.store.resultRows(id);
  const cells = ctl.store.cells(id);
  const runs = ctl.store.runs(id).map((r): RunLine => {
    const mine = rows.filter((x) => x.run === r.id);
    const cell = cells.find((c) => c.cell.id === r.cell)!;
    const w = r.workloadInstance;
    const n = w.kind === 'clients-scale' ? Number(w.params['clients']) : cell.cell.containers / 2;
    const each = mine.filter((x) => x.metric === 'throughput' && x.flow === '' && !x.pair.startsWith('host/'));
    const sum = (m: string): number | undefined => mine.find((x) => x.pair === 'clients' && x.flow === 'total' && x.metric === m)?.value;
    const mbps = (v: number | undefined): number | undefined => (v === undefined ? undefined : +(v / 1e6).toFixed(1));
    return {
      experiment: String(spec['name']),
      workload: w.id,
      placement: cell.cell.placement,
      filter: cell.cell.filter,
      containers: cell.cell.containers,
      ...(w.kind === 'clients-scale' ? { clients: n } : {}),
      state: r.state,
      error: r.error ?? undefined,
      withResult: new Set(each.map((x) => x.pair)).size,
      expected: n,
      // clients-scale: the total inside the window every client measured at once (the summary row).
      totalMbps: Math.round((w.kind === 'clients-scale' ? sum('throughput') ?? 0 : each.reduce((a, x) => a + x.value, 0)) / 1e6),
      ...(w.kind === 'clients-scale' ? { startSpreadS: sum('start_spread_s'), commonWindowS: sum('common_window_s') === undefined ? undefined : +sum('common_window_s')!.toFixed(2), clientMinMbps: mbps(sum('throughput_client_min')), clientMaxMbps: mbps(sum('throughput_client_max')), fairness: sum('fairness') === undefined ? undefined : +sum('fairness')!.toFixed(3), serverHostCpu: sum('server_host_cpu_mean') === undefined ? undefined : +sum('server_host_cpu_mean')!.toFixed(1) } : {}),
    } as RunLine;
  });
  const ev = ctl.store.eventsAfter(id, 0).find((e) => e.data['message'] === 'time per phase (seconds)');
  const summary = {
    experiment: spec['name'],
    state: s.state,
    wallS: +wallS.toFixed(1),
    loadBefore,
    loadAfter: loadavg(),
    phases: ev?.data['phases'] ?? {},
    cells: cells.map((c) => ({ containers: c.cell.containers, filter: c.cell.filter, state: c.state, error: c.error ?? undefined, setupSeconds: c.setupSeconds, preflight: (c.isolationEvidence ?? '').split('\n').filter((l) => /BROKEN|PASSED|clients-scale:|not checked/.test(l)).slice(0, 8) })),
  };
  return { runs, summary };
}

try {
  // Agents in their own processes, as on real hosts: a thousand tool spawns in the controller's process would stall its event loop past the host-lock TTL.
  const lab = await startE2eLab(t, 2, { childAgents: true });
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 1000 } }));
  t.teardown(() => ctl.stop());
  const all: RunLine[] = [];
  const summaries: Array<Record<string, unknown>> = [];
  if (containers > 0) {
    const r = await runExperiment(ctl, {
      name: 'bench-pairs-scale',
      hosts: ['h1', 'h2'],
      placement: 'multi-host',
      matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], containers: [BASE_CONTAINERS, containers] },
      workloads: [{ 'pairs-scale': { duration, engine: 'iperf3', ...paced } }],
      repetitions: { min: 1, max: 1 },
    });
    all.push(...r.runs);
    summaries.push(r.summary);
  }
  if (clients > 0) {
    for (const placement of placements) {
      const r = await runExperiment(ctl, {
        name: `bench-clients-scale-${placement}`,
        hosts: ['h1', 'h2'],
        placement,
        matrix: { network: ['bridge'], tunnel: ['none'], filter: filters, containers: [2] },
        workloads: [{ 'clients-scale': { duration, engine: 'iperf3', ...paced, clients: [...new Set([BASE_CLIENTS, clients])] } }],
        repetitions: { min: 1, max: 1 },
      });
      all.push(...r.runs);
      summaries.push(r.summary);
    }
  }
  const ok = all.length > 0 && all.every((r) => r.state === 'succeeded' && r.withResult === r.expected);
  if (json) console.log(JSON.stringify({ summaries, runs: all, ok }));
  else {
    for (const s of summaries) {
      console.log(`${String(s['experiment'])}: ${String(s['state'])} in ${String(s['wallS'])} s; load ${String(s['loadBefore'])} -> ${String(s['loadAfter'])}; phases (s) ${JSON.stringify(s['phases'])}`);
      for (const c of s['cells'] as Array<Record<string, unknown>>) console.log(`  cell ${String(c['containers'])} containers, filter ${String(c['filter'])}: ${String(c['state'])}${c['error'] ? ` (${String(c['error'])})` : ''}; setup s ${JSON.stringify(c['setupSeconds'])}; pre-flight: ${(c['preflight'] as string[]).join(' | ')}`);
    }
    for (const r of all) {
      const extra = r.clients !== undefined && r.commonWindowS !== undefined ? ` (clients started ${r.startSpreadS?.toFixed(3)} s apart, measured together ${r.commonWindowS} s); per client ${r.clientMinMbps}-${r.clientMaxMbps} Mbit/s, fairness ${r.fairness}, server host CPU ${r.serverHostCpu} %` : '';
      console.log(`  ${r.placement.padEnd(11)} ${r.filter.padEnd(9)} ${String(r.containers).padStart(5)} containers  ${r.workload.padEnd(28)} ${r.state.padEnd(10)} ${r.withResult}/${r.expected} with a result, total ${r.totalMbps} Mbit/s${extra}${r.error ? `  error: ${r.error.slice(0, 1200)}` : ''}`);
    }
    console.log(ok ? 'PASS' : 'FAIL');
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const fn of teardowns) await fn();
}
