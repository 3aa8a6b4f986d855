// Benchmark: where the wall time of a lab sweep goes. A two-host lab with real agents, Redis
// and the controller runs a small matrix; the engine's per-phase clock (the "time per phase"
// event) splits the experiment's wall time into measuring (sinks up, traffic, barrier),
// configuring (Apply, pre-flight isolation proof, Teardown), storing, and the rest (waiting:
// queue pickup, host locks, decisions). Aim: >= 80 % measuring. Needs root.
// Run: node --import=tsx --conditions=seconet-source bench/sweep.ts [--duration S] [--json]

import { startController } from '@seconet/controller';
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
const duration = arg('--duration', 5);
const teardowns: Array<() => unknown> = [];
const t = { teardown: (fn: () => unknown) => teardowns.unshift(fn) };

try {
  const lab = await startE2eLab(t, 2);
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 1000 } }));
  t.teardown(() => ctl.stop());
  const spec = {
    name: 'bench-sweep',
    hosts: ['h1', 'h2'],
    matrix: { network: ['bridge'], tunnel: ['none', 'vxlan'], filter: ['none', 'iptables'], containers: [2, 8] },
    workloads: [{ 'latency-basic': { duration, interval: 0.2 } }, { 'throughput-basic': { duration, engine: 'iperf3' } }],
    repetitions: { min: 2, max: 2 },
  };
  const t0 = performance.now();
  const { id } = await ctl.service.submit(spec);
  let s = await ctl.service.get(id);
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state)) {
    await new Promise((r) => setTimeout(r, 500));
    s = await ctl.service.get(id);
  }
  const submitToEnd = (performance.now() - t0) / 1000;
  const ev = ctl.store.eventsAfter(id, 0).find((e) => e.data['message'] === 'time per phase (seconds)');
  const phases = (ev?.data['phases'] ?? {}) as Record<string, number>;
  const wall = phases['wall'] ?? submitToEnd;
  const measure = phases['measure'] ?? 0;
  const configure = (phases['apply'] ?? 0) + (phases['preflight'] ?? 0) + (phases['teardown'] ?? 0);
  const store = phases['store'] ?? 0;
  const traffic = ctl.store.runs(id).filter((r) => r.state === 'succeeded').length * duration;
  const pct = (x: number): number => +((100 * x) / wall).toFixed(1);
  const result = {
    state: s.state,
    runs: s.progress.runsTotal,
    runsDone: s.progress.runsDone,
    durationS: duration,
    wallS: +wall.toFixed(1),
    submitToEndS: +submitToEnd.toFixed(1),
    measuringPct: pct(measure),
    trafficPct: pct(traffic),
    configuringPct: pct(configure),
    storingPct: pct(store),
    waitingPct: pct(Math.max(0, wall - measure - configure - store)),
    phases: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, +v.toFixed(2)])),
  };
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`${result.runs} runs (${result.runsDone} done, ${s.state}), ${duration} s of traffic each; experiment wall ${result.wallS} s (submit to end ${result.submitToEndS} s)`);
    console.log(`measuring ${result.measuringPct} % (of which pure traffic ${result.trafficPct} %), configuring ${result.configuringPct} %, storing ${result.storingPct} %, waiting/other ${result.waitingPct} %`);
    console.log(`phases (s): ${JSON.stringify(result.phases)}`);
  }
  process.exitCode = result.measuringPct >= 80 ? 0 : 1;
} finally {
  for (const fn of teardowns) await fn();
}
