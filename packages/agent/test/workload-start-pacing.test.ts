// A call with hundreds of pairs must not hold the agent's event loop while it starts their
// tools: each start is a synchronous fork+exec, and a loop held for longer than the client's
// keepalive timeout (5 s) made the controller drop the connection ("UNAVAILABLE: Connection
// dropped" for every pair of a 1,000-client pre-flight). Here every start costs 5 ms of
// synchronous work, as a fork of a large agent does, and a 10 ms timer must keep firing.

import t from 'tap';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { FakeRunner } from '../src/testing.js';
import type { SpawnOptions, Spawned } from '../src/runner/runner.js';
import type { ContainerHandle } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import type { RunWorkloadRequest__Output } from '../src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import type { WorkloadDeps } from '../src/workloads/index.js';
import { runWorkloadCall } from '../src/workloads/run.js';
import { mapBounded, startPacer } from '@seconet/core';

const PAIRS = 400;
const START_COST_MS = 5;
const pingOut = readFileSync(fileURLToPath(new URL('./fixtures/ping/ok-653.txt', import.meta.url)), 'utf8');
const runDir = mkdtempSync(join(tmpdir(), 'sn-wlp-'));
t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
const env: HostEnv = { name: 'h1', prefix: 'snzz', hostNetns: undefined, stateDir: runDir, runDir, bpffs: '/tmp/none', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };

/** spawn() blocks for START_COST_MS like a fork; the "ping" exits with real output on the next turn. */
class SlowForkRunner extends FakeRunner {
  spawned = 0;
  override spawn(argv: readonly string[], opts: SpawnOptions = {}): Spawned {
    const end = performance.now() + START_COST_MS;
    while (performance.now() < end) {
      // busy: fork+exec is synchronous in child_process.spawn
    }
    this.spawned += 1;
    const base = super.spawn(argv, opts);
    const exited = new Promise<{ exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((r) => setImmediate(() => r({ exitCode: 0, signal: null, stdout: pingOut, stderr: '' })));
    return { ...base, exited, alive: () => false, stop: async () => undefined };
  }
}

t.test(`${PAIRS} ping sources start without holding the event loop`, async (t) => {
  const runner = new SlowForkRunner().on('link show dev eth0', { stdout: JSON.stringify([{ ifname: 'eth0', mtu: 1500 }]) }).on('ping -V', { stdout: 'ping from iputils 20221126' });
  const handles = new Map<string, ContainerHandle>();
  for (let i = 0; i < PAIRS; i++) handles.set(`c${i}`, { spec: { name: `c${i}`, address: '198.19.1.2' }, netns: `snzzc${i}`, hostIface: 'x', iface: 'eth0', mac: '' });
  const deps: WorkloadDeps = { env, runner, log: pino({ level: 'silent' }), resolveContainer: (scope, name) => (scope === 'sc1' ? handles.get(name) : undefined) };
  const req: RunWorkloadRequest__Output = {
    requestId: 'r1',
    scope: 'sc1',
    runId: 'pre1',
    role: 'ROLE_SOURCE' as RunWorkloadRequest__Output['role'],
    workload: { kind: 'latency-basic', engine: 'ping', protocol: '', payload: 56, durationMs: 2000, params: { count: '2', interval: '0.2' }, seed: 0 },
    pairs: Array.from({ length: PAIRS }, (_, i) => ({ pair: `p${i}`, sourceContainer: `c${i}`, sourceAddress: '198.19.1.3', sinkContainer: 'srv', sinkAddress: '198.19.1.2', port: 5201 })) as RunWorkloadRequest__Output['pairs'],
    timeoutMs: 0,
  };
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const events: WorkloadEvent[] = [];
  const t0 = performance.now();
  try {
    await runWorkloadCall(deps, req, (e) => events.push(e), new AbortController().signal);
  } finally {
    loop.disable();
  }
  const maxGap = loop.max / 1e6;
  const wall = performance.now() - t0;
  t.equal(runner.spawned, PAIRS, 'one ping per pair');
  t.equal(events.filter((e) => e.result).length, PAIRS, 'every pair has a result');
  t.same(events.filter((e) => e.error), [], 'no pair failed');
  t.ok(wall >= PAIRS * START_COST_MS, `the starts took their cost (${Math.round(wall)} ms)`);
  // Unpaced, the loop was held for all PAIRS x START_COST_MS = 2,000 ms at once.
  t.ok(maxGap < 600, `longest event-loop gap ${Math.round(maxGap)} ms (< 600 ms; unpaced it is ~${PAIRS * START_COST_MS} ms)`);
});

t.test('the pacer yields once a slice is used up, not before', async (t) => {
  const p = startPacer(20);
  await p.next(); // a new slice, once the loop turned if the last one is used up
  const y0 = p.yields;
  await p.next();
  t.equal(p.yields, y0, 'within the slice: no yield');
  const end = performance.now() + 25;
  while (performance.now() < end) {
    // use up the slice
  }
  let timerRan = false;
  setImmediate(() => (timerRan = true));
  await p.next();
  t.equal(p.yields, y0 + 1);
  t.ok(timerRan, 'the event loop turned (an immediate queued before ran)');
});

t.test('bursts side by side share one slice: a turn of the event loop holds 20 ms of all of them, not 20 ms each', async (t) => {
  // Eight loops of 4 ms steps, as eight runs opening their streams at once. Between two turns
  // of the event loop (a timer of 0 ms marks each) there is one slice of work, not eight.
  const marks: number[] = [];
  let stop = false;
  const tick = (): void => {
    marks.push(performance.now());
    if (!stop) setTimeout(tick, 0);
  };
  setTimeout(tick, 0);
  await Promise.all(Array.from({ length: 8 }, async () => {
    const p = startPacer(20);
    for (let i = 0; i < 20; i++) {
      await p.next();
      const end = performance.now() + 4;
      while (performance.now() < end);
    }
  }));
  stop = true;
  const gaps = marks.slice(1).map((m, i) => m - marks[i]!);
  const worst = Math.max(...gaps);
  // 8 x 20 x 4 ms = 640 ms of work; with a clock per loop a turn held 8 x 20 ms = 160 ms.
  t.ok(worst < 80, `longest gap between event-loop turns ${worst.toFixed(0)} ms (< 80 ms; a slice per loop gave ~160 ms)`);
});

t.test('mapBounded keeps order and the limit', async (t) => {
  let inFlight = 0;
  let peak = 0;
  const out = await mapBounded([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, n));
    inFlight -= 1;
    return n * 10;
  });
  t.same(out, [50, 10, 40, 20, 30, 0, 60]);
  t.equal(peak, 3);
});
