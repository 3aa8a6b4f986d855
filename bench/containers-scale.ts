// Benchmark: 1,000 containers on one lab host (namespace, veth pair, bridge port, address,
// default route each), set up and torn down through the reconciler (bridge solution), idle and
// while two other lab host namespaces carry iperf3 traffic over the lab underlay. Three ways
// in the same run, each verified (namespace count, a ping from c1 to the last container, nothing
// left after teardown), so a setup that silently did nothing cannot look fast:
//   agent       the agent's path: namespaces and veths in one `ip -batch` each, the
//               container-namespace work of all containers in one sn-nsconf process (setns +
//               rtnetlink), teardown as one `ip -batch` of `netns del`
//   ip -n       the same reconciler without sn-nsconf: one `ip -n NS -batch` per container
//   per object  the baseline: one `ip` process per object (netns add, veth add, master, up,
//               lo up, eth0 up, addr, route per container; one `netns del` per container)
// Targets (agent): setup < 5 s, teardown < 5 s, idle and under traffic; exits 1 when missed.
// Run (root): node --import=tsx --conditions=seconet-source bench/containers-scale.ts
//   [--count N (1000)] [--baseline-count N (default --count)] [--no-baseline] [--no-traffic]
//   [--rate R (iperf3 -b, default 0: unlimited)] [--trace] [--json]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { nthHost } from '@seconet/core';
import type { ApplyRequest__Output } from '../packages/agent/src/gen/seconet/agent/v1/ApplyRequest.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import { createLab, destroyLab, randomLabId } from '../packages/agent/src/lab/topology.js';
import { containerNetns } from '../packages/agent/src/names.js';
import { builtNsconf, listLinks, listNetns } from '../packages/agent/src/netns/ip-batch.js';
import { createReconciler } from '../packages/agent/src/reconciler/reconciler.js';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import type { Spawned } from '../packages/agent/src/runner/runner.js';
import { CountingRunner, perObjectBridge } from './lib/per-object.js';

const args = process.argv.slice(2);
const flag = (n: string): boolean => args.includes(n);
const num = (n: string, def: number): number => {
  const i = args.indexOf(n);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const COUNT = num('--count', 1000);
const BASE_COUNT = num('--baseline-count', COUNT);
if (!Number.isInteger(COUNT) || COUNT < 2 || COUNT > 1020) throw new Error('--count: 2..1020 (one /22)');
if (!Number.isInteger(BASE_COUNT) || BASE_COUNT < 2 || BASE_COUNT > COUNT) throw new Error('--baseline-count: 2..--count');
const json = flag('--json');
const CIDR = '198.19.4.0/22';
const PREFIX_LEN = 22;
const LIMIT_MS = 5000;
const RATE = (() => {
  const i = args.indexOf('--rate');
  const r = i >= 0 ? args[i + 1]! : '0';
  if (!/^\d{1,6}[KMG]?$/.test(r)) throw new Error('--rate: an iperf3 rate like 500M, 1G or 0 (unlimited)');
  return r;
})();

/** Packets the kernel dropped because a CPU's backlog was full (/proc/net/softnet_stat, all CPUs). */
function softnetDrops(): number {
  return readFileSync('/proc/net/softnet_stat', 'utf8').trim().split('\n').reduce((a, l) => a + parseInt(l.split(' ')[1] ?? '0', 16), 0);
}

/** Bytes received so far on a lab host's underlay device. */
async function rxBytes(netns: string, dev: string): Promise<number> {
  const rows = JSON.parse((await runner.run(['ip', '-n', netns, '-s', '-j', 'link', 'show', 'dev', dev])).stdout) as Array<{ stats64?: { rx?: { bytes?: number } } }>;
  return rows[0]?.stats64?.rx?.bytes ?? 0;
}

const runner = new CountingRunner(new ExecRunner(), flag('--trace'));
const log = pino({ level: 'silent' });
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

function request(scope: string, n: number): ApplyRequest__Output {
  return {
    requestId: `bench-${scope}`,
    scope,
    state: { network: 'bridge', containerCidr: CIDR, containers: Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, address: nthHost(CIDR, i + 2) })), tunnel: null, filter: null, mtu: 0 },
  };
}

