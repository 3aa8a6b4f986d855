// One RunWorkload call, end to end. Everything is validated before anything starts (kind,
// engine, protocol, payload against the container MTU, duration, params, pairs, containers,
// tools, ports). Then:
//   sink role:   start every pair's sink, poll `ss -Hltn` in each sink namespace until all
//                listen (bounded), emit `ready`, hold until cancelled or the deadline, stop.
//   source role: start every pair's source at once, emit `progress` on a timer, one `result`
//                or `error` per pair, end when every pair reported.
// The call's deadline and its cancellation abort one controller; every process the engines
// start is tracked and stopped by PID (SIGTERM, then SIGKILL) before the call returns, the
// ports go back to the registry and the call's work directory is removed.

import { setMaxListeners } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { SeconetError, isIPv4, isSeconetError, idleClassTools, iperf3PacingTimerUs, mapBounded, pinningPlan, sleep, startPacer, startupAllowanceForPairs, type Engine } from '@seconet/core';
import type { ContainerHandle } from '../driver.js';
import type { SpawnOptions, Spawned } from '../runner/runner.js';
import { findTool } from '../runner/tools.js';
import type { RunWorkloadRequest__Output } from '../gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../gen/seconet/agent/v1/WorkloadEvent.js';
import type { WorkloadPair__Output } from '../gen/seconet/agent/v1/WorkloadPair.js';
import { boundRaw, ToolFailure, type EngineContext, type WorkloadEngine } from './engine.js';
import { fitPlanToMtu, resolvePlan, type WorkloadPlan } from './plan.js';
import { sinkPorts as defaultRegistry, type PortClaim, type PortRegistry } from './port-registry.js';
import { workloadProcesses, type ProcessBudget } from './process-budget.js';
import { AllowedRanges } from '../reconciler/validate.js';
import { pingEngine } from './ping.js';
import { iperf3Engine } from './iperf3.js';
import { uperfEngine } from './uperf.js';
import { sockperfEngine } from './sockperf.js';
import { wrkEngine } from './wrk.js';
import { ditgEngine, ditgWallMs } from './ditg.js';
import { toolVersion } from './tool-version.js';
import { dieWithAgent } from './die-with-agent.js';
import { idleClass, pinned } from './pinning.js';
import { GATED_ENGINES, StartBarrier } from './start-gate.js';
import type { WorkloadDeps } from './index.js';

export const ENGINES: Readonly<Record<Engine, WorkloadEngine>> = { ping: pingEngine, iperf3: iperf3Engine, uperf: uperfEngine, ditg: ditgEngine, sockperf: sockperfEngine, wrk: wrkEngine };

/** `ip link show` reads in flight at once while a call is validated (one per container). */
export const MTU_READS_IN_FLIGHT = 16;

/** How long sinks get to show their listening sockets. */
export const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
const STOP_GRACE_MS = 1500;
const PAIR_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const SCOPE_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const INSTALL_HINT: Readonly<Record<string, string>> = {
  ping: 'apt-get install iputils-ping',
  iperf3: 'apt-get install iperf3',
  uperf: 'build uperf from https://github.com/uperf/uperf (not packaged in Debian) or choose engine iperf3 explicitly',
  ITGSend: 'apt-get install d-itg',
  ITGRecv: 'apt-get install d-itg',
  ITGDec: 'apt-get install d-itg',
  ss: 'apt-get install iproute2',
  curl: 'apt-get install curl',
};

export type Side = 'sink' | 'source';

interface ResolvedPair {
  readonly pair: WorkloadPair__Output;
  readonly index: number;
  readonly container: ContainerHandle;
}

export interface ValidatedCall {
  readonly side: Side;
  readonly plan: WorkloadPlan;
  readonly engine: WorkloadEngine;
  readonly pairs: readonly ResolvedPair[];
  readonly timeoutMs: number;
  readonly claims: readonly PortClaim[];
}

function bad(field: string, msg: string): SeconetError {
  return new SeconetError('INVALID_ARGUMENT', `${field}: ${msg}`, { field });
}

/** Default deadline of a source run: the traffic plus the tool's own start and tear-down. */
export function defaultTimeoutMs(plan: WorkloadPlan, side: Side, pairs = 1): number {
  let source: number;
  if (plan.engine === 'ping') source = plan.ping.count * plan.ping.intervalS * 1000 + plan.ping.waitS * 1000 + 10_000;
  else if (plan.engine === 'ditg') source = ditgWallMs(plan) + 10_000;
  else source = plan.durationMs + plan.iperf3.omitS * 1000 + 15_000;
  // Hundreds of pairs take seconds to start: the same allowance the controller gives them.
  source += startupAllowanceForPairs(pairs);
  return Math.ceil(side === 'sink' ? source + 30_000 : source);
}

