// The experiment workflow (DESIGN.md, paper Fig. 3), driven from the store so that it can
// stop at any point and resume: for each cell in run order, Apply (the same scope while only
// the rule count changes, Teardown when the network setup or the container count changes),
// prove isolation, then for each workload repeat until converged or the maximum; Teardown at
// the end, also on failure and cancel.
//
// Resume: runs that were `running` when the controller died go back to pending (the attempt
// counts against the retry budget, so a run that kills the controller cannot loop forever);
// succeeded and failed runs are never run again; cells already measured are not reconfigured.
// A run that fails (an agent died, a tool failed) is retried within its budget, then marked
// failed with the pairs' errors (an error a retry would repeat, such as INVALID_ARGUMENT, fails
// it at once: retry-policy.ts), and the sweep goes on; after any failure the next run first
// re-applies the cell, since an agent that restarted has garbage-collected the scope.
//
// A full store disk (ENOSPC, or less free than engine.minFreeBytes before a run) pauses the
// sweep: the run that could not be stored goes back to pending without spending an attempt,
// the runs not reached stay pending, and the experiment ends in state `paused` with the reason.
// Its job ends (the hosts are free); a resume (POST /v1/experiments/:id/resume) queues it again
// and the sweep goes on from the first run it does not have.

import { setMaxListeners } from 'node:events';
import { SeconetError, sleep, type Cell, type ExperimentState, type WorkloadInstance } from '@seconet/core';
import { variantName, type AgentInfo, type AgentLink } from '../agents/contract.js';
import { aggregateRun } from '../aggregator/aggregate.js';
import { Configurator } from '../configurator/configurator.js';
import { scopeName, type SecretsProvider } from '../configurator/host-state.js';
import { startMonitor, summarize } from '../monitor/monitor.js';
import { cellClients, clientPairs, clientsOf, placeCell, type CellPlacement } from '../scheduler/placement.js';
import { isDiskFull, type Store, type StoredRun } from '../store/store.js';
import { RunAborted, runWorkloadOnPairs } from '../workload-control/run-workload.js';
import { MAIN_METRIC, defaultDecider, type Decider } from './convergence.js';
import { nextRun, type StoredPlan as ExperimentPlan } from './plan.js';
import { deterministicCode } from './retry-policy.js';

export interface AgentPool {
  get(name: string): AgentLink;
  refresh(name: string): Promise<AgentInfo>;
  info(name: string): AgentInfo | undefined;
  /** Whether the last health check reached the agent (absent: unknown, ask with refresh). */
  healthy?(name: string): boolean;
  /** The configured kind of an agent's host (result provenance); absent: remote. */
  hostKind?(name: string): string | undefined;
  /** Restarts an agent that stopped answering, when configured (see AgentRegistry.recover). */
  recover?(name: string, opts?: { now?: boolean }): Promise<{ restarted: boolean; exitCode: number | null; output: string; logTail: string } | undefined>;
}

export interface EngineOptions {
  /** Extra attempts per run after the first (default 1). */
  readonly retries: number;
  readonly metricsIntervalMs: number;
  /** Time a run may exceed its workload duration before it is cut. */
  readonly runMarginMs: number;
  /** Pre-flight connectivity and isolation check per cell (default true). */
  readonly preflight: boolean;
  /** How often the store's cancel flag is read while running. */
  readonly cancelPollMs: number;
  /** Pause before a retry. */
  readonly retryDelayMs: number;
  /** After a failure, how long the next run waits for an unreachable agent to come back before it re-applies. */
  readonly agentWaitMs: number;
  /** Free space the store's disk must have before each run; below it the sweep pauses (default 64 MiB). */
  readonly minFreeBytes: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = { retries: 1, metricsIntervalMs: 1000, runMarginMs: 20_000, preflight: true, cancelPollMs: 1000, retryDelayMs: 1000, agentWaitMs: 120_000, minFreeBytes: 64 << 20 };

/**
 * The store's disk is full (or below minFreeBytes): the sweep pauses instead of retrying into
 * the wall. What is stored stays; the experiment ends `paused` with this message.
 */
export class DiskFull extends Error {
  readonly code = 'ENOSPC';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DiskFull';
  }
}

