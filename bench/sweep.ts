// Benchmark: where the wall time of a 200-run lab sweep goes. A two-host lab with real agents,
// Redis and the controller runs tunnel [none, vxlan] x filter [none, iptables] (4 cells, 4
// containers across the two hosts) x workloads [latency-basic, throughput-basic (iperf3)] x 25
// repetitions = 200 runs. Each cell is set up once (Apply + pre-flight isolation proof) and
// reused by every workload and repetition, then torn down before the next cell is applied: the
// next cell is prepared while nothing is measured (never beside a measurement on the same
// hosts, which would perturb it). The split is the report's (report/time-split.ts), computed from
// the stored phase intervals and the experiment's stored start and end: measuring (sinks up,
// traffic, barrier), setup (Apply, pre-flight), teardown, storing, waiting (the rest).
// Baseline in the same run: the runs' pure traffic time (runs x duration). Aim: >= 95 % measuring.
// Needs root.
// Run: node --import=tsx --conditions=seconet-source bench/sweep.ts [--duration S] [--reps N] [--json]

import { startController, timeSplitMarkdown } from '@seconet/controller';
import { startE2eLab } from '../test/helpers/e2e-lab.js';
import { isRoot } from '../test/helpers/requirements.js';

if (!isRoot) {
  console.error('bench/sweep.ts needs root (lab namespaces)');
  process.exit(2);
}
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const duration = arg('--duration', 3);
const reps = arg('--reps', 25);
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => teardowns.unshift(fn) };
const loadavg = async (): Promise<string> => (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

try {
  const lab = await startE2eLab(t, 2);
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 1000 } }));
  t.teardown(() => ctl.stop());
  const spec = {
    name: 'bench-sweep',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: ['none', 'vxlan'], filter: ['none', 'iptables'], containers: [4] },
    workloads: [{ 'latency-basic': { duration, interval: 0.2 } }, { 'throughput-basic': { duration, engine: 'iperf3' } }],
    repetitions: { min: reps, max: reps },
  };
  const loadBefore = await loadavg();
  const t0 = performance.now();
  const { id } = await ctl.service.submit(spec);
  let s = await ctl.service.get(id);
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state)) {
    await new Promise((r) => setTimeout(r, 1000));
    s = await ctl.service.get(id);
  }
  const submitToEnd = (performance.now() - t0) / 1000;
  const split = (await ctl.service.timeSplit!(id))!;
  const ok = ctl.store.runs(id).filter((r) => r.state === 'succeeded').length;
  const traffic = ok * duration;
  const cells = ctl.store.reportData(id).cells.map((c) => `${c.cell.tunnel}/${c.cell.filter}: ${c.state}, setup ${Object.values(c.setupSeconds).reduce((a, x) => a + x, 0).toFixed(2)} s`);
  const result = {
    state: s.state,
    runs: s.progress.runsTotal,
    runsDone: s.progress.runsDone,
    durationS: duration,
    submitToEndS: +submitToEnd.toFixed(1),
    split,
    trafficS: traffic,
    trafficPct: +((100 * traffic) / split.wallS).toFixed(1),
    wallOverTraffic: +(split.wallS / traffic).toFixed(3),
    loadBefore,
    loadAfter: await loadavg(),
    cells,
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`${result.runs} runs (${result.runsDone} done, ${s.state}), ${duration} s of traffic each; experiment wall ${split.wallS} s (submit to end ${result.submitToEndS} s); load ${loadBefore} -> ${result.loadAfter}`);
    console.log(timeSplitMarkdown(split));
    console.log(`pure traffic (baseline): ${traffic} s = ${result.trafficPct} % of the wall; wall / traffic = ${result.wallOverTraffic}`);
    console.log(cells.join('\n'));
  }
  process.exitCode = split.percent.measuring >= 95 ? 0 : 1;
} finally {
  for (const fn of teardowns) await fn();
}
