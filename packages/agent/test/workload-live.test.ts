// Every workload really runs between two namespaces joined by a veth pair (2-3 s runs), plus
// cancellation and deadline: no process left behind, the port free for the next sink.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { findTool } from '../src/runner/tools.js';
import type { HostEnv } from '../src/host-env.js';
import type { RunWorkloadRequest__Output } from '../src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import type { PairResult } from '../src/gen/seconet/agent/v1/PairResult.js';
import { runWorkload, type WorkloadDeps } from '../src/workloads/index.js';
import { builtGate, GATE_BINARY } from '../src/workloads/start-gate.js';
import { createTwoNetns, type TwoNetns } from './fixtures/two-netns.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

if (!requireRoot(t, 'network namespaces')) process.exit();

const lab: TwoNetns = await createTwoNetns();
const runDir = mkdtempSync(join(tmpdir(), 'sn-wl-'));
t.teardown(async () => {
  await lab.destroy();
  rmSync(runDir, { recursive: true, force: true });
});

const env: HostEnv = { name: 'h1', prefix: 'snwt', hostNetns: undefined, stateDir: runDir, runDir, bpffs: runDir, underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500, gate: builtGate() };
const deps: WorkloadDeps = {
  env,
  runner: lab.runner,
  log: pino({ level: 'silent' }),
  resolveContainer: (scope, name) => (scope !== 'sc1' ? undefined : name === 'ca' ? lab.a : name === 'cb' ? lab.b : undefined),
};

type Workload = Partial<RunWorkloadRequest__Output['workload'] & object>;
const pair = (id: string, port: number) => ({ pair: id, sourceContainer: 'ca', sourceAddress: lab.a.spec.address, sinkContainer: 'cb', sinkAddress: lab.b.spec.address, port });

function request(role: 'ROLE_SINK' | 'ROLE_SOURCE', workload: Workload, pairs: ReturnType<typeof pair>[], timeoutMs = 0): RunWorkloadRequest__Output {
  return {
    requestId: 'r',
    scope: 'sc1',
    runId: 'live',
    role,
    workload: { kind: '', engine: '', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0, ...workload },
    pairs,
    timeoutMs,
  } as RunWorkloadRequest__Output;
}

interface Outcome {
  sink: WorkloadEvent[];
  source: WorkloadEvent[];
  results: Map<string, PairResult>;
  wallMs: number;
}

/** Sinks first, then all sources at once, then the sinks are cancelled: the controller's order. */
async function run(workload: Workload, pairs = [pair('p0', 5301)]): Promise<Outcome> {
  const sinkAc = new AbortController();
  const sink: WorkloadEvent[] = [];
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const sinkDone = runWorkload(deps, request('ROLE_SINK', workload, pairs), (e) => {
    sink.push(e);
    if (e.ready || e.error) onReady();
  }, sinkAc.signal);
  await Promise.race([ready, sinkDone]);
  const source: WorkloadEvent[] = [];
  const t0 = performance.now();
  await runWorkload(deps, request('ROLE_SOURCE', workload, pairs), (e) => source.push(e), new AbortController().signal);
  const wallMs = performance.now() - t0;
  sinkAc.abort();
  await sinkDone;
  const results = new Map(source.filter((e) => e.result).map((e) => [e.result!.pair!, e.result!]));
  return { sink, source, results, wallMs };
}

const val = (r: PairResult | undefined, name: string, flow = ''): number => {
  const m = r?.metrics?.find((x) => x.name === name && (x.flow ?? '') === flow);
  return m === undefined ? Number.NaN : Number(m.value);
};

async function noProcessesLeft(t: { same: (a: unknown, b: unknown, msg: string) => unknown }): Promise<void> {
  await sleep(100);
  t.same(await lab.pids(), [], 'no process left in the container namespaces');
}

t.test('latency-basic (ping)', async (t) => {
  const o = await run({ kind: 'latency-basic', engine: 'ping', payload: 653, durationMs: 1000, params: { interval: '0.1', count: '10' } });
  t.ok(o.sink.some((e) => e.ready), 'ICMP sink ready at once');
  const r = o.results.get('p0');
  t.ok(r, JSON.stringify(o.source.filter((e) => e.error)));
  t.equal(r!.tool, 'ping');
  t.match(r!.toolVersion, /iputils/);
  t.equal(val(r, 'packets_sent'), 10);
  t.equal(val(r, 'packets_received'), 10);
  t.equal(val(r, 'loss'), 0);
  t.ok(val(r, 'rtt_avg') > 0 && val(r, 'rtt_avg') < 50, `rtt_avg ${val(r, 'rtt_avg')} ms`);
  const rtt = r!.series!.find((s) => s.name === 'rtt')!;
  t.equal(rtt.values!.length, 10, 'one RTT per reply');
  t.equal(rtt.unit, 'ms');
  t.match(r!.rawOutput, /10 packets transmitted/);
  t.ok(r!.argv!.includes('653'));
  t.ok(Number(r!.endedAt) > Number(r!.startedAt));
  await noProcessesLeft(t);
});

