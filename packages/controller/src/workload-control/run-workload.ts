// Workload Control for one run: sinks first on every sink host, wait until every sink host
// said `ready`, then sources on every source host at once, and a barrier until every pair
// reported a result or an error. One deadline covers the whole run (workload duration plus a
// margin); when it passes, or when the caller aborts, every stream is cancelled, which makes
// each agent stop the processes it started. Sink streams are always cancelled at the end.
//
// A failed call (agent gone, bad request) turns into an error for every pair that call
// covered, so the barrier never waits for a host that can no longer answer.

import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { RUN_OVERHEAD_SECONDS, startPacer, startupAllowanceForPairs, type WorkloadInstance } from '@seconet/core';
import type { AgentLink, PairResultMsg, RoleName, WorkloadEventMsg, WorkloadPairMsg, WorkloadSpecMsg } from '../agents/contract.js';
import type { PlacedPair } from '../scheduler/placement.js';

export interface PairOutcome {
  readonly pair: string;
  readonly result?: PairResultMsg;
  readonly error?: { readonly code: string; readonly message: string; readonly host: string; readonly rawOutput: string };
}

export interface WorkloadRunResult {
  readonly outcomes: ReadonlyMap<string, PairOutcome>;
  readonly startedAt: number;
  readonly endedAt: number;
  /** Seconds from the first sink request until every sink was ready. */
  readonly sinkReadySeconds: number;
}

export interface WorkloadRunInput {
  readonly agents: ReadonlyMap<string, AgentLink>;
  readonly scope: string;
  readonly runId: string;
  readonly workload: WorkloadInstance;
  readonly pairs: readonly PlacedPair[];
  /** Extra time on top of the workload's duration and its kind's known overhead before the run is cut (default 20 s). */
  readonly marginMs?: number;
  /** How long sinks may take to become ready (default 15 s). */
  readonly readyTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export function toWorkloadSpec(w: WorkloadInstance): WorkloadSpecMsg {
  return { kind: w.kind, engine: w.engine, protocol: w.protocol === 'icmp' ? '' : w.protocol, payload: w.payload, durationMs: w.durationMs, params: { ...w.params }, seed: w.seed };
}

function toPairMsg(p: PlacedPair): WorkloadPairMsg {
  return { pair: p.pair, sourceContainer: p.source.name, sourceAddress: p.source.address, sinkContainer: p.sink.name, sinkAddress: p.sink.address, port: p.port };
}

function groupBy(pairs: readonly PlacedPair[], side: 'source' | 'sink'): Map<string, PlacedPair[]> {
  const m = new Map<string, PlacedPair[]>();
  for (const p of pairs) {
    const h = p[side].host;
    const list = m.get(h);
    if (list) list.push(p);
    else m.set(h, [p]);
  }
  return m;
}

export class RunAborted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunAborted';
  }
}

export { STARTUP_FREE_PAIRS, STARTUP_MS_PER_PAIR } from '@seconet/core';

/** Extra wait for starting the tools of the busiest host's pairs (sinks or sources). */
export function startupAllowanceMs(pairs: readonly PlacedPair[]): number {
  const busiest = Math.max(0, ...[...groupBy(pairs, 'sink').values(), ...groupBy(pairs, 'source').values()].map((ps) => ps.length));
  return startupAllowanceForPairs(busiest);
}

