// Benchmark: one controller and a simulated fleet of 10, 100 and 1,000 agents in one run. The
// agents are FakeAgents behind real gRPC servers with mutual TLS on loopback, all in one child
// process (bench/lib/fleet-agents.ts); the controller (registry, health polling every 5 s,
// queue on a private Redis, engine, store, REST API on a real port) runs in this process.
// While the controller runs a sweep (throughput-basic and latency-basic, 5 s windows, 3
// repetitions, on min(N, 64) hosts: a spec lists at most 64), every
// agent streams metrics at 1 Hz: the run monitor's streams plus the dashboard's live stream of
// all N hosts, read by a REST client child (bench/lib/rest-probe.ts) that also GETs
// /v1/agents, the experiment and its runs every 100 ms. Reported per fleet size: controller
// CPU (share of one core over the sweep), peak RSS, event-loop delay p99, REST p50/p99, and
// metric samples: received, counted as dropped, and expected (1 per host per second).
// Targets at 1,000 agents: controller < 1 core, RSS < 1 GiB, REST p99 < 100 ms, every
// expected live sample received or counted. Needs redis-server and openssl.
// Run: node --import=tsx --conditions=seconet-source bench/fleet.ts [--sizes 10,100,1000] [--json]

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { buildApi, parseControllerConfig, startController } from '@seconet/controller';
import { issue, makeCa } from '../test/helpers/pki.js';
import { startRedis } from '../test/helpers/redis.js';

const REPO = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2);
const si = args.indexOf('--sizes');
const SIZES = (si >= 0 ? args[si + 1]! : '10,100,1000').split(',').map(Number);
if (SIZES.some((n) => !Number.isInteger(n) || n < 2 || n > 2000)) throw new Error('--sizes: comma-separated fleet sizes, 2..2000');
const TOKEN = 'fleet-bench-token-0123456789abcdef';
const DURATION_S = 5;
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
    const { addresses } = JSON.parse(await firstLine(fleet)) as { addresses: string[] };
    const store = join(dir, `store-${n}`);
    mkdirSync(store);
    const tls = { ca: ca.cert, cert: client.cert, key: client.key };
    const ctl = await startController(parseControllerConfig({
      redis: { url: redis.url, prefix: `snfleet${n}` },
      store,
      agents: addresses.map((address, i) => ({ name: `a${i}`, address, tls, serverName: 'fleet' })),
      api: { listen: '127.0.0.1:0', tokenFile },
      engine: { metricsIntervalMs: 1000 },
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

      const hosts = Array.from({ length: Math.min(n, 64) }, (_, i) => `a${i}`);
      const containers = hosts.length % 2 === 0 ? hosts.length : hosts.length + 1;
      const loadBefore = loadavg();
      const elu = monitorEventLoopDelay({ resolution: 10 });
      elu.enable();
      let rss = process.memoryUsage().rss;
      const rssTimer = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const { id } = await ctl.service.submit({
        name: `fleet-${n}`,
        hosts,
        placement: 'multi-host',
        matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], containers: [containers] },
        workloads: [{ 'throughput-basic': { duration: DURATION_S, engine: 'iperf3' } }, { 'latency-basic': { duration: DURATION_S } }],
        repetitions: { min: 3, max: 3 },
      });
      const probe = child('bench/lib/rest-probe.ts', { base, token: TOKEN, paths: ['/v1/agents', `/v1/experiments/${id}`, `/v1/experiments/${id}/runs`], intervalMs: 100, sse: true });
      let s = await ctl.service.get(id);
      while (!['succeeded', 'failed', 'cancelled'].includes(s.state)) {
        await new Promise((r) => setTimeout(r, 500));
        s = await ctl.service.get(id);
      }
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      clearInterval(rssTimer);
      elu.disable();
      const p = JSON.parse(await stopChild(probe)) as { latenciesMs: number[]; errors: number; samples: number; dropped: number; sseSeconds: number };
      const rows = ctl.store.resultRows(id);
      const sum = (metric: string): number => rows.filter((r) => r.metric === metric).reduce((a, r) => a + r.value, 0);
      const r = {
        agents: n,
        sweepHosts: hosts.length,
        state: s.state,
        runs: `${s.progress.runsDone}/${s.progress.runsTotal}`,
        allHealthyS: +healthyS.toFixed(1),
        wallS: +wallS.toFixed(1),
        controllerCpuPct: +((100 * (cpu.user + cpu.system)) / 1e6 / wallS).toFixed(1),
        rssMiB: Math.round(rss / 2 ** 20),
        eventLoopDelayP99Ms: +(elu.percentile(99) / 1e6).toFixed(1),
        restRequests: p.latenciesMs.length,
        restErrors: p.errors,
        restP50Ms: +pct(p.latenciesMs, 50).toFixed(1),
        restP99Ms: +pct(p.latenciesMs, 99).toFixed(1),
        runSamples: sum('host_samples'),
        runSamplesDropped: sum('host_samples_dropped'),
        liveSamples: p.samples,
        liveSamplesDropped: p.dropped,
        liveSamplesExpected: Math.round(n * p.sseSeconds),
        loadBefore,
        loadAfter: loadavg(),
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