interface Step {
  readonly ms: number;
  readonly processes: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Step> {
  const c0 = runner.count;
  runner.trace = [];
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  if (flag('--trace') && runner.trace.length < 20) for (const x of runner.trace) console.error(`    ${x.ms.toFixed(0).padStart(6)} ms  ${x.what}`);
  return { ms, processes: runner.count - c0 };
}

async function verifyUp(env: HostEnv, scope: string, n: number): Promise<void> {
  const ns = [...(await listNetns(runner))].filter((x) => x.startsWith(env.prefix));
  if (ns.length !== n) throw new Error(`${scope}: expected ${n} container namespaces, found ${ns.length}`);
  const last = nthHost(CIDR, n + 1);
  // A broadcast (the ARP request) on a 1,000-port bridge is 1,000 packets on one CPU's backlog
  // (net.core.netdev_max_backlog, 1000 by default): on a busy machine some are dropped, so the
  // kernel's own ARP retries get a few seconds, and a failure says how many the backlog dropped.
  const drops0 = softnetDrops();
  const r = await runner.run(['ping', '-n', '-q', '-c', '5', '-i', '0.5', '-W', '3', last], { netns: containerNetns(env.prefix, scope, 'c1'), okCodes: [0, 1] });
  if (!/ [1-9] received/.test(r.stdout)) throw new Error(`${scope}: c1 cannot reach ${last} (backlog drops meanwhile: ${softnetDrops() - drops0}): ${r.stdout}`);
}

async function verifyGone(env: HostEnv, scope: string): Promise<void> {
  const ns = [...(await listNetns(runner))].filter((x) => x.startsWith(env.prefix));
  if (ns.length > 0) throw new Error(`${scope}: ${ns.length} namespaces left`);
  const links = [...(await listLinks(runner, env.hostNetns)).keys()].filter((x) => x.startsWith(env.prefix));
  if (links.length > 0) throw new Error(`${scope}: ${links.length} host links left`);
}

/** The baseline: one `ip` process per object, in order, as a script without batching would. */
async function perObjectSetup(env: HostEnv, scope: string, n: number): Promise<void> {
  await perObjectBridge(runner, env, scope, n, { bridge: `${env.prefix}bpo${scope.length}`, cidr: CIDR, prefixLen: PREFIX_LEN });
}

async function perObjectTeardown(env: HostEnv, scope: string, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await runner.run(['ip', 'netns', 'del', containerNetns(env.prefix, scope, `c${i}`)]);
  await runner.run(['ip', '-n', env.hostNetns!, 'link', 'del', `${env.prefix}bpo${scope.length}`]);
  // Like the agent's teardown: done when the kernel has taken the veths with the namespaces.
  const deadline = Date.now() + 60_000;
  while ([...(await listLinks(runner, env.hostNetns)).keys()].some((x) => x.startsWith(env.prefix))) {
    if (Date.now() > deadline) throw new Error('per-object teardown: veths still there after 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What one trivial process costs right now (the machine is shared). */
async function spawnCost(): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) await runner.run(['ip', '-V']);
  return (performance.now() - t0) / 20;
}

interface Condition {
  readonly name: 'idle' | 'traffic';
  loadBefore: string;
  loadAfter: string;
  spawnMs: number;
  trafficMbps?: number;
  readonly steps: Record<string, Step>;
}

async function main(): Promise<number> {
  const helper = builtNsconf();
  if (helper === undefined) throw new Error('sn-nsconf is not built: run `npm run native`');
  const root = mkdtempSync(join(tmpdir(), 'seconet-bench-'));
  const topo = await createLab(runner, randomLabId(), 3);
  const host = topo.hosts[0]!;
  const base = {
    name: host.name, prefix: host.prefix, hostNetns: host.netns, runDir: join(root, 'run'), bpffs: join(root, 'bpf'),
    underlayDev: host.underlayDev, underlayAddress: host.underlayAddress, underlayMtu: 1500,
  };
  const withHelper: HostEnv = { ...base, stateDir: join(root, 'state-a'), nsconf: helper };
  const withoutHelper: HostEnv = { ...base, stateDir: join(root, 'state-b'), nsconf: undefined };
  const agent = await createReconciler({ env: withHelper, runner, log });
  const plain = await createReconciler({ env: withoutHelper, runner, log });
  const conditions: Condition[] = [];
  const spawned: Spawned[] = [];
  try {
    for (const name of flag('--no-traffic') ? (['idle'] as const) : (['idle', 'traffic'] as const)) {
      let client: Spawned | undefined;
      if (name === 'traffic') {
        const [, a, b] = topo.hosts;
        const server = runner.spawn(['iperf3', '-s', '-B', b!.underlayAddress, '-p', '5291'], { netns: b!.netns });
        spawned.push(server);
        await new Promise((r) => setTimeout(r, 500));
        client = runner.spawn(['iperf3', '-c', b!.underlayAddress, '-p', '5291', '-t', '3600', '-i', '0', '-b', RATE], { netns: a!.netns });
        spawned.push(client);
        await new Promise((r) => setTimeout(r, 1500));
        if (!client.alive()) throw new Error(`iperf3 client ended early: ${client.output().stderr}`);
      }
      const [, , sink] = topo.hosts;
      const rx0 = name === 'traffic' ? await rxBytes(sink!.netns, sink!.underlayDev) : 0;
      const tr0 = performance.now();
      const c: Condition = { name, loadBefore: loadavg(), loadAfter: '', spawnMs: await spawnCost(), steps: {} };
      c.steps['agent setup'] = await timed(() => agent.apply(request('scalea', COUNT)));
      await verifyUp(withHelper, 'scalea', COUNT);
      c.steps['agent teardown'] = await timed(() => agent.teardown({ requestId: 'down-a', scope: 'scalea' }));
      await verifyGone(withHelper, 'scalea');

      c.steps['ip -n setup'] = await timed(() => plain.apply(request('scaleb', COUNT)));
      await verifyUp(withoutHelper, 'scaleb', COUNT);
      c.steps['ip -n teardown'] = await timed(() => plain.teardown({ requestId: 'down-b', scope: 'scaleb' }));
      await verifyGone(withoutHelper, 'scaleb');

      if (!flag('--no-baseline')) {
        c.steps['per-object setup'] = await timed(() => perObjectSetup(withHelper, 'scalec', BASE_COUNT));
        await verifyUp(withHelper, 'scalec', BASE_COUNT);
        c.steps['per-object teardown'] = await timed(() => perObjectTeardown(withHelper, 'scalec', BASE_COUNT));
        await verifyGone(withHelper, 'scalec');
      }
      c.loadAfter = loadavg();
      if (client !== undefined) {
        if (!client.alive()) throw new Error(`iperf3 client ended during the measurement: ${client.output().stderr}`);
        c.trafficMbps = Math.round(((await rxBytes(sink!.netns, sink!.underlayDev)) - rx0) * 8 / ((performance.now() - tr0) * 1000));
        await client.stop(2000);
      }
      conditions.push(c);
    }
  } finally {
    for (const s of spawned) await s.stop(1000).catch(() => undefined);
    for (const r of [agent, plain]) await r.gc({ requestId: 'bench-cleanup', keepScopes: [] }).catch(() => undefined);
    // The per-object baseline has no journal: take its namespaces by name.
    for (const n of [...(await listNetns(runner))].filter((x) => x.startsWith(host.prefix))) await runner.run(['ip', 'netns', 'del', n]).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(root, { recursive: true, force: true });
  }

  let ok = true;
  const results = conditions.map((c) => {
    const s = (k: string): number | undefined => c.steps[k]?.ms;
    const ratio = (a: string, b: string, scale = 1): number | undefined => (s(a) !== undefined && s(b) !== undefined ? +((s(a)! * scale) / s(b)!).toFixed(1) : undefined);
    const perContainer = BASE_COUNT === COUNT ? 1 : COUNT / BASE_COUNT;
    for (const k of ['agent setup', 'agent teardown']) if ((s(k) ?? Infinity) >= LIMIT_MS) ok = false;
    return {
      ...c,
      ratios: {
        ipnSetupVsAgent: ratio('ip -n setup', 'agent setup'),
        perObjectSetupVsAgent: ratio('per-object setup', 'agent setup', perContainer),
        perObjectTeardownVsAgent: ratio('per-object teardown', 'agent teardown', perContainer),
      },
    };
  });
  if (json) {
    console.log(JSON.stringify({ count: COUNT, baselineCount: BASE_COUNT, results, ok }));
  } else {
    console.log(`${COUNT} containers (bridge, one lab host); per-object baseline with ${BASE_COUNT}${BASE_COUNT === COUNT ? '' : ' (ratios scaled to ' + COUNT + ')'}`);
    for (const r of results) {
      console.log(`\n[${r.name}] load average ${r.loadBefore} -> ${r.loadAfter}; one trivial process costs ${r.spawnMs.toFixed(1)} ms${r.trafficMbps !== undefined ? `; iperf3 h2->h3 (-b ${RATE}) ${r.trafficMbps} Mbit/s` : ''}`);
      for (const [k, v] of Object.entries(r.steps)) console.log(`  ${k.padEnd(22)} ${(v.ms / 1000).toFixed(2).padStart(7)} s  ${String(v.processes).padStart(5)} processes`);
      const ratios = ([['ip -n setup', r.ratios.ipnSetupVsAgent], ['per-object setup', r.ratios.perObjectSetupVsAgent], ['per-object teardown', r.ratios.perObjectTeardownVsAgent]] as const)
        .filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}x`);
      console.log(`  ratios vs agent: ${ratios.length > 0 ? ratios.join(', ') : 'no baseline measured (--no-baseline)'}`);
      for (const k of ['agent setup', 'agent teardown']) console.log(`  ${(r.steps[k]?.ms ?? Infinity) < LIMIT_MS ? 'PASS' : 'FAIL'} ${k} < 5 s`);
    }
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