export interface EngineLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** A bug, not a failure the engine expects (an agent's typed error, a cancelled run): its stack must reach the log. */
function unexpected(err: unknown): boolean {
  return !(err instanceof SeconetError || err instanceof RunAborted || typeof (err as { code?: unknown })?.code === 'string');
}

export interface EngineDeps {
  readonly store: Store;
  readonly agents: AgentPool;
  readonly secrets: SecretsProvider;
  readonly decide?: Decider;
  readonly options?: Partial<EngineOptions>;
  readonly log?: EngineLog;
  /** Called before every run (tests use it to crash or kill at a chosen point). */
  readonly beforeRun?: (run: StoredRun) => void | Promise<void>;
}

interface Applied {
  readonly experiment: string;
  readonly scope: string;
  readonly setupKey: string;
  readonly hosts: readonly string[];
}

interface CellContext {
  readonly cell: Cell;
  readonly scope: string;
  readonly placement: CellPlacement;
  readonly agents: ReadonlyMap<string, AgentLink>;
  readonly underlay: ReadonlyMap<string, string>;
  tunnelVariant: string;
  filterVariant: string;
  dirty: boolean;
}

export interface CurrentRun {
  readonly cell: string;
  readonly workload: string;
  readonly repetition: number;
}

const noLog: EngineLog = { info: () => undefined, warn: () => undefined };

/** Extra pre-flight probes of a cell whose allowed pairs did not connect (a passing fault). */
const PREFLIGHT_RETRIES = 2;

/** The variant of every network solution the host offers (ovs: kernel or userspace datapath), "+"-joined when it offers several. */
export function networkVariants(info: Pick<AgentInfo, 'capabilities'>): Record<string, string> {
  const out: Record<string, string[]> = {};
  for (const c of info.capabilities) {
    const v = variantName(c.variant);
    if (c.category !== 'network' || !c.available || v === '') continue;
    const seen = (out[c.kind] ??= []);
    if (!seen.includes(v)) seen.push(v);
  }
  return Object.fromEntries(Object.entries(out).map(([k, vs]) => [k, vs.join('+')]));
}

export class Engine {
  readonly options: EngineOptions;
  private readonly configurator: Configurator;
  private readonly decide: Decider;
  private readonly log: EngineLog;
  private readonly scopes = new Map<string, number>();
  private readonly currentRuns = new Map<string, CurrentRun>();
  private readonly aborts = new Map<string, AbortController>();
  /** Seconds spent per phase (apply, preflight, measure, store, teardown) of each running experiment. */
  private readonly phases = new Map<string, Record<string, number>>();

  constructor(private readonly deps: EngineDeps) {
    this.options = { ...DEFAULT_ENGINE_OPTIONS, ...deps.options };
    this.decide = deps.decide ?? defaultDecider;
    this.log = deps.log ?? noLog;
    this.configurator = new Configurator({ agent: (h) => deps.agents.get(h), secrets: deps.secrets });
  }

  /** Scopes applied by running experiments: GC after an agent reconnects keeps them. */
  scopesInUse(): string[] {
    return [...this.scopes.keys()];
  }

  current(experiment: string): CurrentRun | undefined {
    return this.currentRuns.get(experiment);
  }

  /** Aborts the experiment's current run at once (the store flag stops it between runs). */
  abort(experiment: string): void {
    this.aborts.get(experiment)?.abort(new RunAborted('experiment cancelled'));
  }

  /** Runs (or resumes) an experiment to a terminal state and returns it. */
  async run(id: string, signal?: AbortSignal): Promise<ExperimentState> {
    const { store } = this.deps;
    const e = store.requireExperiment(id);
    if (['succeeded', 'failed', 'cancelled', 'paused'].includes(e.state)) return e.state;
    if (e.cancelRequested) {
      store.setExperimentState(id, 'cancelled');
      return 'cancelled';
    }
    const plan = e.plan;
    const wallStart = performance.now();
    this.phases.set(id, {});
    store.setExperimentState(id, 'running');
    for (const r of store.runs(id)) {
      if (r.state === 'running') store.resetRun(r.id, 'interrupted: the controller stopped during this run');
    }
    const abort = new AbortController();
    // Every host's calls of a cell listen on it (a 64-host cell: 64 listeners, not a leak).
    setMaxListeners(0, abort.signal);
    this.aborts.set(id, abort);
    const onSignal = (): void => abort.abort(new RunAborted('controller stopping'));
    signal?.addEventListener('abort', onSignal, { once: true });
    const poll = setInterval(() => {
      try {
        if (store.isCancelRequested(id)) abort.abort(new RunAborted('experiment cancelled'));
      } catch {
        /* store closed while stopping */
      }
    }, this.options.cancelPollMs);
    poll.unref();

    let applied: Applied | undefined;
    let fatal: string | undefined;
    let paused: string | undefined;
    try {
      await this.recordHosts(plan);
      await this.clearStaleScopes(plan);
      const cellStates = store.cellStates(id);
      for (const cell of plan.cells) {
        if (abort.signal.aborted) break;
        if ((cellStates.get(cell.id) ?? 'pending') !== 'pending') continue;
        const setupKey = `${cell.network}/${cell.tunnel}/${cell.filter}`;
        const scope = scopeName(id, cell, cell.containers);
        if (applied && (applied.setupKey !== setupKey || applied.scope !== scope)) {
          await this.teardown(applied);
          applied = undefined;
        }
        const placement = placeCell(cell, plan.hosts, { clients: cellClients(plan.workloads[cell.id] ?? []) });
        const hosts = placement.hosts.map((h) => h.name);
        if (!applied) {
          applied = { experiment: id, scope, setupKey, hosts };
          this.scopes.set(scope, (this.scopes.get(scope) ?? 0) + 1);
        }
        const ctx = await this.prepareCell(plan, cell, scope, placement, abort.signal);
        if (!ctx) continue;
        for (const w of plan.workloads[cell.id] ?? []) {
          if (abort.signal.aborted) break;
          await this.runGroup(plan, ctx, w, abort.signal);
        }
        if (!abort.signal.aborted) {
          const counts = store.cellRunCounts(id, cell.id);
          const anyOk = counts.succeeded > 0;
          store.setCellState(id, cell.id, anyOk || counts.total === 0 ? 'measured' : 'failed', anyOk ? undefined : 'no run of this cell succeeded');
          store.addEvent(id, 'cell', { cell: cell.id, state: anyOk ? 'measured' : 'failed' });
        }
      }
    } catch (err) {
      if (isDiskFull(err)) {
        // Any store write of the sweep (a decision, an event) may be the one that meets the full disk.
        paused = err instanceof DiskFull ? err.message : `sweep paused: ${(err as Error).message}`;
        this.log.warn({ experiment: id, err: paused }, 'experiment paused: the store\'s disk is full');
      } else fatal = (err as Error).message;
      if (paused === undefined) this.log.warn({ experiment: id, err: fatal, ...(unexpected(err) ? { stack: (err as Error).stack } : {}) }, unexpected(err) ? 'experiment failed with an unexpected exception' : 'experiment failed');
    } finally {
      clearInterval(poll);
      signal?.removeEventListener('abort', onSignal);
      this.aborts.delete(id);
      this.currentRuns.delete(id);
      const stopping = signal?.aborted === true && !store.isCancelRequested(id);
      // A controller that is shutting down leaves the scope applied: the resumed sweep re-applies it as a no-op.
      if (applied && !stopping) await this.teardown(applied);
      else if (applied) this.release(applied.scope);
    }
    if (signal?.aborted && !store.isCancelRequested(id)) throw new RunAborted('controller stopping; the experiment resumes after restart');
    let state: ExperimentState;
    if (store.isCancelRequested(id)) state = 'cancelled';
    else if (paused !== undefined) state = 'paused';
    else if (fatal !== undefined) state = 'failed';
    else {
      const p = store.progress(id);
      const ok = store.runs(id).some((r) => r.state === 'succeeded');
      state = ok || p.runsTotal === 0 ? 'succeeded' : 'failed';
      if (!ok && p.runsTotal > 0) fatal = 'no run succeeded: see the cells for isolation verdicts and errors';
    }
    if (state !== 'cancelled' && state !== 'paused') {
      // Every planned run gets exactly one outcome: one the experiment ended without fails with the reason.
      const why = fatal !== undefined ? `not run: the experiment failed: ${fatal}` : 'not run: the experiment ended before it';
      for (const r of store.runs(id)) if (r.state === 'pending' || r.state === 'running') store.failRun(r.id, why);
    }
    const phases = this.phases.get(id) ?? {};
    this.phases.delete(id);
    // The run and phase events this sweep gave the store are stored before its final state is:
    // a report or time split read once the state is final sees all of them.
    await store.eventsStored();
    try {
      store.addEvent(id, 'log', { message: 'time per phase (seconds)', phases: { ...phases, wall: (performance.now() - wallStart) / 1000 } });
      store.setExperimentState(id, state, paused ?? fatal);
    } catch (err) {
      // A full disk can refuse even this write; the experiment then stays `running` in the
      // store and is resumed (and stopped again by the free-space check) after a restart.
      this.log.warn({ experiment: id, state, err: (err as Error).message }, 'could not record the final state of the experiment');
    }
    return state;
  }

  /**
   * Adds the interval since `since` to the phase's clock and stores it as a `phase` event (start
   * and end): the report's time split (report/time-split.ts) is computed from these.
   */
  private phase(experiment: string, name: 'apply' | 'preflight' | 'measure' | 'store' | 'teardown', since: number): void {
    const seconds = (performance.now() - since) / 1000;
    const p = this.phases.get(experiment);
    if (p) p[name] = (p[name] ?? 0) + seconds;
    const end = Date.now();
    try {
      this.deps.store.addEvent(experiment, 'phase', { phase: name, start: new Date(end - seconds * 1000).toISOString(), end: new Date(end).toISOString() });
    } catch (err) {
      // Only the time split loses this interval (it counts as waiting); the sweep's own writes report a full disk.
      this.log.warn({ experiment, phase: name, err: (err as Error).message }, 'could not store a phase interval');
    }
  }

  private release(scope: string): void {
    const n = (this.scopes.get(scope) ?? 1) - 1;
    if (n <= 0) this.scopes.delete(scope);
    else this.scopes.set(scope, n);
  }

  /**
   * Waits (up to agentWaitMs) until every agent answers GetInfo; an agent that restarted has run
   * its startup GC by then. An agent that stays down is restarted over SSH where its recovery is
   * configured, and what happened (with its last log lines) goes into the experiment's events.
   */
  private async waitForAgents(hosts: readonly string[], signal: AbortSignal, force = false, experiment?: string): Promise<void> {
    const end = Date.now() + this.options.agentWaitMs;
    const pool = this.deps.agents;
    for (;;) {
      const ask = force || !pool.healthy ? hosts : hosts.filter((h) => !pool.healthy!(h));
      const down = (await Promise.all(ask.map((h) => pool.refresh(h).then(() => undefined, () => h)))).filter((h) => h !== undefined);
      if (down.length === 0 || signal.aborted || Date.now() >= end) return;
      if (pool.recover) await Promise.all(down.map((h) => this.recoverAgent(h, experiment)));
      await sleep(Math.min(1000, this.options.agentWaitMs), signal);
    }
  }

  private async recoverAgent(host: string, experiment: string | undefined, now = false): Promise<string | undefined> {
    let message: string;
    try {
      const r = await this.deps.agents.recover!(host, { now });
      if (!r) return undefined;
      message = `agent ${host} stopped answering: restarted over SSH (${r.restarted ? 'ok' : `exit ${r.exitCode}: ${r.output.trim()}`}); its last log lines:\n${r.logTail}`;
    } catch (err) {
      message = `agent ${host} stopped answering; restart over SSH failed: ${(err as Error).message}`;
    }
    if (experiment) this.deps.store.addEvent(experiment, 'log', { host, message });
    return message;
  }

  /** After a failed attempt: agents of the cell that no longer answer are restarted (when configured); what that found joins the run's error. */
  private async recoverFailedHosts(hosts: readonly string[], experiment: string): Promise<string[]> {
    const pool = this.deps.agents;
    if (!pool.recover) return [];
    const down = (await Promise.all(hosts.map((h) => pool.refresh(h).then(() => undefined, () => h)))).filter((h) => h !== undefined);
    const notes = await Promise.all(down.map((h) => this.recoverAgent(h, experiment, true)));
    return notes.filter((n): n is string => n !== undefined).map((n) => (n.length > 4000 ? `${n.slice(0, 4000)}...` : n));
  }

  private async teardown(a: Applied): Promise<void> {
    const t0 = performance.now();
    const errors = await this.configurator.teardown(a.scope, a.hosts);
    this.phase(a.experiment, 'teardown', t0);
    this.release(a.scope);
    if (errors.length > 0) this.log.warn({ scope: a.scope, errors }, 'teardown incomplete; agent GC removes the rest');
  }

  /**
   * Removes scopes of other experiments from this experiment's hosts before its first Apply.
   * The job holds the hosts' locks, so such a scope is stale: left applied by a controller that
   * was killed (or stopped) mid-experiment, whose job has not been redelivered yet. Left there,
   * its container network would collide with this experiment's (CONFLICT on every cell). Its
   * own experiment re-applies it when it resumes. This experiment's own scopes of cells still to
   * measure are kept (a cheap resume); the scope of a cell it already finished is stale too: a
   * controller killed between a cell's last run and its teardown left it applied, and the next
   * cell's Apply (often the same container network) would collide with it. An agent that does
   * not answer is left to Apply.
   */
  private async clearStaleScopes(plan: ExperimentPlan): Promise<void> {
    // Only this experiment's pending cells': any other scope on hosts whose locks we hold is
    // stale, even one an engine of this process still thinks it uses (its lease expired; it
    // stops on its next refresh).
    const states = this.deps.store.cellStates(plan.id);
    const keepScopes = [...new Set(plan.cells.filter((c) => (states.get(c.id) ?? 'pending') === 'pending').map((c) => scopeName(plan.id, c, c.containers)))];
    await Promise.all(plan.hosts.map(async (h) => {
      try {
        const r = await this.deps.agents.get(h).gc({ requestId: `stale-${plan.id}-${Date.now()}`, keepScopes }, { deadlineMs: 60_000 });
        if (r.removedScopes.length > 0) this.log.info({ experiment: plan.id, host: h, removedScopes: r.removedScopes }, 'removed stale scopes of other experiments');
      } catch (err) {
        this.log.warn({ experiment: plan.id, host: h, err: (err as Error).message }, 'could not clear stale scopes; Apply will report any conflict');
      }
    }));
  }

  private async recordHosts(plan: ExperimentPlan): Promise<void> {
    await Promise.all(plan.hosts.map(async (h) => {
      let info: AgentInfo;
      try {
        info = await this.deps.agents.refresh(h);
      } catch (err) {
        // The host record is informative; the run itself reports an unreachable agent. Keep the cause.
        const message = `host ${h}: its tools and kernel were not recorded: ${(err as Error).message}`;
        this.log.warn({ experiment: plan.id, host: h, err: (err as Error).message }, 'agent refresh failed');
        this.deps.store.addEvent(plan.id, 'log', { host: h, message });
        return;
      }
      this.deps.store.putHost(plan.id, {
        name: h,
        kernel: info.kernel,
        hostKind: this.deps.agents.hostKind?.(h) ?? 'remote',
        agentVersion: info.agentVersion,
        tools: info.tools.map((t) => ({ tool: t.tool, version: t.version })),
        cpu: info.cpu ? `${info.cpu.model} (${info.cpu.cores} cores)` : '',
        memoryBytes: Number(info.memoryBytes),
        networkVariants: networkVariants(info),
      });
    }));
  }

  private underlay(hosts: readonly string[]): Map<string, string> {
    const m = new Map<string, string>();
    for (const h of hosts) {
      const a = this.deps.agents.info(h)?.underlayAddress;
      if (a) m.set(h, a);
    }
    return m;
  }

  /** Apply + pre-flight; returns undefined when the cell cannot be measured (its runs are closed with the reason). */
  private async prepareCell(plan: ExperimentPlan, cell: Cell, scope: string, placement: CellPlacement, signal: AbortSignal): Promise<CellContext | undefined> {
    const { store } = this.deps;
    const hosts = placement.hosts.map((h) => h.name);
    const closeRuns = (state: 'failed' | 'skipped', why: string): void => {
      for (const w of plan.workloads[cell.id] ?? []) {
        for (const key of store.groupRunKeys(plan.id, cell.id, w.id)) {
          const run = store.ensureRun(key);
          if (state === 'failed') store.failRun(run.id, why);
          else store.skipRun(run.id, why);
        }
      }
    };
    let agents: Map<string, AgentLink>;
    try {
      agents = new Map(hosts.map((h) => [h, this.deps.agents.get(h)]));
      await Promise.all(hosts.filter((h) => !this.deps.agents.info(h)).map((h) => this.deps.agents.refresh(h)));
    } catch (err) {
      const why = `cell ${cell.id}: ${(err as Error).message}`;
      store.setCellState(plan.id, cell.id, 'failed', why);
      closeRuns('failed', why);
      store.addEvent(plan.id, 'cell', { cell: cell.id, state: 'failed', error: why });
      return undefined;
    }
    await this.waitForAgents(hosts, signal, false, plan.id);
    const ctx: CellContext = { cell, scope, placement, agents, underlay: this.underlay(hosts), tunnelVariant: '', filterVariant: '', dirty: false };
    try {
      try {
        await this.applyCell(plan.id, ctx, signal);
      } catch (err) {
        // An agent that stopped answering between two cells (killed, restarting) is recovered
        // like one that failed a run, and the cell is applied once more, not failed at once.
        if (signal.aborted || (err as { code?: string }).code !== 'UNAVAILABLE') throw err;
        const notes = await this.recoverFailedHosts(hosts, plan.id);
        store.addEvent(plan.id, 'log', { message: `cell ${cell.id}: ${(err as Error).message}; applying once more${notes.length > 0 ? ` (${notes.join('; ')})` : ''}` });
        await this.waitForAgents(hosts, signal, true, plan.id);
        await this.applyCell(plan.id, ctx, signal);
      }
      if (this.options.preflight) {
        const t0 = performance.now();
        let v = await this.configurator.preflight(scope, cell, placement, agents, signal, ctx.underlay);
        // An allowed pair that does not connect may be a passing fault (an underlay cut for a few
        // seconds, an agent restarting): probe again before giving up on the cell. A denied pair
        // that connects or a leak is never retried away.
        for (let i = 0; i < PREFLIGHT_RETRIES && !v.connected && v.isolation !== false && !v.wire?.leak && !signal.aborted; i++) {
          store.addEvent(plan.id, 'log', { message: `cell ${cell.id}: an allowed pair does not connect; probing again in ${this.options.retryDelayMs * 3} ms` });
          await sleep(this.options.retryDelayMs * 3, signal);
          await this.waitForAgents(hosts, signal, false, plan.id);
          v = await this.configurator.preflight(scope, cell, placement, agents, signal, ctx.underlay);
        }
        this.phase(plan.id, 'preflight', t0);
        store.setCellVerdict(plan.id, cell.id, { isolation: v.isolation, evidence: v.evidence });
        if (v.wire) store.setCellWire(plan.id, cell.id, v.wire);
        if (!v.connected || v.isolation === false || v.wire?.leak) {
          const state = v.isolation === false || v.wire?.leak ? 'invalid' : 'failed';
          const why = v.isolation === false ? 'isolation does not hold: a denied pair connects; the cell is not measured'
            : v.wire?.leak ? `encryption does not hold: ${cell.tunnel} claims encryption but the marker payload crossed the underlay in clear; the cell is not measured`
            : 'an allowed pair does not connect; the cell is not measured';
          store.setCellState(plan.id, cell.id, state, why);
          closeRuns('skipped', why);
          store.addEvent(plan.id, 'cell', { cell: cell.id, state, error: why, evidence: v.evidence });
          return undefined;
        }
      }
      return ctx;
    } catch (err) {
      if (signal.aborted) return undefined;
      const why = `${(err as Error).message}`;
      if (unexpected(err)) this.log.warn({ experiment: plan.id, cell: cell.id, err: why, stack: (err as Error).stack }, 'applying a cell failed with an unexpected exception');
      store.setCellState(plan.id, cell.id, 'failed', why);
      closeRuns('failed', why);
      store.addEvent(plan.id, 'cell', { cell: cell.id, state: 'failed', error: why });
      return undefined;
    }
  }

  private async applyCell(experiment: string, ctx: CellContext, signal: AbortSignal): Promise<void> {
    const t0 = performance.now();
    const out = await this.configurator.apply(ctx.scope, ctx.cell, ctx.placement, ctx.underlay, signal).finally(() => this.phase(experiment, 'apply', t0));
    ctx.tunnelVariant = out.tunnelVariant;
    ctx.filterVariant = out.filterVariant;
    ctx.dirty = false;
    this.deps.store.setCellSetup(experiment, ctx.cell.id, { tunnelVariant: out.tunnelVariant, filterVariant: out.filterVariant, setupSeconds: out.setupSeconds });
    this.deps.store.addEvent(experiment, 'cell', { cell: ctx.cell.id, state: 'configured', scope: ctx.scope, seconds: out.seconds, setup: out.setupSeconds });
  }

  private async runGroup(plan: ExperimentPlan, ctx: CellContext, w: WorkloadInstance, signal: AbortSignal): Promise<void> {
    const { store } = this.deps;
    const policy = plan.repetitions;
    const planned = store.groupRunKeys(plan.id, ctx.cell.id, w.id);
    const fixed = ctx.cell.reference !== undefined;
    let key = planned[0];
    for (let i = 0; key !== undefined; i++) {
      // Adding a repetition's run waits (off the event loop) for a result another sweep is storing.
      await store.writerIdle();
      if (signal.aborted) return;
      const run = store.ensureRun(key);
      if (run.state === 'pending' || run.state === 'running') await this.execute(plan, ctx, run, signal);
      if (signal.aborted) return;
      const next = planned[i + 1];
      if (next === undefined) {
        // The decision below waits (off the event loop) for a result another sweep is storing.
        await store.writerIdle();
        const metric = this.mainMetric(plan.id, ctx.cell.id, w);
        const values = store.groupMetric(plan.id, ctx.cell.id, w.id, metric);
        const d = this.decide(policy, values);
        store.putDecision(plan.id, {
          cell: ctx.cell.id, workload: w.id, metric, repetitions: key.repetition, converged: d.converged,
          ciLow: d.ci.low, ciHigh: d.ci.high, center: d.center, relHalfWidth: d.relHalfWidth,
        });
        if (fixed || !d.needMore) return;
        key = nextRun(plan, key, ctx.cell);
      } else {
        key = next;
      }
    }
  }

  /** Throws DiskFull (the sweep pauses) when the store's disk has less than minFreeBytes free. */
  private checkFreeSpace(experiment: string): void {
    const free = this.deps.store.freeBytes();
    const min = this.options.minFreeBytes;
    if (free < min) {
      throw new DiskFull(`sweep paused before the next run: the store's disk (${this.deps.store.dir}) has ${free} bytes free, less than engine.minFreeBytes ${min} (ENOSPC would follow); the results stored so far are kept. Free space, then resume the experiment (seconet resume ${experiment})`);
    }
  }

  private mainMetric(experiment: string, cell: string, w: WorkloadInstance): string {
    const m = MAIN_METRIC[w.kind];
    if (m !== undefined) return m;
    return this.deps.store.firstGroupMetric(experiment, cell, w.id) ?? 'throughput';
  }

  private async execute(plan: ExperimentPlan, ctx: CellContext, run: StoredRun, signal: AbortSignal): Promise<void> {
    const { store } = this.deps;
    const budget = this.options.retries + 1;
    const errors: string[] = run.error ? [run.error] : [];
    const summary = (): string => (errors.length <= 1 ? (errors[0] ?? '') : errors.map((e, i) => `attempt ${i + 1}: ${e}`).join('; '));
    let lastError = summary();
    for (;;) {
      if (signal.aborted) return;
      this.checkFreeSpace(plan.id);
      // A run's writes (attempt, events) wait off the event loop while the store's write thread
      // stores another sweep's result, not in SQLite's busy handler on it.
      await store.writerIdle();
      if (signal.aborted) return;
      const attempt = store.startRun(run.id);
      if (attempt > budget) {
        const why = `retry budget of ${budget} attempts used up${lastError ? `; last error: ${lastError}` : ''}`;
        store.failRun(run.id, why);
        store.addEvent(plan.id, 'run', { run: run.id, state: 'failed', error: why });
        return;
      }
      this.currentRuns.set(plan.id, { cell: ctx.cell.id, workload: run.workload, repetition: run.repetition });
      store.addEvent(plan.id, 'run', { run: run.id, state: 'running', cell: ctx.cell.id, workload: run.workload, repetition: run.repetition, attempt });
      await this.deps.beforeRun?.(run);
      if (store.isCancelRequested(plan.id)) this.abort(plan.id);
      const outcome = await this.attempt(plan, ctx, run, attempt, signal);
      if (outcome === 'aborted') {
        store.resetRun(run.id, 'cancelled during the run');
        return;
      }
      if (outcome === 'ok') {
        const p = store.progress(plan.id);
        store.addEvent(plan.id, 'run', { run: run.id, state: 'succeeded', runsDone: p.runsDone, runsTotal: p.runsTotal });
        return;
      }
      const notes = await this.recoverFailedHosts([...ctx.agents.keys()], plan.id);
      errors.push([outcome.error, ...notes].join('; '));
      lastError = summary();
      ctx.dirty = true;
      if (outcome.deterministic !== undefined) {
        // The same request on the same host gives the same answer: no retry (retry-policy.ts).
        const why = `${lastError} (${outcome.deterministic}: not retried, a retry would fail the same way)`;
        store.failRun(run.id, why);
        const p = store.progress(plan.id);
        store.addEvent(plan.id, 'run', { run: run.id, state: 'failed', error: why, runsDone: p.runsDone, runsTotal: p.runsTotal });
        return;
      }
      if (attempt < budget) {
        store.resetRun(run.id, lastError);
        store.addEvent(plan.id, 'log', { run: run.id, message: `attempt ${attempt} failed, retrying: ${outcome.error}` });
        await sleep(this.options.retryDelayMs, signal);
        continue;
      }
      store.failRun(run.id, lastError);
      const p = store.progress(plan.id);
      store.addEvent(plan.id, 'run', { run: run.id, state: 'failed', error: lastError, runsDone: p.runsDone, runsTotal: p.runsTotal });
      return;
    }
  }

  private async attempt(plan: ExperimentPlan, ctx: CellContext, run: StoredRun, attempt: number, signal: AbortSignal): Promise<'ok' | 'aborted' | { error: string; deterministic?: string | undefined }> {
    const { store } = this.deps;
    if (ctx.dirty) {
      try {
        await this.waitForAgents([...ctx.agents.keys()], signal, true, plan.id);
        await this.applyCell(plan.id, ctx, signal);
      } catch (err) {
        if (signal.aborted) return 'aborted';
        return { error: `re-apply before the run failed: ${(err as Error).message}`, deterministic: deterministicCode([(err as { code?: string }).code]) };
      }
    }
    const hosts = ctx.placement.hosts.map((h) => h.name);
    const monitor = startMonitor(ctx.agents, hosts, ctx.scope, { intervalMs: this.options.metricsIntervalMs });
    let result: Awaited<ReturnType<typeof runWorkloadOnPairs>>;
    const tm = performance.now();
    try {
      result = await runWorkloadOnPairs({
        agents: ctx.agents,
        scope: ctx.scope,
        runId: run.id,
        workload: run.workloadInstance,
        pairs: run.workloadInstance.kind === 'clients-scale' ? clientPairs(ctx.placement, clientsOf(run.workloadInstance)) : ctx.placement.pairs,
        marginMs: this.options.runMarginMs,
        signal,
      });
    } catch (err) {
      await monitor.stop();
      if (signal.aborted) return 'aborted';
      // A RunAborted without a cancel is the run's own deadline: a failure with its reason, not a cancel.
      if (err instanceof RunAborted) return { error: err.message };
      if (unexpected(err)) this.log.warn({ experiment: plan.id, run: run.id, err: (err as Error).message, stack: (err as Error).stack }, 'a run failed with an unexpected exception');
      return { error: (err as Error).message, deterministic: deterministicCode([(err as { code?: string }).code]) };
    }
    this.phase(plan.id, 'measure', tm);
    const ts = performance.now();
    const mon = await monitor.stop();
    // A defect in aggregating or storing one run fails that run (with the retry policy), not
    // the whole sweep: the night's other runs are still measured.
    let agg: ReturnType<typeof aggregateRun>;
    try {
      agg = aggregateRun({
        cell: ctx.cell,
        workload: run.workloadInstance,
        scope: ctx.scope,
        attempt,
        outcomes: result.outcomes,
        hostSamples: mon.samples,
        hostSummary: summarize(mon.samples),
        agents: new Map(hosts.map((h) => [h, this.deps.agents.info(h)])),
        tunnelVariant: ctx.tunnelVariant,
        filterVariant: ctx.filterVariant,
        startedAt: result.startedAt,
        endedAt: result.endedAt,
        serverHost: ctx.placement.clients[0]?.sink.host,
      });
    } catch (err) {
      this.log.warn({ experiment: plan.id, run: run.id, err: (err as Error).message, stack: (err as Error).stack }, 'aggregating a run failed with an unexpected exception');
      if (mon.samples.length > 0) store.recordHostSamples(run.id, mon.samples);
      return { error: `aggregating the run's results failed: ${(err as Error).message}` };
    }
    if (!agg.ok) {
      if (mon.samples.length > 0) store.recordHostSamples(run.id, mon.samples);
      return { error: agg.error, deterministic: deterministicCode([...result.outcomes.values()].map((o) => o.error?.code)) };
    }
    // A run's result (every host's samples of the window) is one transaction, written off the
    // event loop (the store's write thread), so the API and the streams go on meanwhile.
    try {
      await store.recordRunResult(run.id, agg.data);
    } catch (err) {
      if (!isDiskFull(err)) {
        // The transaction rolled back: nothing of the run is half stored. When the store itself
        // is broken, recording the failure throws too and the experiment ends with that error.
        this.log.warn({ experiment: plan.id, run: run.id, err: (err as Error).message, stack: (err as Error).stack }, 'storing a run\'s result failed');
        return { error: `storing the run's results failed: ${(err as Error).message}` };
      }
      const why = (err as Error).message;
      // The run goes back to pending with the reason, its attempt not counted: the resumed sweep
      // measures it again. These small writes may fail too on a full disk; a restart resets it.
      try {
        store.resetRun(run.id, why, { uncounted: true });
        store.addEvent(plan.id, 'run', { run: run.id, state: 'pending', error: why });
      } catch (e2) {
        this.log.warn({ experiment: plan.id, run: run.id, err: (e2 as Error).message }, 'could not record the run that was not stored');
      }
      throw new DiskFull(`sweep paused: ${why}`, { cause: err });
    }
    this.phase(plan.id, 'store', ts);
    return 'ok';
  }
}


export function assertHostsKnown(hosts: readonly string[], known: (h: string) => boolean): void {
  for (const [i, h] of hosts.entries()) {
    if (!known(h)) throw new SeconetError('UNSUPPORTED', `hosts[${i}]: no agent named ${JSON.stringify(h)} is configured`, { field: `hosts[${i}]` });
  }
}
