// The Configurator: Apply of a cell's desired state on every involved host in parallel, the
// pre-flight proof that the cell means what it claims (every allowed pair connects, a sample
// of denied pairs is blocked), and Teardown. Setup cost is a result: per component, the
// slowest host's seconds (hosts apply in parallel) are kept with the cell.
//
// Secrets are generated once per scope and kept in memory only; after a controller restart
// new ones are generated and the agents reconcile their tunnels.

import { randomUUID } from 'node:crypto';
import { SeconetError, isSeconetError, shortHash, sleep, startPacer, type Cell, type WorkloadInstance } from '@seconet/core';
import { variantName, type AgentLink, type ApplyResult } from '../agents/contract.js';
import { deniedSample, type CellPlacement, type PlacedPair } from '../scheduler/placement.js';
import { runWorkloadOnPairs, type PairOutcome } from '../workload-control/run-workload.js';
import { buildHostStates, type HostSecrets, type SecretsProvider } from './host-state.js';
import { startWireCheck, type WireVerdict } from './wire-check.js';

/**
 * Whether an agent refused a call because the scope is busy with another Apply or Teardown
 * (CONFLICT on field `scope`): typically the operation of an attempt the controller gave up on,
 * still running on the host. Waiting is right; a CONFLICT on another field (an overlapping
 * container network) is not something time fixes.
 */
export function isScopeBusy(e: unknown): boolean {
  return isSeconetError(e) && e.code === 'CONFLICT' && e.field === 'scope';
}

/**
 * Calls `fn` until the agent no longer says the scope is busy, with waits of 0.5, 1, 2, 4, 5, 5, ...
 * seconds, until `deadlineMs` after the first call passes (then the last CONFLICT is thrown, with
 * how long it waited). Any other error is thrown at once.
 */
export async function whileScopeBusy<T>(fn: (remainingMs: number) => Promise<T>, deadlineMs: number, signal?: AbortSignal): Promise<T> {
  const started = Date.now();
  const until = started + deadlineMs;
  for (let wait = 500; ; wait = Math.min(wait * 2, 5000)) {
    try {
      return await fn(Math.max(1, until - Date.now()));
    } catch (e) {
      if (!isScopeBusy(e) || Date.now() + wait >= until || signal?.aborted) {
        if (isScopeBusy(e)) throw new SeconetError('CONFLICT', `${(e as Error).message} (still busy after waiting ${Math.round((Date.now() - started) / 1000)} s)`, { cause: e, field: 'scope' });
        throw e;
      }
      await sleep(wait, signal);
    }
  }
}

export interface ApplyOutcome {
  readonly perHost: ReadonlyMap<string, ApplyResult>;
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  /** Per component: the slowest host's seconds. */
  readonly setupSeconds: Readonly<Record<string, number>>;
  readonly seconds: number;
}

export interface PreflightVerdict {
  /** Every allowed pair connected. */
  readonly connected: boolean;
  /** null when not checked (filter none, or no denied pair exists). */
  readonly isolation: boolean | null;
  readonly evidence: string;
  /** What crossed the underlay while the pre-flight ran (absent when the wire check was not asked for). */
  readonly wire?: WireVerdict | undefined;
}

/** Client -> server probes per pre-flight call (an agent takes at most 1,000 pairs per call). */
export const CLIENT_PROBES_PER_CALL = 1000;

export const PREFLIGHT_WORKLOAD: WorkloadInstance = {
  id: 'preflight',
  kind: 'latency-basic',
  engine: 'ping',
  protocol: 'icmp',
  payload: 56,
  durationMs: 2000,
  params: { count: '2', interval: '0.2' },
  seed: 0,
};

/**
 * The L7 policy probe of an l7-http cell: the http workload's nginx on each sink, and curl on
 * each source sending `GET /` (must pass: 200), `POST /` and `GET /l7-denied` (must be refused
 * by the proxy: 403). nginx alone would answer 200 and 404.
 */
export const PREFLIGHT_L7_WORKLOAD: WorkloadInstance = {
  id: 'preflight-l7',
  kind: 'http',
  engine: 'wrk',
  protocol: 'tcp',
  payload: 64,
  durationMs: 1000,
  params: { probe: 'l7', bodyBytes: '16' },
  seed: 0,
};

export interface ConfiguratorDeps {
  agent(host: string): AgentLink;
  readonly secrets: SecretsProvider;
  /** Deadline of one Apply (default 120 s: userspace daemons start slowly). */
  readonly applyDeadlineMs?: number;
}

export class Configurator {
  private readonly secretCache = new Map<string, ReadonlyMap<string, HostSecrets>>();

  constructor(private readonly deps: ConfiguratorDeps) {}