/** Runs one workload on all pairs at once and returns one outcome per pair. */
export async function runWorkloadOnPairs(input: WorkloadRunInput): Promise<WorkloadRunResult> {
  const startedAt = Date.now() / 1000;
  // Some tools need far longer than their traffic time (D-ITG closes 100 TCP flows one by one): core's per-kind overhead covers it.
  const overheadMs = (RUN_OVERHEAD_SECONDS[input.workload.kind] ?? RUN_OVERHEAD_SECONDS['default'] ?? 0) * 1000;
  // Every pair is a tool process started on each side: hundreds of pairs on one host take
  // seconds to start, so the waits grow with the busiest host's share beyond STARTUP_FREE_PAIRS.
  const startupMs = startupAllowanceMs(input.pairs);
  const readyTimeoutMs = (input.readyTimeoutMs ?? 15_000) + startupMs;
  const margin = overheadMs + (input.marginMs ?? 20_000) + startupMs;
  const timeoutMs = input.workload.durationMs + margin;
  const run = new AbortController();
  // Every pair's calls listen on it (hundreds of pairs: hundreds of listeners, not a leak).
  setMaxListeners(0, run.signal);
  const onOuterAbort = (): void => run.abort(input.signal?.reason);
  if (input.signal?.aborted) throw new RunAborted('run cancelled before it started');
  input.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline = setTimeout(() => run.abort(new RunAborted(`run ${input.runId} passed its deadline of ${timeoutMs} ms`)), timeoutMs + readyTimeoutMs);

  const outcomes = new Map<string, PairOutcome>();
  const allPairs = new Set(input.pairs.map((p) => p.pair));
  let settle: () => void = () => undefined;
  const allDone = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const record = (o: PairOutcome): void => {
    if (!allPairs.has(o.pair) || outcomes.has(o.pair)) return;
    outcomes.set(o.pair, o);
    if (outcomes.size === allPairs.size) settle();
  };
  const failPairs = (pairs: readonly PlacedPair[], host: string, code: string, message: string): void => {
    for (const p of pairs) record({ pair: p.pair, error: { code, message, host, rawOutput: '' } });
  };

  const agent = (host: string): AgentLink => {
    const a = input.agents.get(host);
    if (!a) throw new Error(`no agent for host ${host}`);
    return a;
  };

  const consume = async (host: string, role: RoleName, pairs: PlacedPair[], signal: AbortSignal, onReady?: () => void): Promise<void> => {
    const req = {
      requestId: randomUUID(),
      scope: input.scope,
      runId: input.runId,
      role,
      workload: toWorkloadSpec(input.workload),
      pairs: pairs.map(toPairMsg),
      // A sink outlives its sources: it starts first and may wait up to readyTimeoutMs for the
      // other sinks, so its own limit is the run's whole deadline. With the sources' limit it
      // stopped its servers while slow-starting clients still ran ("the server has terminated").
      timeoutMs: role === 'ROLE_SINK' ? timeoutMs + readyTimeoutMs : timeoutMs,
    };
    const names = new Set(pairs.map((p) => p.pair));
    try {
      for await (const ev of agent(host).runWorkload(req, { signal }) as AsyncIterable<WorkloadEventMsg>) {
        if (ev.ready) onReady?.();
        if (ev.result && names.has(ev.result.pair)) record({ pair: ev.result.pair, result: ev.result });
        if (ev.error) {
          const e = ev.error;
          const targets = e.pair === '' ? pairs : pairs.filter((p) => p.pair === e.pair);
          for (const p of targets) record({ pair: p.pair, error: { code: e.code, message: e.message, host, rawOutput: e.rawOutput } });
        }
      }
      if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new RunAborted('run cancelled');
      if (role === 'ROLE_SOURCE') failPairs(pairs.filter((p) => !outcomes.has(p.pair)), host, 'INTERNAL', `agent ${host} ended the source stream without a result`);
    } catch (e) {
      if (signal.aborted && role === 'ROLE_SINK' && outcomes.size === allPairs.size) return;
      const err = e as { code?: string; message?: string };
      const why = signal.aborted ? (run.signal.reason instanceof Error ? run.signal.reason.message : 'run cancelled') : `${err.message ?? String(e)}`;
      failPairs(pairs, host, signal.aborted ? 'TIMEOUT' : (err.code ?? 'UNAVAILABLE'), `agent ${host} (${role === 'ROLE_SOURCE' ? 'source' : 'sink'}): ${why}`);
    }
  };

  const sinkHosts = groupBy(input.pairs, 'sink');
  const sourceHosts = groupBy(input.pairs, 'source');
  const sinkStop = new AbortController();
  const stopSinks = (): void => sinkStop.abort();
  run.signal.addEventListener('abort', stopSinks, { once: true });
  const sinkSignal = AbortSignal.any([sinkStop.signal, run.signal]);
  // One sink stream per host listens on it (and removes its listener when the stream ends): a
  // run across hundreds of hosts is fan-out, not a leak.
  setMaxListeners(0, sinkSignal);

  let sinkReadySeconds = 0;
  const sinkTasks: Array<Promise<void>> = [];
  try {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let waiting = sinkHosts.size;
      if (waiting === 0) resolve();
      const readyTimer = setTimeout(() => {
        for (const [host, pairs] of sinkHosts) failPairs(pairs, host, 'TIMEOUT', `agent ${host}: sinks not ready within ${readyTimeoutMs} ms`);
        resolve();
      }, readyTimeoutMs);
      const oneReady = (): void => {
        waiting -= 1;
        if (waiting === 0) {
          clearTimeout(readyTimer);
          resolve();
        }
      };
      // The sink streams open in slices of the event loop (core's pacer.ts), the sources' below
      // too: a call's set-up is ~0.6 ms, and a run across 64 hosts opens up to 128 of them.
      void (async () => {
        const pacer = startPacer();
        for (const [host, pairs] of sinkHosts) {
          await pacer.next();
          if (run.signal.aborted) return;
          let said = false;
          const ready = (): void => {
            if (said) return;
            said = true;
            oneReady();
          };
          sinkTasks.push(consume(host, 'ROLE_SINK', pairs, sinkSignal, ready).finally(ready));
        }
      })();
      run.signal.addEventListener('abort', () => {
        clearTimeout(readyTimer);
        resolve();
      }, { once: true });
    });
    sinkReadySeconds = (performance.now() - t0) / 1000;
    if (run.signal.aborted) throw run.signal.reason instanceof Error ? run.signal.reason : new RunAborted('run cancelled');
    const pending = [...sourceHosts].map(([host, pairs]) => ({ host, pairs: pairs.filter((p) => !outcomes.has(p.pair)) })).filter((x) => x.pairs.length > 0);
    const sourceTasks: Array<Promise<void>> = [];
    const pacer = startPacer();
    for (const { host, pairs } of pending) {
      await pacer.next();
      sourceTasks.push(consume(host, 'ROLE_SOURCE', pairs, run.signal));
    }
    await Promise.race([Promise.all(sourceTasks).then(() => undefined), allDone]);
    await Promise.race([allDone, new Promise((r) => setTimeout(r, 2000))]);
    if (outcomes.size < allPairs.size) {
      for (const p of input.pairs) if (!outcomes.has(p.pair)) record({ pair: p.pair, error: { code: 'INTERNAL', message: 'no result reported', host: p.source.host, rawOutput: '' } });
    }
    if (input.signal?.aborted) throw new RunAborted('run cancelled');
  } finally {
    clearTimeout(deadline);
    input.signal?.removeEventListener('abort', onOuterAbort);
    sinkStop.abort();
    await Promise.allSettled(sinkTasks);
  }
  return { outcomes, startedAt, endedAt: Date.now() / 1000, sinkReadySeconds };
}