t.test('throughput-basic (iperf3, TCP) and the plain iperf3 workload (UDP)', async (t) => {
  const o = await run({ kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 1370, durationMs: 2000 });
  t.ok(o.sink.some((e) => e.ready), 'iperf3 server listened before ready');
  const r = o.results.get('p0');
  t.ok(r, JSON.stringify(o.source.filter((e) => e.error)));
  t.ok(val(r, 'throughput') > 1e7, `throughput ${(val(r, 'throughput') / 1e6).toFixed(0)} Mbit/s`);
  t.ok(val(r, 'retransmits') >= 0);
  t.ok(val(r, 'cpu_local') > 0, 'tool CPU reported');
  t.equal(r!.series!.find((s) => s.name === 'throughput')!.values!.length, 2);
  t.ok(progressOrResult(o.source), 'progress events precede the result');

  const u = await run({ kind: 'iperf3', engine: 'iperf3', protocol: 'udp', payload: 1000, durationMs: 2000, params: { bitrate: '40M' } }, [pair('p0', 5302)]);
  const ur = u.results.get('p0');
  t.ok(ur, JSON.stringify(u.source.filter((e) => e.error)));
  t.ok(Math.abs(val(ur, 'throughput') / 40e6 - 1) < 0.2, `UDP at the asked rate (${(val(ur, 'throughput') / 1e6).toFixed(1)} Mbit/s)`);
  t.ok(val(ur, 'loss') >= 0 && val(ur, 'jitter') >= 0);
  await noProcessesLeft(t);
});

function progressOrResult(events: WorkloadEvent[]): boolean {
  const kinds = events.map((e) => Object.keys(e)[0]);
  return kinds[kinds.length - 1] === 'result';
}

t.test('clients-scale: three clients against one sink container, released together', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const pairs = [pair('c0', 5311), pair('c1', 5312), pair('c2', 5313)];
  const o = await run({ kind: 'clients-scale', engine: 'iperf3', protocol: 'tcp', payload: 1370, durationMs: 2000 }, pairs);
  t.same(o.sink.find((e) => e.ready)!.ready!.pairs, ['c0', 'c1', 'c2']);
  for (const p of pairs) t.ok(val(o.results.get(p.pair), 'throughput') > 1e6, `${p.pair} measured`);
  const starts = [...o.results.values()].map((r) => Number(r.startedAt));
  t.equal(new Set(starts).size, 1, 'one start for every client: the barrier\'s release');
  t.ok([...o.results.values()].every((r) => r.argv?.includes(GATE_BINARY)), 'each client was held behind sn-gate');
  t.ok(o.wallMs < 8000, `ran in parallel (${o.wallMs.toFixed(0)} ms)`);
  await noProcessesLeft(t);
});

t.test('many pairs per core: the tools run in the idle scheduling class; a few pairs keep the normal class', async (t) => {
  if (!requireTool(t, 'chrt', 'setting the scheduling class of workload tools')) return;
  // On a host of one core, 9 pairs is more than IDLE_CLASS_PAIRS_PER_CORE (8) per core.
  const one: WorkloadDeps = { ...deps, cores: 1 };
  const pairs = Array.from({ length: 9 }, (_, i) => pair(`q${i}`, 5321 + i));
  const workload: Workload = { kind: 'clients-scale', engine: 'iperf3', protocol: 'tcp', payload: 1370, durationMs: 2000 };
  const sinkAc = new AbortController();
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const sinkDone = runWorkload(one, request('ROLE_SINK', workload, pairs), (e) => {
    if (e.ready || e.error) onReady();
  }, sinkAc.signal);
  await Promise.race([ready, sinkDone]);
  const source: WorkloadEvent[] = [];
  const sourceDone = runWorkload(one, request('ROLE_SOURCE', workload, pairs), (e) => source.push(e), new AbortController().signal);
  // What the kernel says of the running tools: field 41 of /proc/PID/stat is the policy (SCHED_IDLE = 5).
  const policies = new Map<string, number>();
  const policyOf = (pid: number): { comm: string; policy: number } | undefined => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      return { comm, policy: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]) };
    } catch {
      return undefined;
    }
  };
  const since = Date.now();
  while (Date.now() - since < 1500) {
    for (const pid of await lab.pids()) {
      const p = policyOf(pid);
      if (p !== undefined && p.comm === 'iperf3') policies.set(String(pid), p.policy);
    }
    await sleep(100);
  }
  await sourceDone;
  sinkAc.abort();
  await sinkDone;
  const results = source.filter((e) => e.result).map((e) => e.result!);
  t.equal(results.length, 9, `every client measured (${JSON.stringify(source.filter((e) => e.error).map((e) => e.error!.message))})`);
  t.ok(policies.size >= 18, `the servers and clients were seen running (${policies.size} iperf3 processes)`);
  t.same([...new Set(policies.values())], [5], 'every iperf3 process ran in SCHED_IDLE');
  t.ok(results.every((r) => r.argv!.join(' ').includes('chrt --idle 0')), `the recorded command line says so (${results[0]?.argv?.join(' ')})`);

  const few = await run(workload, [pair('q0', 5321), pair('q1', 5322)]);
  t.equal(few.results.size, 2);
  t.ok([...few.results.values()].every((r) => !r.argv!.includes('chrt')), 'two pairs: the normal class, no chrt');
  await noProcessesLeft(t);
});