  async apply(scope: string, cell: Cell, placement: CellPlacement, underlay: ReadonlyMap<string, string>, signal?: AbortSignal): Promise<ApplyOutcome> {
    const hosts = placement.hosts.map((h) => h.name);
    let secrets = this.secretCache.get(scope);
    if (!secrets) {
      secrets = await this.deps.secrets(cell.tunnel, hosts);
      this.secretCache.set(scope, secrets);
    }
    const states = buildHostStates({ cell, placement, underlay, secrets });
    const t0 = performance.now();
    // Every host's request goes out at once, but the sends hand the event loop back between
    // slices (core's pacer.ts): a 64-host cell's requests are 50-120 ms of serializing.
    const deadlineMs = this.deps.applyDeadlineMs ?? 120_000;
    const pacer = startPacer();
    const sent: Array<Promise<readonly [string, ApplyResult]>> = [];
    for (const [host, state] of states) {
      await pacer.next();
      const p = whileScopeBusy((remaining) => this.deps.agent(host).apply({ requestId: randomUUID(), scope, state }, signal ? { deadlineMs: remaining, signal } : { deadlineMs: remaining }), deadlineMs, signal).then((res) => [host, res] as const);
      // Settled below; a rejection while the loop yields is not unhandled.
      p.catch(() => undefined);
      sent.push(p);
    }
    const results = await Promise.allSettled(sent);
    const hostNames = [...states.keys()];
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${hostNames[i]}: ${(r.reason as Error).message}`] : []));
    if (failures.length > 0) {
      const first = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      const code = (first.reason as { code?: string }).code;
      // The agent's code where it names the cause (a busy scope is CONFLICT, a deadline TIMEOUT), not a guess.
      const kept = ['MISSING_TOOL', 'INVALID_ARGUMENT', 'UNSUPPORTED', 'CONFLICT', 'TIMEOUT', 'UNAVAILABLE', 'CANCELLED'];
      throw new SeconetError(code !== undefined && kept.includes(code) ? (code as 'CONFLICT') : 'COMMAND_FAILED', `apply of ${scope} failed on ${failures.join('; ')}`, { cause: first.reason, field: 'hosts' });
    }
    const perHost = new Map(results.map((r) => (r as PromiseFulfilledResult<readonly [string, ApplyResult]>).value));
    const setupSeconds: Record<string, number> = {};
    for (const r of perHost.values()) {
      for (const tm of r.timings) setupSeconds[tm.component] = Math.max(setupSeconds[tm.component] ?? 0, tm.seconds);
    }
    const variants = (pick: (r: ApplyResult) => string): string => [...new Set([...perHost.values()].map((r) => variantName(pick(r))).filter((v) => v !== ''))].join('+');
    return {
      perHost,
      tunnelVariant: cell.tunnel === 'none' ? '' : variants((r) => r.tunnelVariant),
      filterVariant: cell.filter === 'none' ? '' : variants((r) => r.filterVariant),
      setupSeconds,
      seconds: (performance.now() - t0) / 1000,
    };
  }

  /**
   * Proves the cell before measuring: every allowed pair answers a short ping, and a sample of
   * denied pairs (source i -> sink j, source -> source) gets no answer when a filter is set.
   */
  async preflight(scope: string, cell: Cell, placement: CellPlacement, agents: ReadonlyMap<string, AgentLink>, signal?: AbortSignal, underlay?: ReadonlyMap<string, string>): Promise<PreflightVerdict> {
    // With the hosts' underlay addresses the pre-flight ping carries a marker the hosts' underlay
    // captures look for (wire-check.ts).
    const wire = underlay === undefined ? undefined : await startWireCheck(scope, cell, placement, agents, underlay, 60_000);
    const workload: WorkloadInstance = wire === undefined ? PREFLIGHT_WORKLOAD : { ...PREFLIGHT_WORKLOAD, params: { ...PREFLIGHT_WORKLOAD.params, pattern: wire.patternHex } };
    const runId = `pre${shortHash([scope, cell.id, randomUUID()], 10)}`;
    const denied: PlacedPair[] = cell.filter === 'none'
      ? []
      : deniedSample(placement).map((d, i) => ({ pair: `d${i}`, source: d.from, sink: d.to, port: 5201 }));
    const pairs = [...placement.pairs, ...denied];
    let r: Awaited<ReturnType<typeof runWorkloadOnPairs>>;
    let wireVerdict: WireVerdict | undefined;
    // clients-scale: every client -> server pair is probed too, in calls of at most
    // CLIENT_PROBES_PER_CALL (an agent takes at most 1,000 pairs per call).
    const clientOutcomes = new Map<string, PairOutcome>();
    try {
      r = await runWorkloadOnPairs({ agents, scope, runId, workload, pairs, marginMs: 10_000, ...(signal ? { signal } : {}) });
      for (let i = 0; i < placement.clients.length; i += CLIENT_PROBES_PER_CALL) {
        const chunk = placement.clients.slice(i, i + CLIENT_PROBES_PER_CALL);
        const rc = await runWorkloadOnPairs({ agents, scope, runId: `${runId}c${i}`, workload, pairs: chunk, marginMs: 10_000, ...(signal ? { signal } : {}) });
        for (const [k, o] of rc.outcomes) clientOutcomes.set(k, o);
      }
    } finally {
      wireVerdict = await wire?.finish();
    }
    const answered = (pair: string): { ok: boolean; why: string } => {
      const o = r.outcomes.get(pair) ?? clientOutcomes.get(pair);
      if (!o?.result) return { ok: false, why: o?.error ? `${o.error.code}: ${o.error.message}` : 'no result' };
      const loss = o.result.metrics.find((m) => m.name === 'loss' && m.flow === '');
      const received = o.result.metrics.find((m) => m.name === 'received' && m.flow === '');
      const ok = received ? received.value > 0 : loss ? loss.value < 100 : o.result.metrics.some((m) => m.name.startsWith('rtt'));
      return { ok, why: loss ? `loss ${loss.value}%` : ok ? 'answered' : 'no answer' };
    };
    const lines: string[] = [];
    let connected = true;
    for (const p of placement.pairs) {
      const a = answered(p.pair);
      if (!a.ok) connected = false;
      lines.push(`allowed ${p.source.name}(${p.source.address}) -> ${p.sink.name}(${p.sink.address}): ${a.ok ? 'connects' : 'BROKEN'} (${a.why})`);
    }
    if (placement.clients.length > 0) {
      const server = placement.clients[0]!.sink;
      let ok = 0;
      for (const c of placement.clients) {
        const a = answered(c.pair);
        if (a.ok) ok += 1;
        else {
          connected = false;
          lines.push(`allowed client ${c.source.name}(${c.source.address}) -> ${server.name}(${server.address}): BROKEN (${a.why})`);
        }
      }
      lines.push(`clients-scale: ${ok} of ${placement.clients.length} clients connect to the server ${server.name}(${server.address}) on ${server.host}`);
    }
    let isolation: boolean | null = null;
    if (denied.length > 0) {
      isolation = true;
      for (const d of denied) {
        const a = answered(d.pair);
        if (a.ok) isolation = false;
        lines.push(`denied ${d.source.name}(${d.source.address}) -> ${d.sink.name}(${d.sink.address}): ${a.ok ? 'PASSED (isolation broken)' : 'blocked'} (${a.why})`);
      }
    } else if (cell.filter !== 'none') {
      lines.push('no denied pair exists with a single pair: isolation not checked');
    }
    if (cell.filter === 'l7-http' && connected) {
      const l7 = await this.preflightL7(scope, cell, placement, agents, signal);
      lines.push(...l7.lines);
      connected = l7.allowedPasses;
      if (!l7.forbiddenRefused) isolation = false;
      else if (isolation === null) isolation = true;
    }
    return { connected, isolation, evidence: lines.join('\n'), wire: wireVerdict };
  }

  /** The L7 stage of an l7-http cell's pre-flight: per allowed pair, GET / passes and the forbidden requests get 403. */
  private async preflightL7(scope: string, cell: Cell, placement: CellPlacement, agents: ReadonlyMap<string, AgentLink>, signal?: AbortSignal): Promise<{ allowedPasses: boolean; forbiddenRefused: boolean; lines: string[] }> {
    const runId = `pl7${shortHash([scope, cell.id, randomUUID()], 10)}`;
    const r = await runWorkloadOnPairs({ agents, scope, runId, workload: PREFLIGHT_L7_WORKLOAD, pairs: placement.pairs, marginMs: 10_000, ...(signal ? { signal } : {}) });
    let allowedPasses = true;
    let forbiddenRefused = true;
    const lines: string[] = [];
    for (const p of placement.pairs) {
      const o = r.outcomes.get(p.pair);
      const status = (m: string): number | undefined => o?.result?.metrics.find((x) => x.name === m)?.value;
      const get = status('l7_get_root_status');
      const post = status('l7_post_root_status');
      const other = status('l7_get_other_status');
      const who = `${p.source.name}(${p.source.address}) -> ${p.sink.name}(${p.sink.address}):${p.port}`;
      if (get === undefined) {
        allowedPasses = false;
        lines.push(`L7 ${who}: no answer to the probe (${o?.error ? `${o.error.code}: ${o.error.message}` : 'no result'})`);
        continue;
      }
      if (get !== 200) allowedPasses = false;
      if (post !== 403 || other !== 403) forbiddenRefused = false;
      lines.push(`L7 ${who}: GET / ${get} (${get === 200 ? 'passes' : 'BROKEN'}), POST / ${post ?? 'no answer'} and GET /l7-denied ${other ?? 'no answer'} (${post === 403 && other === 403 ? 'refused by the proxy' : 'NOT refused: the L7 policy does not hold'})`);
    }
    return { allowedPasses, forbiddenRefused, lines };
  }

  /** Removes a scope on the given hosts; errors are collected, not thrown (teardown runs in finally blocks). */
  async teardown(scope: string, hosts: readonly string[]): Promise<string[]> {
    this.secretCache.delete(scope);
    const results = await Promise.allSettled(hosts.map((h) => whileScopeBusy((remaining) => this.deps.agent(h).teardown({ requestId: randomUUID(), scope }, { deadlineMs: remaining }), 60_000)));
    return results.flatMap((r, i) => (r.status === 'rejected' ? [`${hosts[i]}: ${(r.reason as Error).message}`] : []));
  }
}