async function containerMtu(deps: WorkloadDeps, c: ContainerHandle, signal: AbortSignal): Promise<number> {
  const r = await deps.runner.run(['ip', '-j', '-n', c.netns, 'link', 'show', 'dev', c.iface], { timeoutMs: 10_000, signal });
  const mtu = (JSON.parse(r.stdout) as Array<{ mtu?: number }>)[0]?.mtu;
  if (typeof mtu !== 'number') throw new SeconetError('COMMAND_FAILED', `cannot read the MTU of ${c.iface} in ${c.netns}`);
  return mtu;
}

/** Everything a call needs checked before it starts anything. */
/** Pairs one RunWorkload call may carry: a clients-scale run of the spec's largest `clients` (1,024) on one host. */
export const MAX_PAIRS_PER_CALL = 1024;

export async function validateCall(deps: WorkloadDeps, req: RunWorkloadRequest__Output, signal: AbortSignal): Promise<ValidatedCall> {
  const role = String(req.role);
  const side: Side | undefined = role === 'ROLE_SINK' || role === '1' ? 'sink' : role === 'ROLE_SOURCE' || role === '2' ? 'source' : undefined;
  if (side === undefined) throw bad('role', `${JSON.stringify(req.role)} is not ROLE_SINK or ROLE_SOURCE`);
  if (!SCOPE_RE.test(req.scope)) throw bad('scope', `${JSON.stringify(req.scope)} is not a scope name ([a-z0-9][a-z0-9-]{0,62})`);
  if (req.runId !== '' && !/^[A-Za-z0-9_.:-]{1,128}$/.test(req.runId)) throw bad('runId', `${JSON.stringify(req.runId)} may only hold letters, digits and _ . : -`);
  let plan = resolvePlan(req.workload);
  const engine = ENGINES[plan.engine];
  if (req.pairs.length === 0) throw bad('pairs', 'no pairs given');
  if (req.pairs.length > MAX_PAIRS_PER_CALL) throw bad('pairs', `${req.pairs.length} pairs; at most ${MAX_PAIRS_PER_CALL} per call`);

  const seen = new Set<string>();
  const allowed = new AllowedRanges(deps.env.allowedRanges);
  const pairs: ResolvedPair[] = req.pairs.map((pair, index) => {
    const f = `pairs[${index}]`;
    if (!PAIR_RE.test(pair.pair)) throw bad(`${f}.pair`, `${JSON.stringify(pair.pair)} is not a pair id (letters, digits, _ . -; up to 64)`);
    if (seen.has(pair.pair)) throw bad(`${f}.pair`, `${pair.pair} appears twice`);
    seen.add(pair.pair);
    if (!isIPv4(pair.sinkAddress)) throw bad(`${f}.sinkAddress`, `${JSON.stringify(pair.sinkAddress)} is not an IPv4 address`);
    if (pair.sourceAddress !== '' && !isIPv4(pair.sourceAddress)) throw bad(`${f}.sourceAddress`, `${JSON.stringify(pair.sourceAddress)} is not an IPv4 address`);
    // Traffic goes only where the agent may act: a workload cannot be aimed at the Internet.
    allowed.require(`${f}.sinkAddress`, pair.sinkAddress);
    if (pair.sourceAddress !== '') allowed.require(`${f}.sourceAddress`, pair.sourceAddress);
    if (plan.engine !== 'ping') {
      const last = Math.max(pair.port, ...engine.sinkPorts(plan, pair));
      if (!Number.isInteger(pair.port) || pair.port < 1 || last > 65535) {
        throw bad(`${f}.port`, `${pair.port} is not a usable port${last > 65535 ? ` (this workload also uses ports up to ${last})` : ''} (1-65535)`);
      }
    }
    const name = side === 'sink' ? pair.sinkContainer : pair.sourceContainer;
    const cf = side === 'sink' ? `${f}.sinkContainer` : `${f}.sourceContainer`;
    const container = name === '' ? undefined : deps.resolveContainer(req.scope, name);
    if (container === undefined) throw bad(cf, `container ${JSON.stringify(name)} is not part of scope ${req.scope} on this host (apply the scope first)`);
    return { pair, index, container };
  });

  const tools = [...engine.tools(side, plan), ...(side === 'sink' && plan.engine !== 'ping' ? ['ss'] : [])];
  for (const tool of tools) {
    if (findTool(tool) === null) {
      throw new SeconetError('MISSING_TOOL', `workload.engine: ${plan.engine} needs ${tool}, which is not installed on ${deps.env.name} (${INSTALL_HINT[tool] ?? 'install it'}); the agent never switches engines on its own`, { field: 'workload.engine', details: { tool } });
    }
  }

  const distinct = [...new Map(pairs.map((p) => [p.container.netns, p.container])).values()];
  // Bounded: 1,000 containers are 1,000 `ip` processes, which all at once held the event loop for seconds (core's pacer.ts).
  const mtus = new Map(await mapBounded(distinct, MTU_READS_IN_FLIGHT, async (c) => [c.netns, await containerMtu(deps, c, signal)] as const));
  for (const p of pairs) plan = fitPlanToMtu(plan, mtus.get(p.container.netns)!, `container ${p.container.spec.name}`);
  // Paced senders of a crowded call wake less often (iperf3PacingTimerUs): at 1 ms each, 1,000 of them fill 2 cores.
  if (plan.engine === 'iperf3' && side === 'source') plan = { ...plan, iperf3: { ...plan.iperf3, pacingTimerUs: iperf3PacingTimerUs(pairs.length, deps.cores ?? availableParallelism()) } };

  let timeoutMs = req.timeoutMs;
  if (timeoutMs === 0) timeoutMs = defaultTimeoutMs(plan, side, pairs.length);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 86_400_000) throw bad('timeoutMs', `${req.timeoutMs} ms is out of range (100 ms - 24 h, 0 for the default)`);

  const claims: PortClaim[] =
    side === 'sink' ? pairs.flatMap((p) => engine.sinkPorts(plan, p.pair).map((port) => ({ netns: p.container.netns, port, field: `pairs[${p.index}].port` }))) : [];
  return { side, plan, engine, pairs, timeoutMs, claims };
}