t.test('D-ITG: bursty, tcp-100 (reduced), quake3, video', async (t) => {
  if (!requireTool(t, 'ITGSend', 'the D-ITG workloads (apt-get install d-itg)')) return;
  const b = await run({ kind: 'bursty', engine: 'ditg', durationMs: 3000 }, [pair('p0', 9100)]);
  const br = b.results.get('p0');
  t.ok(br, JSON.stringify(b.source.filter((e) => e.error)));
  t.equal(br!.tool, 'ditg');
  t.match(br!.rawOutput, /-rp 9101 -m rttm -t 3000 -T UDP -C 95\.712 -c 653 -B C 1000 C 1000/, 'the script is kept with the output');
  t.ok(val(br, 'packets') > 100, `packets ${val(br, 'packets')}`);
  t.ok(val(br, 'rtt_avg') > 0, 'round-trip delay measured');
  const series = br!.series!.find((s) => s.name === 'bitrate')!.values!.map(Number);
  // 1 s on, 1 s off: the decoder's 1 s bins need not line up with the bursts (they do not under
  // load), so an off period shows as a bin far below the busiest one rather than as an exact 0.
  const peak = Math.max(...series);
  t.ok(peak > 400_000 && Math.min(...series) < peak / 10, `on/off bursts visible: ${series.join(', ')}`);
  t.ok(val(br, 'bitrate', '1') > 0, 'per-flow metric with flow id');

  const tcp = await run({ kind: 'tcp-100', engine: 'ditg', durationMs: 2000, params: { flows: '12', flowsPerProcess: '6' } }, [pair('p0', 9200)]);
  const tr = tcp.results.get('p0');
  t.ok(tr, JSON.stringify(tcp.source.filter((e) => e.error)));
  const flows = new Set(tr!.metrics!.map((m) => m.flow).filter((f) => f !== ''));
  t.equal(flows.size, 12, 'every flow reported, ids 1..12 across two ITGSend processes');
  t.ok(flows.has('12') && flows.has('7'));
  const total = val(tr, 'bitrate');
  t.ok(total > 12 * 400_000 && total < 12 * 600_000, `12 flows of ~500 Kbps (${(total / 1e6).toFixed(2)} Mbit/s)`);
  t.equal(val(tr, 'lost_packets'), 0);
  t.ok(tcp.wallMs < 20_000, `split over processes: ${tcp.wallMs.toFixed(0)} ms`);

  const q = await run({ kind: 'quake3', engine: 'ditg', durationMs: 2000 }, [pair('p0', 9300)]);
  const qr = q.results.get('p0');
  t.ok(qr, JSON.stringify(q.source.filter((e) => e.error)));
  t.equal(new Set(qr!.metrics!.map((m) => m.flow).filter((f) => f !== '')).size, 4, 'four Quake3 flows');
  t.ok(val(qr, 'packets') > 50);

  const v = await run({ kind: 'video', engine: 'ditg', durationMs: 2000, seed: 42, params: { flowsPerProcess: '5' } }, [pair('p0', 9400)]);
  const vr = v.results.get('p0');
  t.ok(vr, JSON.stringify(v.source.filter((e) => e.error)));
  t.equal(new Set(vr!.metrics!.map((m) => m.flow).filter((f) => f !== '')).size, 10, 'ten video streams');
  t.ok(val(vr, 'bitrate') > 1e6, `video bitrate ${(val(vr, 'bitrate') / 1e6).toFixed(1)} Mbit/s`);
  await noProcessesLeft(t);
});

