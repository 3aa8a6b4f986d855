// Benchmark: the CNI recipe table (docs/recipes.md) on this machine. Two lab hosts, the real
// controller and agents, two experiments through the service in one run: the baseline (plain
// bridge, no tunnel, no filter, multi-host) and every recipe, each with rr (sockperf TCP
// request/response) and http (wrk against nginx, 100 connections). Per recipe: the median over
// the repetitions of the transactions/s, the round-trip p50 and the requests/s, and their ratio
// to the baseline measured in the same run. Recipes whose blocks the kernel lacks are listed with
// the planner's reason.
// Run (root): node --import=tsx --conditions=seconet-source bench/recipes.ts [--reps N] [--duration S] [--json]

import { summarize, type ResultRow } from '@seconet/core';
import { startController } from '@seconet/controller';
import { startE2eLab } from '../test/helpers/e2e-lab.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const REPS = opt('--reps', 3);
const DURATION = opt('--duration', 5);
if (!Number.isInteger(REPS) || REPS < 1 || REPS > 20) throw new Error('--reps: 1..20');
if (!(DURATION >= 1 && DURATION <= 60)) throw new Error('--duration: 1..60 s');

const RECIPES = ['calico-ipip', 'calico-vxlan', 'cilium-vxlan', 'cilium-wireguard', 'flannel-vxlan', 'weave-fastdp', 'weave-encrypted', 'antrea-geneve', 'antrea-ipsec', 'kube-router'];
const common = {
  hosts: ['h1', 'h2'],
  placement: 'multi-host',
  workloads: [{ rr: { duration: DURATION } }, { http: { duration: DURATION } }],
  repetitions: { min: REPS, max: REPS },
};

const teardowns: Array<() => unknown> = [];
const lab = await startE2eLab({ teardown: (fn) => teardowns.push(fn) }, 2);
const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 1000, runMarginMs: 30_000 } }));
try {
  const run = async (spec: Record<string, unknown>): Promise<{ rows: ResultRow[]; skipped: Array<{ recipe: string; reason: string }> }> => {
    const sub = await ctl.service.submit(spec);
    const id = sub.id;
    for (;;) {
      const s = await ctl.service.get(id);
      if (['succeeded', 'failed', 'cancelled'].includes(s.state)) {
        if (s.state !== 'succeeded') process.stderr.write(`${spec['name']}: ${s.state} ${s.error ?? ''}\n`);
        break;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    const data = ctl.store.reportData(id);
    return {
      rows: ctl.store.resultRows(id).filter((r) => !r.pair.startsWith('host/') && r.flow === ''),
      skipped: data.skipped.filter((x) => x.workload === undefined).map((x) => ({ recipe: x.cell.recipe ?? '', reason: x.reason })),
    };
  };
  const t0 = Date.now();
  const base = await run({ ...common, name: 'bench-recipes-baseline', matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'] } });
  const rec = await run({ ...common, name: 'bench-recipes', matrix: { recipe: RECIPES } });

  const perRun = (rows: readonly ResultRow[], kind: string, metric: string): number[] => {
    const byRun = new Map<string, number[]>();
    for (const r of rows) if (r.workload_kind === kind && r.metric === metric) byRun.set(r.run, [...(byRun.get(r.run) ?? []), r.value]);
    return [...byRun.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  };
  const med = (xs: number[]): number | undefined => (xs.length === 0 ? undefined : summarize(xs).median);
  const measure = (rows: readonly ResultRow[]) => ({
    tps: med(perRun(rows, 'rr', 'tps')),
    p50: med(perRun(rows, 'rr', 'rtt_p50')),
    rps: med(perRun(rows, 'http', 'rps')),
    httpP99: med(perRun(rows, 'http', 'latency_p99')),
    n: perRun(rows, 'rr', 'tps').length,
  });
  const b = measure(base.rows);
  const out = RECIPES.map((name) => {
    const rows = rec.rows.filter((r) => r.recipe === name);
    const skip = rec.skipped.find((s) => s.recipe === name);
    const first = rows[0];
    return {
      recipe: name,
      blocks: first ? `${first.network}/${first.tunnel}${first.tunnel_variant && first.tunnel !== 'none' ? ` (${first.tunnel_variant})` : ''}/${first.filter}` : '',
      ...measure(rows),
      skipped: skip?.reason,
    };
  });
  const ratio = (v: number | undefined, base: number | undefined): string => (v === undefined || base === undefined ? '-' : (v / base).toFixed(2));
  const f = (v: number | undefined, d = 0): string => (v === undefined ? '-' : v.toFixed(d));
  if (args.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ baseline: b, recipes: out, seconds: Math.round((Date.now() - t0) / 1000) }, null, 2)}\n`);
  } else {
    process.stdout.write(`recipes vs plain bridge, ${REPS} repetitions of ${DURATION} s each, medians (${Math.round((Date.now() - t0) / 1000)} s)\n\n`);
    process.stdout.write('| recipe | blocks (variant) | rr tps | x bridge | rr p50 µs | http req/s | x bridge | http p99 ms |\n|---|---|---|---|---|---|---|---|\n');
    process.stdout.write(`| plain bridge (baseline) | bridge/none/none | ${f(b.tps)} | 1.00 | ${f(b.p50, 1)} | ${f(b.rps)} | 1.00 | ${f(b.httpP99, 2)} |\n`);
    for (const r of out) {
      if (r.skipped !== undefined) process.stdout.write(`| ${r.recipe} | skipped: ${r.skipped.replace(/\|/g, '/')} | | | | | | |\n`);
      else process.stdout.write(`| ${r.recipe} | ${r.blocks} | ${f(r.tps)} | ${ratio(r.tps, b.tps)} | ${f(r.p50, 1)} | ${f(r.rps)} | ${ratio(r.rps, b.rps)} | ${f(r.httpP99, 2)} |\n`);
    }
  }
} finally {
  await ctl.stop();
  for (const fn of teardowns.reverse()) await fn();
}
