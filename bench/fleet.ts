// Benchmark: one controller and a simulated fleet of 10, 100 and 1,000 agents in one run. The
// agents are FakeAgents behind real gRPC servers with mutual TLS on loopback, all in one child
// process (bench/lib/fleet-agents.ts); the controller (registry with its health checks, queue on
// a private Redis, engine, store, REST API on a real port) runs in this process.
// The sweep runs across the whole fleet: a spec lists at most 64 hosts, so the fleet is split
// into ceil(N/64) groups of at most 64 hosts and one experiment per group is submitted
// (throughput-basic and latency-basic, 5 s windows, 3 repetitions each); the queue runs them
// all at once (worker.concurrency = the number of groups, their host locks are disjoint).
// Every agent streams metrics at 1 Hz the whole time: the run monitor's streams of the hosts
// in a run plus the dashboard's live stream of all N hosts, read by an SSE client child
// (bench/lib/rest-probe.ts); a second child GETs /v1/agents, an experiment and its runs every
// 100 ms (its own process, so parsing N samples a second never delays its requests).
// Reported per fleet size: controller CPU (share of one core over the sweep), peak RSS,
// event-loop delay p99, REST p50/p99, and metric samples: received, counted as dropped, and
// expected (1 per host per second); ratios against the 10-agent run; and refWorkMs, a fixed piece
// of JavaScript work timed just before the sweep (the machine's speed at the time: the same code
// measured about 1.7x apart within one day, so compare absolute figures only at similar refWorkMs).
// Targets at 1,000 agents: controller < 1 core, RSS < 1 GiB, REST p99 < 100 ms, every
// expected live sample received or counted. Needs redis-server and openssl.
// Run: node --import=tsx --conditions=seconet-source bench/fleet.ts [--sizes 10,100,1000] [--json]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { buildApi, parseControllerConfig, startController } from '@seconet/controller';
import { issue, makeCa } from '../test/helpers/pki.js';
import { startRedis } from '../test/helpers/redis.js';

// The installed controller runs without source maps (packages/cli/bin/seconet.js, plain node);
// tsx turns them on, and with them every gRPC status error formats its stack through the
// source maps. Measure what runs in production.
process.setSourceMapsEnabled(false);
const REPO = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const si = args.indexOf('--sizes');
const SIZES = (si >= 0 ? args[si + 1]! : '10,100,1000').split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 2 || n > 2000)) throw new Error('--sizes: comma-separated fleet sizes, 2..2000');
const TOKEN = 'fleet-bench-token-0123456789abcdef';
const DURATION_S = 5;
/** LIMITS.hostsMax of the spec: one experiment lists at most this many hosts. */
const GROUP_MAX = 64;
/**
 * The machine's speed at the moment, for comparing runs across days: the same fixed JavaScript
 * work (build, serialize and parse 20,000 small objects, five times) timed on this thread, best
 * of three. The same code measured about 1.7x apart on this kind of machine within one day.
 */
function referenceWorkMs(): number {
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    for (let i = 0; i < 5; i++) {
      const xs = Array.from({ length: 20_000 }, (_, k) => ({ host: `a${k}`, timestamp: k * 1000, cpu: { usr: k % 7, sys: k % 3, idle: 90 }, rx: k * 13, tx: k * 17 }));
      if ((JSON.parse(JSON.stringify(xs)) as unknown[]).length !== xs.length) throw new Error('reference work');
    }
    best = Math.min(best, performance.now() - t);
  }
  return +best.toFixed(1);
}
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

function child(script: string, opts: object): ChildProcess {
  return spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', join(REPO, script), JSON.stringify(opts)], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
}

async function firstLine(c: ChildProcess): Promise<string> {
  const rl = createInterface({ input: c.stdout! });
  return new Promise((resolve, reject) => {
    rl.once('line', (l) => resolve(l));
    c.once('exit', (code) => reject(new Error(`child exited (${String(code)}) before it answered`)));
  });
}

