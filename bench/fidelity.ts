// Benchmark: does running a tool through the agent change what it measures? On one path (two
// namespaces, a veth pair), iperf3 TCP throughput and ping median RTT, run by hand (the plain
// tools through child_process, as a researcher would type them) and through runWorkload, side
// by side, alternating which goes first, R repetitions. Prints both and their ratios.
// Requirement: throughput within 3 %, median RTT within 5 % (median of the per-repetition
// agent/hand ratios; exits non-zero otherwise). The hand-to-hand noise is printed next to it:
// on a busy shared machine it can exceed the limits, and then no single run proves much.
// Run (root): node --import=tsx --conditions=seconet-source bench/fidelity.ts [--reps R] [--duration S] [--json]

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { runWorkload, type WorkloadDeps } from '../packages/agent/src/workloads/index.js';
import type { RunWorkloadRequest__Output } from '../packages/agent/src/gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { PairResult } from '../packages/agent/src/gen/seconet/agent/v1/PairResult.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';
import { createTwoNetns } from '../packages/agent/test/fixtures/two-netns.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}: a positive integer`);
  return v;
};
const reps = opt('--reps', 5);
const durationS = opt('--duration', 3);
const PAYLOAD_TCP = 1370;
const PAYLOAD_PING = 653;
const PINGS = 50;
const PING_INTERVAL = '0.02';

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs a command to completion and returns its stdout (the hand path: no agent code). */
function sh(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (b: Buffer) => (out += b.toString()));
    c.on('error', reject);
    c.on('close', () => resolve(out));
  });
}

const lab = await createTwoNetns();
const runDir = mkdtempSync(join(tmpdir(), 'sn-fid-'));
const A = lab.a.netns;
const B = lab.b.netns;
const addrB = lab.b.spec.address;
const env: HostEnv = { name: 'bench', prefix: 'snfi', hostNetns: undefined, stateDir: runDir, runDir, bpffs: runDir, underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const deps: WorkloadDeps = { env, runner: lab.runner, log: pino({ level: 'silent' }), resolveContainer: (_s, n) => (n === 'ca' ? lab.a : n === 'cb' ? lab.b : undefined) };

async function handIperf(port: number): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', B, 'iperf3', '-s', '-1', '-B', addrB, '-p', String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if ((await sh(['ip', 'netns', 'exec', B, 'ss', '-Hltn', `sport = :${port}`])).trim() !== '') break;
    await sleep(50);
  }
  const out = await sh(['ip', 'netns', 'exec', A, 'iperf3', '-c', addrB, '-p', String(port), '-J', '-t', String(durationS), '-l', String(PAYLOAD_TCP), '-M', String(PAYLOAD_TCP), '--connect-timeout', '3000']);
  await new Promise((r) => (server.exitCode === null ? server.once('close', r) : r(null)));
  return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
}

async function handPing(): Promise<number> {
  const out = await sh(['ip', 'netns', 'exec', A, 'ping', '-n', '-c', String(PINGS), '-i', PING_INTERVAL, '-s', String(PAYLOAD_PING), '-W', '1', addrB]);
  return median([...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])));
}

function req(role: 'ROLE_SINK' | 'ROLE_SOURCE', workload: Partial<NonNullable<RunWorkloadRequest__Output['workload']>>, port: number): RunWorkloadRequest__Output {
  return {
    requestId: 'b',
    scope: 'bench',
    runId: 'fidelity',
    role,
    workload: { kind: '', engine: '', protocol: '', payload: 0, durationMs: 0, params: {}, seed: 0, ...workload },
    pairs: [{ pair: 'p0', sourceContainer: 'ca', sourceAddress: lab.a.spec.address, sinkContainer: 'cb', sinkAddress: addrB, port }],
    timeoutMs: 0,
  } as RunWorkloadRequest__Output;
}

