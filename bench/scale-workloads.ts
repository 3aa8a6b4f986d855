// Benchmark: the scale workloads through the controller on a two-host lab (real agents, Redis,
// queue, engine): pairs-scale and clients-scale (iperf3, TCP) on a cell of --containers
// containers (default 1000: 500 pairs, 500 containers per host, multi-host) next to the same
// workloads on a 32-container cell as the baseline, in one experiment. Reports per cell the
// experiment phases (apply, measure, teardown), per run the pairs with a throughput result
// and the total, and fails (exit 1) unless every run of the large cell succeeded with a
// result for every pair. Needs root.
// Run: node --import=tsx --conditions=seconet-source bench/scale-workloads.ts [--containers N] [--duration S] [--json]

import { readFileSync } from 'node:fs';
import { startController } from '@seconet/controller';
import { startE2eLab } from '../test/helpers/e2e-lab.js';
import { isRoot } from '../test/helpers/requirements.js';

if (!isRoot) {
  console.error('bench/scale-workloads.ts needs root (lab namespaces)');
  process.exit(2);
}
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const containers = arg('--containers', 1000);
const duration = arg('--duration', 5);
const BASE = 32;
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => teardowns.unshift(fn) };

try {
  const loadBefore = loadavg();
  const lab = await startE2eLab(t, 2);
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 1000 } }));
  t.teardown(() => ctl.stop());
  const spec = {
    name: 'bench-scale-workloads',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], containers: [BASE, containers] },
    workloads: [{ 'pairs-scale': { duration, engine: 'iperf3' } }, { 'clients-scale': { duration, engine: 'iperf3', clients: containers / 2 } }],
    repetitions: { min: 1, max: 1 },
  };
  const t0 = performance.now();
  const { id } = await ctl.service.submit(spec);
  let s = await ctl.service.get(id);
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state)) {
    await new Promise((r) => setTimeout(r, 1000));
    s = await ctl.service.get(id);
  }
  const wallS = (performance.now() - t0) / 1000;
  const rows = ctl.store.resultRows(id);
  const runs = ctl.store.runs(id);
  const cells = ctl.store.cells(id);
  const perRun = runs.map((r) => {
    const mine = rows.filter((x) => x.run === r.id && x.metric === 'throughput');
    const cell = cells.find((c) => c.cell.id === r.cell);
    return {
      workload: r.workloadInstance.id,
      containers: cell?.cell.containers ?? 0,
      setupS: cell?.setupSeconds,
      state: r.state,
      error: r.error ?? undefined,
      pairsWithResult: new Set(mine.map((x) => x.pair)).size,
      totalMbps: Math.round(mine.filter((x) => x.flow === '' || x.flow === 'total').reduce((a, x) => a + x.value, 0) / 1e6),
    };
  });
  const ev = ctl.store.eventsAfter(id, 0).find((e) => e.data['message'] === 'time per phase (seconds)');
  const result = { state: s.state, wallS: +wallS.toFixed(1), loadBefore, loadAfter: loadavg(), phases: ev?.data['phases'] ?? {}, runs: perRun };
  const big = perRun.filter((r) => r.containers === containers);
  const ok = big.length === 2 && big.every((r) => r.state === 'succeeded' && r.pairsWithResult === containers / 2);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ ...result, ok }));
  else {
    console.log(`experiment ${s.state} in ${result.wallS} s; load average ${loadBefore} -> ${result.loadAfter}`);
    console.log(`phases (s): ${JSON.stringify(result.phases)}`);
    for (const c of cells) console.log(`  cell ${c.cell.containers} containers: ${c.state}${c.error ? ` (${c.error})` : ''}; pre-flight: ${c.isolationEvidence}; setup s ${JSON.stringify(c.setupSeconds)}`);
    for (const r of perRun) console.log(`  ${String(r.containers).padStart(5)} containers  ${r.workload.padEnd(28)} ${r.state.padEnd(10)} ${r.pairsWithResult} pairs with a result, total ${r.totalMbps} Mbit/s (sum of pair throughputs)${r.error ? `  error: ${r.error}` : ''}`);
    console.log(ok ? 'PASS' : 'FAIL');
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const fn of teardowns) await fn();
}
