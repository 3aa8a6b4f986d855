import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { FakeRunner } from '../src/testing.js';
import { findTool } from '../src/runner/tools.js';
import type { ContainerHandle } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import type { RunWorkloadRequest__Output } from '../src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../src/gen/seconet/agent/v1/WorkloadEvent.js';
import { probeWorkloads, type WorkloadDeps } from '../src/workloads/index.js';
import { runWorkloadCall, validateCall, defaultTimeoutMs } from '../src/workloads/run.js';
import { PortRegistry } from '../src/workloads/port-registry.js';
import { resolvePlan, maxPayloadForMtu } from '../src/workloads/plan.js';
import { pingArgv } from '../src/workloads/ping.js';
import { iperf3ClientArgv, iperf3ServerArgv } from '../src/workloads/iperf3.js';
import { iperf3PacingTimerUs } from '@seconet/core';
import { uperfMasterArgv, uperfSlaveArgv } from '../src/workloads/uperf.js';
import { ditgFlowLines, ditgScripts, itgRecvArgv, packetRate } from '../src/workloads/ditg.js';
import { drawVideoStreams, SeededRandom, videoRateScale } from '../src/workloads/video-model.js';

const runDir = mkdtempSync(join(tmpdir(), 'sn-wlv-'));
t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
const env: HostEnv = { name: 'h1', prefix: 'snzz', hostNetns: undefined, stateDir: runDir, runDir, bpffs: '/tmp/none', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const handle = (name: string, netns: string): ContainerHandle => ({ spec: { name, address: '198.19.1.2' }, netns, hostIface: 'x', iface: 'eth0', mac: '' });
const containers: Record<string, ContainerHandle> = { ca: handle('ca', 'snzzca'), cb: handle('cb', 'snzzcb'), cc: handle('cc', 'snzzcc') };

function deps(mtu = 1500): { deps: WorkloadDeps; runner: FakeRunner } {
  const runner = new FakeRunner().on('link show dev eth0', { stdout: JSON.stringify([{ ifname: 'eth0', mtu }]) });
  return { runner, deps: { env, runner, log: pino({ level: 'silent' }), resolveContainer: (scope, name) => (scope === 'sc1' ? containers[name] : undefined) } };
}

function req(o: { role?: string; workload?: Record<string, unknown>; pairs?: Array<Record<string, unknown>>; timeoutMs?: number } = {}): RunWorkloadRequest__Output {
  return {
    requestId: 'r1',
    scope: 'sc1',
    runId: 'run1',
    role: (o.role ?? 'ROLE_SOURCE') as RunWorkloadRequest__Output['role'],
    workload: { kind: 'latency-basic', engine: 'ping', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0, ...(o.workload ?? {}) },
    pairs: (o.pairs ?? [{}]).map((p) => ({ pair: 'p0', sourceContainer: 'ca', sourceAddress: '198.19.1.2', sinkContainer: 'cb', sinkAddress: '198.19.1.3', port: 5201, ...p })) as RunWorkloadRequest__Output['pairs'],
    timeoutMs: o.timeoutMs ?? 0,
  };
}

const signal = new AbortController().signal;

t.test('bad requests are refused before anything starts, naming the field', async (t) => {
  const cases: Array<[string, Parameters<typeof req>[0], string, string]> = [
    ['unknown kind', { workload: { kind: 'flood' } }, 'INVALID_ARGUMENT', 'workload.kind'],
    ['engine not valid for the kind', { workload: { kind: 'latency-basic', engine: 'iperf3' } }, 'INVALID_ARGUMENT', 'workload.engine'],
    ['engine must be explicit when there is a choice', { workload: { kind: 'throughput-basic', engine: '' } }, 'INVALID_ARGUMENT', 'workload.engine'],
    ['UDP payload above what the MTU carries', { workload: { kind: 'iperf3', engine: 'iperf3', protocol: 'udp', payload: 1473, durationMs: 2000 } }, 'INVALID_ARGUMENT', 'workload.payload'],
    ['explicit MSS above what the MTU carries', { workload: { kind: 'iperf3', engine: 'iperf3', payload: 1461, durationMs: 2000, params: { mss: '1461' } } }, 'INVALID_ARGUMENT', 'workload.params.mss'],
    ['payload above jumbo frames', { workload: { payload: 9000 } }, 'INVALID_ARGUMENT', 'workload.payload'],
    ['payload below the minimum', { workload: { payload: 8 } }, 'INVALID_ARGUMENT', 'workload.payload'],
    ['duration out of range', { workload: { durationMs: 10 } }, 'INVALID_ARGUMENT', 'workload.durationMs'],
    ['clients only for clients-scale', { workload: { kind: 'iperf3', engine: 'iperf3', params: { clients: '5' } } }, 'INVALID_ARGUMENT', 'workload.params.clients'],
    ['parallel out of range', { workload: { kind: 'iperf3', engine: 'iperf3', params: { parallel: '500' } } }, 'INVALID_ARGUMENT', 'workload.params.parallel'],
    ['iperf3 whole seconds', { workload: { kind: 'iperf3', engine: 'iperf3', durationMs: 2500 } }, 'INVALID_ARGUMENT', 'workload.durationMs'],
    ['rate out of range', { workload: { kind: 'bursty', engine: 'ditg', params: { rateKbps: '-5' } } }, 'INVALID_ARGUMENT', 'workload.params.rateKbps'],
    ['bad bitrate', { workload: { kind: 'iperf3', engine: 'iperf3', protocol: 'udp', params: { bitrate: '1;rm' } } }, 'INVALID_ARGUMENT', 'workload.params.bitrate'],
    ['unknown parameter', { workload: { params: { flows: '3' } } }, 'INVALID_ARGUMENT', 'workload.params.flows'],
    ['protocol fixed by the kind', { workload: { kind: 'tcp-100', engine: 'ditg', protocol: 'udp' } }, 'INVALID_ARGUMENT', 'workload.protocol'],
    ['unknown container', { pairs: [{ sourceContainer: 'nope' }] }, 'INVALID_ARGUMENT', 'pairs[0].sourceContainer'],
    ['sink container on the sink side', { role: 'ROLE_SINK', workload: { kind: 'iperf3', engine: 'iperf3' }, pairs: [{ sinkContainer: 'zz' }] }, 'INVALID_ARGUMENT', 'pairs[0].sinkContainer'],
    ['bad address', { pairs: [{ sinkAddress: '198.19.1.300' }] }, 'INVALID_ARGUMENT', 'pairs[0].sinkAddress'],
    ['sink outside the allowed ranges', { pairs: [{ sinkAddress: '8.8.8.8' }] }, 'FORBIDDEN', 'pairs[0].sinkAddress'],
    ['source outside the allowed ranges', { pairs: [{ sourceAddress: '10.0.0.2' }] }, 'FORBIDDEN', 'pairs[0].sourceAddress'],
    ['bad port', { workload: { kind: 'iperf3', engine: 'iperf3' }, pairs: [{ port: 0 }] }, 'INVALID_ARGUMENT', 'pairs[0].port'],
    ['D-ITG data ports past 65535', { workload: { kind: 'tcp-100', engine: 'ditg' }, pairs: [{ port: 65500 }] }, 'INVALID_ARGUMENT', 'pairs[0].port'],
    ['duplicate pair', { pairs: [{}, {}] }, 'INVALID_ARGUMENT', 'pairs[1].pair'],
    ['bad pair id', { pairs: [{ pair: '../x' }] }, 'INVALID_ARGUMENT', 'pairs[0].pair'],
    ['no role', { role: 'ROLE_UNSPECIFIED' }, 'INVALID_ARGUMENT', 'role'],
    ['timeout out of range', { timeoutMs: 5 }, 'INVALID_ARGUMENT', 'timeoutMs'],
  ];
  for (const [name, r, code, field] of cases) {
    const d = deps();
    await t.rejects(validateCall(d.deps, req(r), signal), { code, field }, name);
    t.equal(d.runner.calls.filter((c) => c.spawned).length, 0, `${name}: nothing spawned`);
  }
});

t.test('TCP segments are clamped to the container MTU, UDP payloads that would fragment are refused', async (t) => {
  t.equal(maxPayloadForMtu(1500, 'tcp'), 1460);
  t.equal(maxPayloadForMtu(1450, 'udp'), 1422, 'VXLAN');
  t.equal(maxPayloadForMtu(1280, 'tcp'), 1240);
  t.equal(maxPayloadForMtu(1280, 'udp'), 1252);
  const d = deps(1280);
  await t.rejects(validateCall(d.deps, req({ workload: { kind: 'iperf3', engine: 'iperf3', protocol: 'udp', payload: 1370, durationMs: 2000 } }), signal), { code: 'INVALID_ARGUMENT', field: 'workload.payload', message: /MTU 1280/ });
  const clamped = await validateCall(d.deps, req({ workload: { kind: 'iperf3', engine: 'iperf3', payload: 1370, durationMs: 2000 } }), signal);
  t.equal(clamped.plan.payload, 1370, 'the payload per write stays as asked');
  t.equal(clamped.plan.iperf3.mss, 1240, 'the pinned segment size is clamped to the MTU');
  const fits = await validateCall(d.deps, req({ workload: { kind: 'iperf3', engine: 'iperf3', payload: 1240, durationMs: 2000 } }), signal);
  t.equal(fits.plan.iperf3.mss, 1240);
  t.match(d.runner.lines()[0], /^ip -j -n snzzca link show dev eth0$/);
});

t.test('a missing tool is MISSING_TOOL, never another engine', { skip: findTool('uperf') === null ? false : 'uperf is installed here' }, async (t) => {
  const d = deps();
  await t.rejects(validateCall(d.deps, req({ workload: { kind: 'throughput-basic', engine: 'uperf', durationMs: 2000 } }), signal), { code: 'MISSING_TOOL', field: 'workload.engine', message: /uperf/ });
  const caps = await probeWorkloads({ env, runner: d.runner, log: pino({ level: 'silent' }) });
  const up = caps.find((c) => c.kind === 'throughput-basic' && c.engine === 'uperf')!;
  t.equal(up.available, false);
  t.match(up.reason, /uperf not installed/);
  const ip = caps.find((c) => c.kind === 'throughput-basic' && c.engine === 'iperf3')!;
  t.equal(ip.available, findTool('iperf3') !== null);
  t.equal(caps.filter((c) => c.category === 'workload').length, caps.length);
  t.ok(caps.some((c) => c.kind === 'video' && c.engine === 'ditg'));
});

t.test('port collisions are CONFLICT, within a call and across calls', async (t) => {
  const d = deps();
  const registry = new PortRegistry();
  const sinkReq = req({ role: 'ROLE_SINK', workload: { kind: 'iperf3', engine: 'iperf3', durationMs: 2000 }, pairs: [{ pair: 'p0', port: 5201 }, { pair: 'p1', port: 5201 }] });
  await t.rejects(runWorkloadCall(d.deps, sinkReq, () => undefined, signal, { registry }), { code: 'CONFLICT', field: 'pairs[1].port' });
  t.notOk(registry.isHeld('snzzcb', 5201), 'a refused claim holds nothing');
  const release = registry.claim([{ netns: 'snzzcb', port: 5301, field: 'x' }], 'other');
  const ditg = req({ role: 'ROLE_SINK', workload: { kind: 'bursty', engine: 'ditg', durationMs: 2000, params: { flows: '3' } }, pairs: [{ port: 5299 }] });
  await t.rejects(runWorkloadCall(d.deps, ditg, () => undefined, signal, { registry }), { code: 'CONFLICT', message: /5301/ }, 'D-ITG data ports count too');
  t.equal(d.runner.calls.filter((c) => c.spawned).length, 0, 'nothing started');
  release();
  t.notOk(registry.isHeld('snzzcb', 5301));
});

t.test('exact argv of every engine', async (t) => {
  const ping = resolvePlan({ kind: 'latency-basic', engine: 'ping', protocol: '', payload: 64, durationMs: 2000, params: { interval: '0.1' }, seed: 0 });
  t.same(pingArgv(ping, '198.19.1.3'), ['ping', '-n', '-c', '20', '-i', '0.1', '-s', '64', '-W', '1', '198.19.1.3']);
  const tcp = resolvePlan({ kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 3000, params: {}, seed: 0 });
  t.same(iperf3ClientArgv(tcp, '198.19.1.3', 5201), ['iperf3', '-c', '198.19.1.3', '-p', '5201', '-J', '-t', '3', '-l', '653', '--connect-timeout', '3000', '-M', '653']);
  const par = resolvePlan({ kind: 'clients-scale', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 3000, params: { parallel: '2', clients: '50' }, seed: 0 });
  t.equal(par.iperf3.streams, 2, 'the spec\'s parallel is iperf3 -P');
  t.equal(resolvePlan({ kind: 'tcp-100', engine: 'ditg', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0 }).durationMs, 5000, 'spec defaults');
  const small = resolvePlan({ kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 64, durationMs: 3000, params: {}, seed: 0 });
  t.notOk(iperf3ClientArgv(small, '198.19.1.3', 5201).includes('-M'), 'no -M below the kernel minimum MSS');
  const udp = resolvePlan({ kind: 'iperf3', engine: 'iperf3', protocol: 'udp', payload: 1370, durationMs: 2000, params: { streams: '4', reverse: 'true' }, seed: 0 });
  t.same(iperf3ClientArgv(udp, '198.19.1.3', 5202), ['iperf3', '-c', '198.19.1.3', '-p', '5202', '-J', '-t', '2', '-l', '1370', '--connect-timeout', '3000', '-u', '-b', '0', '-P', '4', '-R']);
  t.same(iperf3ServerArgv('198.19.1.3', 5201), ['iperf3', '-s', '-1', '-B', '198.19.1.3', '-p', '5201']);
  // A paced sender of a crowded call wakes less often than iperf3's 1 ms; an uncrowded one keeps iperf3's timer.
  const paced = resolvePlan({ kind: 'clients-scale', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 3000, params: { bitrate: '1M', clients: '1000' }, seed: 0 });
  t.equal(iperf3PacingTimerUs(1000, 2), 62_500, '1,000 pairs on 2 cores: 62.5 ms');
  t.equal(iperf3PacingTimerUs(16, 2), 1000, 'up to the idle-class threshold: iperf3\'s 1 ms');
  t.equal(iperf3PacingTimerUs(1000, 1), 100_000, 'never coarser than 100 ms');
  const crowded = iperf3ClientArgv({ ...paced, iperf3: { ...paced.iperf3, pacingTimerUs: iperf3PacingTimerUs(1000, 2) } }, '198.19.1.3', 5201);
  t.same(crowded.slice(crowded.indexOf('-b'), crowded.indexOf('-b') + 4), ['-b', '1M', '--pacing-timer', '62500'], 'the crowded call\'s timer goes to iperf3 after -b');
  t.notOk(iperf3ClientArgv({ ...paced, iperf3: { ...paced.iperf3, pacingTimerUs: 1000 } }, '198.19.1.3', 5201).includes('--pacing-timer'), 'iperf3\'s own timer is not repeated');
  t.notOk(iperf3ClientArgv({ ...tcp, iperf3: { ...tcp.iperf3, pacingTimerUs: 62_500 } }, '198.19.1.3', 5201).includes('--pacing-timer'), 'an unpaced sender has no pacing timer');
  t.same(uperfSlaveArgv(20001), ['uperf', '-s', '-P', '20001']);
  t.same(uperfMasterArgv('/run/x/p.xml', 20001), ['uperf', '-m', '/run/x/p.xml', '-R', '-i', '1', '-P', '20001']);
  t.same(itgRecvArgv('198.19.1.3', 9000), ['ITGRecv', '-Sp', '9000', '-a', '198.19.1.3']);
});

t.test('D-ITG scripts: bursty, the full 100-flow tcp-100, quake3', async (t) => {
  const plan = (kind: string, params: Record<string, string> = {}) => resolvePlan({ kind, engine: 'ditg', protocol: '', payload: 0, durationMs: 5000, params, seed: 0 });
  const b = ditgFlowLines(plan('bursty'), '198.19.1.3', 9000);
  t.same(b, [['-a', '198.19.1.3', '-Sdp', '9000', '-rp', '9001', '-m', 'rttm', '-t', '5000', '-T', 'UDP', '-C', '95.712', '-c', '653', '-B', 'C', '1000', 'C', '1000']]);
  t.ok(Math.abs(95.712 * 653 * 8 - 500_000) < 100, '500 Kbps while on');
  const tcp = plan('tcp-100');
  const lines = ditgFlowLines(tcp, '198.19.1.3', 9000);
  t.equal(lines.length, 100);
  t.same(new Set(lines.map((l) => l[5])).size, 100, 'one data port per flow');
  t.equal(lines[99]![5], '9100');
  t.ok(lines.every((l) => l.includes('TCP') && l.includes('rttm')));
  const scripts = ditgScripts(lines, tcp.ditg.flowsPerProcess);
  t.equal(scripts.length, 10, '100 flows over 10 ITGSend processes');
  t.ok(scripts.every((s) => s.trim().split('\n').length === 10));
  t.match(scripts[0]!.split('\n')[0]!, /^-a 198\.19\.1\.3 -Sdp 9000 -rp 9001 -m rttm -t 5000 -T TCP -C 95\.712 -c 653$/);
  const q = ditgFlowLines(plan('quake3'), '198.19.1.3', 9000);
  t.equal(q.length, 4);
  t.ok(q.every((l) => l[l.length - 1] === 'Quake3'));
  t.equal(packetRate(500_000, 653), 95.712);
  t.ok(defaultTimeoutMs(tcp, 'source') >= 5000 + 10 * 1000, 'default deadline leaves time for the flows to close');
  t.equal(defaultTimeoutMs(tcp, 'source', 300) - defaultTimeoutMs(tcp, 'source', 16), (300 - 16) * 200, 'and grows by 200 ms per pair beyond 16, as the controller\'s waits do');
  t.equal(defaultTimeoutMs(tcp, 'source', 2), defaultTimeoutMs(tcp, 'source'), 'a few pairs: the plain deadline');
});

t.test('video: seeded, reproducible, scaled to 3 GB/h per stream on average', async (t) => {
  const a = drawVideoStreams(10, 42, 3);
  const b = drawVideoStreams(10, 42, 3);
  const c = drawVideoStreams(10, 43, 3);
  t.same(a, b, 'same seed, same streams');
  t.not(JSON.stringify(a), JSON.stringify(c), 'another seed, other streams');
  t.equal(a.length, 10);
  t.ok(a.every((s) => s.lengthS >= 1 && s.sizeBytes > 0 && s.bitsPerSecond > 0));
  const many = drawVideoStreams(200_000, 7, 3);
  const mean = many.reduce((x, s) => x + s.bitsPerSecond, 0) / many.length;
  const target = (3e9 * 8) / 3600;
  t.ok(Math.abs(mean / target - 1) < 0.05, `mean rate ${(mean / 1e6).toFixed(2)} Mbit/s ~ ${(target / 1e6).toFixed(2)} Mbit/s`);
  const lens = many.map((s) => s.lengthS);
  const meanLen = lens.reduce((x, y) => x + y, 0) / lens.length;
  t.ok(Math.abs(meanLen - 198) < 3, `mean length ${meanLen.toFixed(1)} s (gamma 1.8 x 110 s)`);
  t.ok(videoRateScale(6) / videoRateScale(3) - 2 < 1e-12);
  const r = new SeededRandom(1);
  const xs = Array.from({ length: 10000 }, () => r.next());
  t.ok(xs.every((x) => x >= 0 && x < 1));
  const v = resolvePlan({ kind: 'video', engine: 'ditg', protocol: '', payload: 0, durationMs: 5000, params: {}, seed: 42 });
  t.equal(v.payload, 1370, 'video defaults to 1370 B');
  const lines = ditgFlowLines(v, '198.19.1.3', 9000);
  t.equal(lines.length, 10);
  t.ok(lines.every((l) => l.includes('TCP') && l[l.indexOf('-c') + 1] === '1370'));
  t.same(lines, ditgFlowLines(v, '198.19.1.3', 9000), 'scripts reproducible from the seed');
});

t.test('sink: exact argv in the sink namespace, ready once ss shows the port, stopped on cancel', async (t) => {
  const d = deps();
  d.runner.on(/^ss -Hltn$/, { stdout: 'LISTEN 0 5 198.19.1.3:5201 0.0.0.0:*\nLISTEN 0 5 198.19.1.3:7001 0.0.0.0:*\n' });
  const registry = new PortRegistry();
  const ac = new AbortController();
  const events: WorkloadEvent[] = [];
  await runWorkloadCall(d.deps, req({ role: 'ROLE_SINK', workload: { kind: 'iperf3', engine: 'iperf3', durationMs: 2000 }, pairs: [{ pair: 'p0', port: 5201 }, { pair: 'p1', port: 5202 }] }), (e) => {
    events.push(e);
    if (e.ready) {
      t.ok(registry.isHeld('snzzcb', 5201) && registry.isHeld('snzzcb', 5202), 'ports held while the sinks run');
      ac.abort();
    }
  }, ac.signal, { registry, readyTimeoutMs: 300 });
  const lines = d.runner.lines();
  t.ok(lines.includes('[snzzcb] setpriv --pdeathsig KILL -- /usr/bin/iperf3 -s -1 -B 198.19.1.3 -p 5201'), 'dies with the agent');
  t.ok(lines.includes('[snzzcb] setpriv --pdeathsig KILL -- /usr/bin/iperf3 -s -1 -B 198.19.1.3 -p 5202'));
  t.ok(lines.includes('[snzzcb] ss -Hltn'));
  const err = events.find((e) => e.error)!.error!;
  t.equal(err.pair, 'p1', 'the sink whose port never showed up');
  t.match(err.message, /did not listen on port 5202 within 300 ms/);
  t.same(events.find((e) => e.ready)!.ready!.pairs, ['p0'], 'ready names the pairs that listen');
  t.notOk(registry.isHeld('snzzcb', 5201), 'ports released when the call ends');
});

t.test('sink with ping needs no process: ready at once, ends on cancel', async (t) => {
  const d = deps();
  const ac = new AbortController();
  const events: WorkloadEvent[] = [];
  const done = runWorkloadCall(d.deps, req({ role: 'ROLE_SINK' }), (e) => {
    events.push(e);
    if (e.ready) ac.abort();
  }, ac.signal);
  await done;
  t.same(events.map((e) => Object.keys(e)[0]), ['ready']);
  t.same(events[0]!.ready!.pairs, ['p0']);
});

t.test('a call cannot take the agent past its workload process budget', async (t) => {
  const { ProcessBudget } = await import('../src/workloads/process-budget.js');
  const budget = new ProcessBudget(2);
  const d = deps();
  const three = req({ pairs: [{ pair: 'p0' }, { pair: 'p1' }, { pair: 'p2' }] });
  await t.rejects(runWorkloadCall(d.deps, three, () => undefined, signal, { budget }), { code: 'RATE_LIMITED', field: 'pairs', message: /needs 3 workload processes and agent h1 already runs 0 of at most 2/ });
  t.equal(d.runner.calls.filter((c) => c.spawned).length, 0, 'nothing spawned');

  const ac = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const holding = runWorkloadCall(d.deps, req({ role: 'ROLE_SINK', pairs: [{ pair: 'p0' }, { pair: 'p1' }] }), (e) => {
    if (e.ready) ready();
  }, ac.signal, { budget });
  await isReady;
  t.equal(budget.inUse, 2, 'a running call holds one process per pair');
  await t.rejects(runWorkloadCall(d.deps, req(), () => undefined, signal, { budget }), { code: 'RATE_LIMITED', message: /already runs 2 of at most 2/ });
  ac.abort();
  await holding;
  t.equal(budget.inUse, 0, 'released when the call ends');
});