t.test('a source without a sink reports the tool error with its output', async (t) => {
  const source: WorkloadEvent[] = [];
  await runWorkload(deps, request('ROLE_SOURCE', { kind: 'iperf3', engine: 'iperf3', durationMs: 2000 }, [pair('p0', 5399)]), (e) => source.push(e), new AbortController().signal);
  const err = source.find((e) => e.error)!.error!;
  t.equal(err.pair, 'p0');
  t.equal(err.code, 'COMMAND_FAILED');
  t.match(err.message, /refused/);
  t.match(err.rawOutput, /unable to connect/);
  const ditg: WorkloadEvent[] = [];
  await runWorkload(deps, request('ROLE_SOURCE', { kind: 'bursty', engine: 'ditg', durationMs: 1000 }, [pair('p0', 9399)]), (e) => ditg.push(e), new AbortController().signal);
  const derr = ditg.find((e) => e.error)!.error!;
  t.equal(derr.code, 'COMMAND_FAILED');
  t.match(derr.message, /Connection refused/);
  t.match(derr.rawOutput, /ITGSend process 0/);
});

t.test('cancel stops every process and frees the port', async (t) => {
  const sinkAc = new AbortController();
  const srcAc = new AbortController();
  const w: Workload = { kind: 'iperf3', engine: 'iperf3', durationMs: 30_000 };
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const sinkDone = runWorkload(deps, request('ROLE_SINK', w, [pair('p0', 5401)]), (e) => e.ready && ready(), sinkAc.signal);
  await isReady;
  const events: WorkloadEvent[] = [];
  const t0 = performance.now();
  const srcDone = runWorkload(deps, request('ROLE_SOURCE', w, [pair('p0', 5401)]), (e) => events.push(e), srcAc.signal);
  await sleep(1500);
  t.ok((await lab.pids()).length >= 2, 'client and server running');
  srcAc.abort();
  sinkAc.abort();
  await Promise.all([srcDone, sinkDone]);
  t.ok(performance.now() - t0 < 6000, 'stopped long before the 30 s run would end');
  t.equal(events.find((e) => e.error)?.error?.code, 'CANCELLED');
  t.notOk(events.some((e) => e.result));
  await noProcessesLeft(t);
  const again: WorkloadEvent[] = [];
  const ac = new AbortController();
  await runWorkload(deps, request('ROLE_SINK', w, [pair('p0', 5401)]), (e) => {
    again.push(e);
    ac.abort();
  }, ac.signal);
  t.ok(again[0]?.ready, 'a new sink binds the same port');
  await noProcessesLeft(t);
});

t.test('the deadline stops sources (TIMEOUT) and ends sinks', async (t) => {
  const sinkEvents: WorkloadEvent[] = [];
  const t0 = performance.now();
  await runWorkload(deps, request('ROLE_SINK', { kind: 'tcp-100', engine: 'ditg', durationMs: 10_000, params: { flows: '2' } }, [pair('p0', 9500)], 1500), (e) => sinkEvents.push(e), new AbortController().signal);
  const took = performance.now() - t0;
  t.ok(sinkEvents[0]?.ready, 'sink was ready');
  t.ok(took >= 1400 && took < 5000, `sink call ended at its deadline (${took.toFixed(0)} ms)`);
  await noProcessesLeft(t);

  const events: WorkloadEvent[] = [];
  const t1 = performance.now();
  await runWorkload(deps, request('ROLE_SOURCE', { kind: 'latency-basic', engine: 'ping', durationMs: 20_000, params: { interval: '0.1' } }, [pair('p0', 0)], 1500), (e) => events.push(e), new AbortController().signal);
  t.ok(performance.now() - t1 < 5000, 'source call ended at its deadline');
  const err = events.find((e) => e.error)!.error!;
  t.equal(err.code, 'TIMEOUT');
  await noProcessesLeft(t);
});

t.test('uperf live run', { skip: findTool('uperf') ? false : 'uperf is not installed on this machine (not packaged in Debian); its parser and profile writer are tested on the shared fixtures' }, async (t) => {
  const o = await run({ kind: 'throughput-basic', engine: 'uperf', protocol: 'tcp', payload: 653, durationMs: 2000 }, [pair('p0', 20001)]);
  t.ok(val(o.results.get('p0'), 'throughput') > 1e6);
});