/** Local ports in LISTEN state, from `ss -Hltn` output. */
export function parseListeningPorts(ssOutput: string): Set<number> {
  const out = new Set<number>();
  for (const line of ssOutput.split('\n')) {
    const local = line.trim().split(/\s+/)[3];
    const m = local === undefined ? null : /:(\d+)$/.exec(local);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

export interface RunOptions {
  readonly registry?: PortRegistry;
  /** Workload processes the agent may run at once (default: the agent-wide workloadProcesses). */
  readonly budget?: ProcessBudget;
  readonly readyTimeoutMs?: number;
}

export async function runWorkloadCall(deps: WorkloadDeps, req: RunWorkloadRequest__Output, emit: (e: WorkloadEvent) => void, signal: AbortSignal, opts: RunOptions = {}): Promise<void> {
  const call = await validateCall(deps, req, signal);
  const registry = opts.registry ?? defaultRegistry;
  const owner = `${req.scope}/${req.runId || req.requestId || 'run'}`;
  // Processes per pair: a tool and its helper, or for D-ITG one ITGSend per flowsPerProcess flows
  // (and its decoder) on the source side.
  const perPair = call.plan.engine === 'ditg' ? 2 * Math.max(1, Math.ceil(call.plan.ditg.flows / Math.max(1, call.plan.ditg.flowsPerProcess))) : 2;
  const releaseProcs = (opts.budget ?? workloadProcesses).reserve(call.pairs.length, 'pairs', deps.env.name);
  let release: () => void;
  try {
    release = registry.claim(call.claims, owner);
  } catch (e) {
    releaseProcs();
    throw e;
  }
  const spawnLimit = perPair * call.pairs.length;
  let spawned = 0;

  const ac = new AbortController();
  // Every process of every pair listens on this one signal: a fan-out, not a leak.
  setMaxListeners(0, ac.signal);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, call.timeoutMs);
  const onCancel = (): void => ac.abort();
  if (signal.aborted) ac.abort();
  signal.addEventListener('abort', onCancel, { once: true });

  const procs = new Set<Spawned>();
  const stopAll = async (): Promise<void> => {
    await Promise.all([...procs].map((p) => p.stop(STOP_GRACE_MS).catch(() => undefined)));
  };
  ac.signal.addEventListener('abort', () => void stopAll(), { once: true });

  const safe = (e: WorkloadEvent): void => {
    try {
      emit(e);
    } catch (err) {
      deps.log.debug({ err }, 'workload event not delivered');
    }
  };
  const cores = deps.cores ?? availableParallelism();
  const pins = pinningPlan(cores);
  const idle = idleClassTools(call.pairs.length, cores);
  const workDir = `${deps.env.runDir}/workloads/${(req.runId || 'run').replace(/[^A-Za-z0-9_.-]/g, '_')}-${call.side}-${randomBytes(4).toString('hex')}`;
  const ctx: EngineContext = {
    env: deps.env,
    runner: deps.runner,
    log: deps.log,
    workDir,
    signal: ac.signal,
    spawn(argv: readonly string[], o: SpawnOptions): Spawned {
      if (ac.signal.aborted) throw new ToolFailure('the call was stopped before this process could start', '', timedOut ? 'TIMEOUT' : 'CANCELLED');
      if (++spawned > spawnLimit) throw new SeconetError('INTERNAL', `workload ${call.plan.engine} tried to start process ${spawned} for ${call.pairs.length} pairs (at most ${spawnLimit}); refused`);
      const classed = idle ? idleClass(argv) : argv;
      const p = deps.runner.spawn(dieWithAgent(pinned(classed, call.side === 'sink' ? pins.sink : pins.source)), o);
      procs.add(p);
      return p;
    },
  };
  const stoppedCode = (): 'TIMEOUT' | 'CANCELLED' => (timedOut ? 'TIMEOUT' : 'CANCELLED');

  try {
    await mkdir(workDir, { recursive: true, mode: 0o700 });
    if (call.side === 'sink') await runSinks(deps, call, ctx, safe, ac.signal, stoppedCode, opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
    else await runSources(deps, call, ctx, safe, ac.signal, stoppedCode);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onCancel);
    await stopAll();
    release();
    releaseProcs();
    await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function errorEvent(pair: string, e: unknown, stopped: 'TIMEOUT' | 'CANCELLED' | undefined): WorkloadEvent {
  const raw = e instanceof ToolFailure ? e.rawOutput : '';
  let code: string = isSeconetError(e) ? e.code : e instanceof ToolFailure ? e.code : 'COMMAND_FAILED';
  let message = e instanceof Error ? e.message : String(e);
  if (stopped !== undefined) {
    code = stopped;
    message = stopped === 'TIMEOUT' ? `stopped at the call's deadline: ${message}` : `cancelled: ${message}`;
  }
  return { error: { pair, code, message, rawOutput: boundRaw(raw) } };
}

async function runSinks(deps: WorkloadDeps, call: ValidatedCall, ctx: EngineContext, emit: (e: WorkloadEvent) => void, signal: AbortSignal, stopped: () => 'TIMEOUT' | 'CANCELLED', readyTimeoutMs: number): Promise<void> {
  const started: Array<{ rp: ResolvedPair; procs: readonly Spawned[]; ports: readonly number[] }> = [];
  const pacer = startPacer();
  for (const rp of call.pairs) {
    await pacer.next();
    try {
      const h = await call.engine.startSink(ctx, call.plan, rp.pair, rp.container);
      started.push({ rp, procs: h.procs, ports: h.listenPorts });
    } catch (e) {
      emit(errorEvent(rp.pair.pair, e, signal.aborted ? stopped() : undefined));
    }
  }
  const waiting = new Set(started.filter((s) => s.ports.length > 0));
  const exited = new Set<(typeof started)[number]>();
  for (const s of waiting) for (const p of s.procs) void p.exited.then(() => exited.add(s));
  const deadline = performance.now() + readyTimeoutMs;
  while (waiting.size > 0 && !signal.aborted && performance.now() < deadline) {
    const byNetns = new Map<string, Array<(typeof started)[number]>>();
    for (const s of waiting) byNetns.set(s.rp.container.netns, [...(byNetns.get(s.rp.container.netns) ?? []), s]);
    for (const [netns, list] of byNetns) {
      const r = await deps.runner.run(['ss', '-Hltn'], { netns, timeoutMs: 5000, signal }).catch(() => ({ stdout: '' }));
      const listening = parseListeningPorts(r.stdout);
      for (const s of list) {
        if (s.ports.every((p) => listening.has(p))) waiting.delete(s);
        else if (exited.has(s)) {
          waiting.delete(s);
          const out = s.procs.map((p) => p.output()).map((o) => `${o.stdout}${o.stderr}`).join('\n');
          emit(errorEvent(s.rp.pair.pair, new ToolFailure(`the ${call.plan.engine} sink exited before it listened on port ${s.ports.join(', ')}`, out), undefined));
          started.splice(started.indexOf(s), 1);
        }
      }
    }
    if (waiting.size > 0) await sleep(READY_POLL_MS);
  }
  for (const s of waiting) {
    emit(errorEvent(s.rp.pair.pair, new ToolFailure(`the ${call.plan.engine} sink did not listen on port ${s.ports.join(', ')} within ${readyTimeoutMs} ms`, ''), signal.aborted ? stopped() : undefined));
    started.splice(started.indexOf(s), 1);
    await Promise.all(s.procs.map((p) => p.stop(STOP_GRACE_MS)));
  }
  if (signal.aborted || started.length === 0) return;
  emit({ ready: { pairs: started.map((s) => s.rp.pair.pair), at: Date.now() / 1000 } });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

async function runSources(deps: WorkloadDeps, call: ValidatedCall, ctx: EngineContext, emit: (e: WorkloadEvent) => void, signal: AbortSignal, stopped: () => 'TIMEOUT' | 'CANCELLED'): Promise<void> {
  // Several pairs of a one-process engine are forked held and released together (start-gate.ts).
  const gate = call.pairs.length > 1 && GATED_ENGINES.has(call.plan.engine) ? deps.env.gate : undefined;
  const barrier = gate === undefined ? undefined : await StartBarrier.open(deps.runner, gate, `${ctx.workDir}/start-gate`, call.pairs.length);
  try {
    await runSourcePairs(deps, call, ctx, emit, signal, stopped, barrier);
  } finally {
    barrier?.close();
  }
}

async function runSourcePairs(deps: WorkloadDeps, call: ValidatedCall, ctx: EngineContext, emit: (e: WorkloadEvent) => void, signal: AbortSignal, stopped: () => 'TIMEOUT' | 'CANCELLED', barrier: StartBarrier | undefined): Promise<void> {
  const tool = call.plan.engine === 'ditg' ? 'ITGSend' : call.plan.engine;
  const version = await toolVersion(deps.runner, tool);
  const expectedMs = call.plan.engine === 'ditg' ? ditgWallMs(call.plan) : call.plan.engine === 'ping' ? call.plan.ping.count * call.plan.ping.intervalS * 1000 : call.plan.durationMs;
  const every = Math.min(10_000, Math.max(1000, expectedMs / 10));
  // Every pair starts at once, but the starts hand the event loop back between slices (core's pacer.ts).
  const pacer = startPacer();
  const tasks: Array<Promise<void>> = [];
  for (const rp of call.pairs) {
    await pacer.next();
    tasks.push((async () => {
      let arrived = false;
      const pairCtx: EngineContext = barrier === undefined ? ctx : {
        ...ctx,
        spawn(argv, o) {
          const p = ctx.spawn(barrier.held(argv), { ...o, stdinFd: barrier.stdinFd });
          arrived = true;
          barrier.arrive();
          return p;
        },
      };
      let startedAt = Date.now() / 1000;
      const t0 = performance.now();
      const progress = setInterval(() => {
        const fraction = Math.min(0.99, (performance.now() - t0) / expectedMs);
        emit({ progress: { pair: rp.pair.pair, fraction, note: `${call.plan.engine} running` } });
      }, every);
      try {
        const out = await call.engine.runSource(pairCtx, call.plan, rp.pair, rp.container);
        if (signal.aborted) throw new ToolFailure('the run was stopped', out.rawOutput);
        startedAt = barrier?.releasedAt ?? startedAt;
        emit({
          result: {
            pair: rp.pair.pair,
            metrics: out.metrics,
            series: out.series,
            tool: out.tool,
            toolVersion: version,
            rawOutput: boundRaw(out.rawOutput),
            startedAt,
            endedAt: Date.now() / 1000,
            argv: [...out.argv],
          },
        });
      } catch (e) {
        emit(errorEvent(rp.pair.pair, e, signal.aborted ? stopped() : undefined));
      } finally {
        clearInterval(progress);
        // A pair that failed before its tool was forked must not hold the others back.
        if (barrier !== undefined && !arrived) barrier.forfeit();
      }
    })());
  }
  await Promise.all(tasks);
}
