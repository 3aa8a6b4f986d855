// Benchmark: container setup through the reconciler (bridge solution, batched `ip`), 32 and 200
// containers, and teardown of 200; the same 32 built with one `ip` process per step as the
// baseline. Every setup is verified (namespace count, a ping across the bridge), so a setup
// that silently did nothing cannot look fast. Targets: 32 < 1 s, 200 < 5 s, teardown of
// 200 < 2 s; exits non-zero when one is missed.
// Run (root): node --import=tsx --conditions=seconet-source bench/containers.ts [--reps N] [--json]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { containerCidr, nthHost } from '@seconet/core';
import type { ApplyRequest__Output } from '../packages/agent/src/gen/seconet/agent/v1/ApplyRequest.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import { MemoryJournal } from '../packages/agent/src/journal/memory-journal.js';
import { teardownObjects } from '../packages/agent/src/journal/undo.js';
import { createLab, destroyLab, randomLabId } from '../packages/agent/src/lab/topology.js';
import { containerNetns } from '../packages/agent/src/names.js';
import { listNetns } from '../packages/agent/src/netns/ip-batch.js';
import { createReconciler } from '../packages/agent/src/reconciler/reconciler.js';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import { CountingRunner, perObjectBridge } from './lib/per-object.js';
import { bridgeName } from '../packages/agent/src/solutions/bridge.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const ri = args.indexOf('--reps');
const REPS = ri >= 0 ? Number(args[ri + 1]) : 3;
if (!Number.isInteger(REPS) || REPS < 1 || REPS > 20) throw new Error('--reps: 1..20');

const runner = new CountingRunner(new ExecRunner());
const log = pino({ level: 'silent' });
const cidr = containerCidr(1);

function request(scope: string, n: number): ApplyRequest__Output {
  return {
    requestId: `bench-${scope}-${n}`,
    scope,
    state: {
      network: 'bridge',
      containerCidr: cidr,
      containers: Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, address: nthHost(cidr, i + 2) })),
      tunnel: null,
      filter: null,
      mtu: 0,
    },
  };
}

type Measure = 'apply32' | 'perStep32' | 'apply200' | 'teardown200' | 'teardown32';
function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

const spawned: Partial<Record<Measure, number>> = {};

async function time<T>(fn: () => Promise<T>, what?: Measure): Promise<[number, T]> {
  const c0 = runner.count;
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  if (what !== undefined) spawned[what] = runner.count - c0;
  return [ms, r];
}

/** What one trivial process costs right now (the machine is shared; load changes everything). */
async function spawnCost(): Promise<number> {
  const n = 20;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await runner.run(['ip', '-V']);
  return (performance.now() - t0) / n;
}


async function verify(env: HostEnv, scope: string, n: number): Promise<void> {
  const ns = [...(await listNetns(runner))].filter((x) => x.startsWith(env.prefix + 'c'));
  if (ns.length !== n) throw new Error(`expected ${n} container namespaces, found ${ns.length}`);
  const first = containerNetns(env.prefix, scope, 'c1');
  const last = nthHost(cidr, n + 1);
  const r = await runner.run(['ping', '-n', '-q', '-c', '1', '-W', '2', last], { netns: first, okCodes: [0, 1] });
  if (!/ 1 received/.test(r.stdout)) throw new Error(`c1 cannot reach ${last}: ${r.stdout}`);
}

/** The same bridge setup with one `ip` process per step (what batching replaces). */
async function perStep(env: HostEnv, scope: string, n: number, journal: MemoryJournal): Promise<void> {
  await perObjectBridge(runner, env, scope, n, { bridge: bridgeName(env.prefix, scope), cidr, prefixLen: 24, record: (objs) => journal.recordAll(objs) });
}

async function main(): Promise<number> {
  const root = mkdtempSync(join(tmpdir(), 'seconet-bench-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const host = topo.hosts[0]!;
  const env: HostEnv = {
    name: host.name, prefix: host.prefix, hostNetns: host.netns, stateDir: join(root, 'state'), runDir: join(root, 'run'), bpffs: join(root, 'bpf'),
    underlayDev: host.underlayDev, underlayAddress: host.underlayAddress, underlayMtu: 1500,
  };
  const rec = await createReconciler({ env, runner, log });
  const costs: number[] = [];
  const m: Record<Measure, number[]> = { apply32: [], perStep32: [], apply200: [], teardown200: [], teardown32: [] };
  try {
    for (let rep = 0; rep < REPS; rep++) {
      costs.push(await spawnCost());
      const [a32] = await time(() => rec.apply(request('bench32', 32)), 'apply32');
      await verify(env, 'bench32', 32);
      const [t32] = await time(() => rec.teardown({ requestId: 't32', scope: 'bench32' }), 'teardown32');
      m.apply32.push(a32);
      m.teardown32.push(t32);

      const j = new MemoryJournal('base32');
      const [p32] = await time(() => perStep(env, 'base32', 32, j), 'perStep32');
      await verify(env, 'base32', 32);
      await teardownObjects({ runner, env }, j);
      m.perStep32.push(p32);

      const [a200] = await time(() => rec.apply(request('bench200', 200)), 'apply200');
      await verify(env, 'bench200', 200);
      const [t200] = await time(() => rec.teardown({ requestId: 't200', scope: 'bench200' }), 'teardown200');
      const left = [...(await listNetns(runner))].filter((x) => x.startsWith(env.prefix));
      if (left.length > 0) throw new Error(`teardown left ${left.length} namespaces`);
      m.apply200.push(a200);
      m.teardown200.push(t200);
    }
  } finally {
    await rec.gc({ requestId: 'bench-cleanup', keepScopes: [] }).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(root, { recursive: true, force: true });
  }
  const r: Record<Measure, number> = { apply32: median(m.apply32), perStep32: median(m.perStep32), apply200: median(m.apply200), teardown200: median(m.teardown200), teardown32: median(m.teardown32) };
  const targets = [
    { what: 'setup 32 (reconciler, batched)', ms: r.apply32, limit: 1000 },
    { what: 'setup 200 (reconciler, batched)', ms: r.apply200, limit: 5000 },
    { what: 'teardown 200', ms: r.teardown200, limit: 2000 },
  ];
  const ok = targets.every((x) => x.ms < x.limit);
  const cost = median(costs);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  if (json) {
    console.log(JSON.stringify({ reps: REPS, medianMs: r, processes: spawned, spawnCostMs: cost, loadavg: load, ratioPerStepVsBatched32: r.perStep32 / r.apply32, ok }));
  } else {
    const f = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
    const p = (k: Measure): string => `${String(spawned[k] ?? 0).padStart(4)} processes`;
    console.log(`containers (bridge), median of ${REPS}; one trivial process costs ${cost.toFixed(1)} ms now (load average ${load})`);
    console.log(`  setup 32, one ip process per step   ${f(r.perStep32)}  ${p('perStep32')}`);
    console.log(`  setup 32, reconciler (batched)      ${f(r.apply32)}  ${p('apply32')}   ${(r.perStep32 / r.apply32).toFixed(1)}x faster`);
    console.log(`  teardown 32                         ${f(r.teardown32)}  ${p('teardown32')}`);
    console.log(`  setup 200, reconciler (batched)     ${f(r.apply200)}  ${p('apply200')}   ${(r.apply200 / 200).toFixed(1)} ms per container`);
    console.log(`  teardown 200                        ${f(r.teardown200)}  ${p('teardown200')}`);
    for (const x of targets) console.log(`  ${x.ms < x.limit ? 'PASS' : 'FAIL'} ${x.what}: ${f(x.ms)} < ${f(x.limit)}`);
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