async function agentRun(workload: Partial<NonNullable<RunWorkloadRequest__Output['workload']>>, port: number): Promise<PairResult> {
  const sinkAc = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const sink = runWorkload(deps, req('ROLE_SINK', workload, port), (e) => (e.ready || e.error) && ready(), sinkAc.signal);
  await Promise.race([isReady, sink]);
  let result: PairResult | undefined;
  let error = '';
  await runWorkload(deps, req('ROLE_SOURCE', workload, port), (e) => {
    if (e.result) result = e.result;
    if (e.error) error = e.error.message ?? '';
  }, new AbortController().signal);
  sinkAc.abort();
  await sink;
  if (!result) throw new Error(`agent run failed: ${error}`);
  return result;
}

const metricOf = (r: PairResult, name: string): number => Number(r.metrics!.find((m) => m.name === name)!.value);
const agentIperf = async (port: number): Promise<number> => metricOf(await agentRun({ kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: PAYLOAD_TCP, durationMs: durationS * 1000 }, port), 'throughput');
const agentPing = async (): Promise<number> => metricOf(await agentRun({ kind: 'latency-basic', engine: 'ping', payload: PAYLOAD_PING, durationMs: 1000, params: { interval: PING_INTERVAL, count: String(PINGS) } }, 1), 'rtt_median');

try {
  const hand = { tput: [] as number[], rtt: [] as number[] };
  const agent = { tput: [] as number[], rtt: [] as number[] };
  for (let i = 0; i < reps; i++) {
    const order = i % 2 === 0 ? ['hand', 'agent'] : ['agent', 'hand'];
    for (const who of order) {
      if (who === 'hand') {
        hand.tput.push(await handIperf(5501));
        hand.rtt.push(await handPing());
      } else {
        agent.tput.push(await agentIperf(5502));
        agent.rtt.push(await agentPing());
      }
    }
  }
  // Paired: each repetition's hand and agent runs are back to back, so a busy moment on the
  // shared machine hits both; the median of the per-repetition ratios is the figure. The
  // noise floor is how much two consecutive hand runs differ.
  const paired = (a: number[], h: number[]): number[] => a.map((x, i) => x / h[i]!);
  const tputRatio = median(paired(agent.tput, hand.tput));
  const rttRatio = median(paired(agent.rtt, hand.rtt));
  const noise = (h: number[]): number => median(h.slice(1).map((x, i) => Math.abs(x / h[i]! - 1)));
  const ok = Math.abs(tputRatio - 1) <= 0.03 && Math.abs(rttRatio - 1) <= 0.05;
  const out = { reps, durationS, hand, agent, tputRatio, rttRatio, tputNoise: noise(hand.tput), rttNoise: noise(hand.rtt), ok };
  if (json) console.log(JSON.stringify(out));
  else {
    console.log(`measurement fidelity, ${reps} alternating repetitions, iperf3 TCP ${durationS} s payload ${PAYLOAD_TCP} B, ping ${PINGS} x ${PAYLOAD_PING} B every ${PING_INTERVAL} s`);
    console.log('| metric | by hand (median) | through runWorkload (median) | median paired ratio | hand-to-hand noise | limit |');
    console.log('|---|---|---|---|---|---|');
    console.log(`| throughput | ${(median(hand.tput) / 1e6).toFixed(1)} Mbit/s | ${(median(agent.tput) / 1e6).toFixed(1)} Mbit/s | ${tputRatio.toFixed(3)} | ${(100 * out.tputNoise).toFixed(1)} % | 1 +- 0.03 |`);
    console.log(`| median RTT | ${median(hand.rtt).toFixed(4)} ms | ${median(agent.rtt).toFixed(4)} ms | ${rttRatio.toFixed(3)} | ${(100 * out.rttNoise).toFixed(1)} % | 1 +- 0.05 |`);
    console.log(`per repetition, throughput Mbit/s: hand ${hand.tput.map((x) => (x / 1e6).toFixed(0)).join(' ')} | agent ${agent.tput.map((x) => (x / 1e6).toFixed(0)).join(' ')}`);
    console.log(`per repetition, median RTT ms: hand ${hand.rtt.map((x) => x.toFixed(3)).join(' ')} | agent ${agent.rtt.map((x) => x.toFixed(3)).join(' ')}`);
    console.log(ok ? 'OK: within the limits' : 'FAIL: outside a limit');
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  await lab.destroy();
  rmSync(runDir, { recursive: true, force: true });
}