async function stopChild(c: ChildProcess): Promise<string> {
  const line = firstLine(c).catch(() => '');
  c.kill('SIGTERM');
  return line;
}

const dir = mkdtempSync(join(tmpdir(), 'sn-fleet-'));
const redis = await startRedis();
const results: object[] = [];
try {
  const ca = makeCa(dir);
  const server = issue(dir, ca, 'fleet', 'server', ['127.0.0.1']);
  const client = issue(dir, ca, 'controller', 'client');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);

  for (const n of SIZES) {
    const fleet = child('bench/lib/fleet-agents.ts', { count: n, ca: ca.cert, cert: server.cert, key: server.key, delayMs: DURATION_S * 1000 });
    // On a real fleet the agents run on their own machines: here they share the controller's two
    // cores, so they run at a lower priority (nice 10) and take what the controller leaves.
    setPriority(fleet.pid!, 10);
    const { addresses } = JSON.parse(await firstLine(fleet)) as { addresses: string[] };
    const store = join(dir, `store-${n}`);
    mkdirSync(store);
    const tls = { ca: ca.cert, cert: client.cert, key: client.key };
    const groups = Math.ceil(n / GROUP_MAX);
    const ctl = await startController(parseControllerConfig({
      redis: { url: redis.url, prefix: `snfleet${n}` },
      store,
      agents: addresses.map((address, i) => ({ name: `a${i}`, address, tls, serverName: 'fleet' })),
      api: { listen: '127.0.0.1:0', tokenFile },
      engine: { metricsIntervalMs: 1000 },
      worker: { concurrency: groups },
    }, dir));
    const app = await buildApi({ service: ctl.service, tokens: [TOKEN], rateLimit: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    try {
      const h0 = performance.now();
      while (!ctl.registry.status().every((a) => a.healthy)) {
        if (performance.now() - h0 > 300_000) throw new Error(`${n} agents: not all healthy after 300 s`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const healthyS = (performance.now() - h0) / 1000;

      // Groups of near-equal size, each even (multi-host placement: one container per host).
      const names = Array.from({ length: n }, (_, i) => `a${i}`);
      const hostGroups = Array.from({ length: groups }, (_, g) => names.slice(Math.floor((g * n) / groups), Math.floor(((g + 1) * n) / groups)));
      const sse = child('bench/lib/rest-probe.ts', { base, token: TOKEN, paths: [], intervalMs: 100, sse: true });
      await new Promise((r) => setTimeout(r, 3000));
      const refWorkMs = referenceWorkMs();
      const loadBefore = loadavg();
      const elu = monitorEventLoopDelay({ resolution: 10 });
      elu.enable();
      let rss = process.memoryUsage.rss();
      const rssTimer = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 250);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const ids: string[] = [];
      for (const [g, hosts] of hostGroups.entries()) {
        const containers = hosts.length % 2 === 0 ? hosts.length : hosts.length + 1;
        ids.push((await ctl.service.submit({
          name: `fleet-${n}-g${g}`,
          hosts,
          placement: 'multi-host',
          matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], containers: [containers] },
          workloads: [{ 'throughput-basic': { duration: DURATION_S, engine: 'iperf3' } }, { 'latency-basic': { duration: DURATION_S } }],
          repetitions: { min: 3, max: 3 },
        })).id);
      }
      const id = ids[0]!;
      const probe = child('bench/lib/rest-probe.ts', { base, token: TOKEN, paths: ['/v1/agents', `/v1/experiments/${id}`, `/v1/experiments/${id}/runs`], intervalMs: 100, sse: false });
      const states = async (): Promise<Array<Awaited<ReturnType<typeof ctl.service.get>>>> => Promise.all(ids.map((x) => ctl.service.get(x)));
      let all = await states();
      while (!all.every((x) => ['succeeded', 'failed', 'cancelled'].includes(x.state))) {
        await new Promise((r) => setTimeout(r, 500));
        all = await states();
      }
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(rssTimer);
      elu.disable();
      const p = JSON.parse(await stopChild(probe)) as { latenciesMs: number[]; byPath: Record<string, number[]>; errors: number };
      const live = JSON.parse(await stopChild(sse)) as { samples: number; dropped: number; sseSeconds: number; accounting: { hosts: number; gridSamples: number; received: number; countedDropped: number; uncounted: number } };
      const rows = ids.flatMap((x) => ctl.store.resultRows(x));
      const sum = (metric: string): number => rows.filter((r) => r.metric === metric).reduce((a, r) => a + r.value, 0);
      const r = {
        agents: n,
        experiments: groups,
        sweepHosts: hostGroups.reduce((a, h) => a + h.length, 0),
        state: [...new Set(all.map((x) => x.state))].join(','),
        runs: `${all.reduce((a, x) => a + x.progress.runsDone, 0)}/${all.reduce((a, x) => a + x.progress.runsTotal, 0)}`,
        allHealthyS: +healthyS.toFixed(1),
        wallS: +wallS.toFixed(1),
        controllerCpuPct: +((100 * (cpu.user + cpu.system)) / 1e6 / wallS).toFixed(1),
        rssMiB: Math.round(rss / 2 ** 20),
        eventLoopDelayP99Ms: +(elu.percentile(99) / 1e6).toFixed(1),
        eventLoopDelayMaxMs: +(elu.max / 1e6).toFixed(1),
        restRequests: p.latenciesMs.length,
        restErrors: p.errors,
        restP50Ms: +pct(p.latenciesMs, 50).toFixed(1),
        restP99Ms: +pct(p.latenciesMs, 99).toFixed(1),
        // Per endpoint (the experiment's id replaced by :id): p50 / p99 / max, ms.
        restByEndpoint: Object.fromEntries(Object.entries(p.byPath).map(([path, l]) => [path.replace(id, ':id'), `${pct(l, 50).toFixed(1)} / ${pct(l, 99).toFixed(1)} / ${Math.max(...l).toFixed(1)}`])),
        runSamples: sum('host_samples'),
        runSamplesDropped: sum('host_samples_dropped'),
        liveSamples: live.samples,
        liveSamplesDropped: live.dropped,
        liveSamplesExpected: Math.round(n * live.sseSeconds),
        // Per host between its first and last sample on the 1 s grid: received + counted drops + uncounted.
        liveHosts: live.accounting.hosts,
        liveGridSamples: live.accounting.gridSamples,
        liveCountedDropped: live.accounting.countedDropped,
        liveUncounted: live.accounting.uncounted,
        loadBefore,
        loadAfter: loadavg(),
        refWorkMs,
      };
      results.push(r);
      if (!args.includes('--json')) console.log(JSON.stringify(r));
    } finally {
      await app.close();
      await ctl.stop();
      await stopChild(fleet);
    }
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (args.includes('--json')) console.log(JSON.stringify(results));
else if (results.length > 1) {
  // How cost grows: each size against the smallest, with the exponent k of cost ~ N^k.
  type R = { agents: number; controllerCpuPct: number; rssMiB: number; restP99Ms: number; eventLoopDelayP99Ms: number };
  const [b, ...rest] = results as R[];
  for (const r of rest) {
    const x = r.agents / b!.agents;
    const f = (k: keyof R): string => `${(r[k] / b![k]).toFixed(2)}x (k=${(Math.log(r[k] / b![k]) / Math.log(x)).toFixed(2)})`;
    console.log(`${r.agents} vs ${b!.agents} agents (${x}x): CPU ${f('controllerCpuPct')}, RSS ${f('rssMiB')}, REST p99 ${f('restP99Ms')}, event-loop p99 ${f('eventLoopDelayP99Ms')}`);
  }
}
