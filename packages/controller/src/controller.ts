// The controller process: store, agent registry, engine and queue wired together behind the
// ControllerService the REST API and the CLI use. startController() brings everything up and
// re-enqueues experiments the store still lists as queued or running (their jobs may be gone
// if Redis lost data), so a restart never strands an experiment (a paused one waits for its
// resume); stop() hands running jobs
// back to the queue and leaves their scopes applied, so the next start resumes cheaply.

import { randomBytes } from 'node:crypto';
import { assertRunnable, parseSpec, SeconetError, type CapabilityMap, type ExperimentSpec, type ExperimentState } from '@seconet/core';
import { connectAgent } from '@seconet/agent';
import { underlayMtuOf, type AgentInfo } from './agents/contract.js';
import { AgentRegistry, type ConnectFn } from './agents/registry.js';
import { DEFAULT_LIMITS, readRedisPassword, readStorePassword, type ControllerConfig, type ServiceLimits } from './config.js';
import { generatedSecrets, scopeName, type SecretsProvider } from './configurator/host-state.js';
import { Engine, type EngineLog } from './engine/engine.js';
import { planExperiment, type ExperimentPlan } from './engine/plan.js';
import { ExperimentQueue } from './queue/experiment-queue.js';
import { renderReport as defaultRenderReport } from './report/index.js';
import type { ReportData } from './report/types.js';
import { computeTimeSplit, type TimeSplit } from './report/time-split.js';
import { encodeBundle } from './export/bundle.js';
import { liveHostMetrics } from './monitor/live.js';
import type { AgentStatus, CellStatus, ControllerMetrics, ControllerService, ExperimentSummary, HostMetricsSample, PlanResult, ProgressEvent, RunStatus } from './service.js';
import { openStore, type ExperimentHead, type Store } from './store/store.js';

export interface StartControllerOptions {
  /** How to reach an agent (default: connectAgent over mTLS). */
  readonly connect?: ConnectFn;
  readonly secrets?: SecretsProvider;
  readonly log?: EngineLog;
  /** Renders the HTML report (default: report/'s renderReport). */
  readonly renderReport?: (data: ReportData) => Promise<string> | string;
  /** Do not start the queue worker (an API-only process). */
  readonly noWorker?: boolean;
}

export interface RunningController {
  readonly service: ControllerService;
  readonly store: Store;
  readonly registry: AgentRegistry;
  readonly engine: Engine;
  readonly queue: ExperimentQueue;
  stop(): Promise<void>;
}

const TERMINAL: readonly ExperimentState[] = ['succeeded', 'failed', 'cancelled'];
/** States without a job to run: the terminal ones and `paused`, which waits for a resume. */
const IDLE: readonly ExperimentState[] = [...TERMINAL, 'paused'];

export const defaultConnect: ConnectFn = (endpoint) => connectAgent(endpoint);

/** An experiment id: the spec name made safe, plus 6 random hex digits. */
export function newExperimentId(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'exp';
  return `${slug}-${randomBytes(3).toString('hex')}`;
}

export class ControllerServiceImpl implements ControllerService {
  private readonly renderer: (d: ReportData) => Promise<string> | string;

  constructor(
    private readonly store: Store,
    private readonly registry: AgentRegistry,
    private readonly engine: Engine,
    private readonly queue: ExperimentQueue,
    renderReport?: (d: ReportData) => Promise<string> | string,
    private readonly limits: ServiceLimits = DEFAULT_LIMITS,
  ) {
    this.renderer = renderReport ?? defaultRenderReport;
  }

  private parse(spec: unknown): ExperimentSpec {
    return parseSpec(spec);
  }

  private hostsFor(spec: ExperimentSpec): string[] {
    const hosts = spec.hosts ? [...spec.hosts] : this.registry.names();
    hosts.forEach((h, i) => {
      if (!this.registry.has(h)) {
        throw new SeconetError('UNSUPPORTED', `hosts[${i}]: no agent named ${JSON.stringify(h)} is configured (known: ${this.registry.names().join(', ') || 'none'})`, { field: `hosts[${i}]` });
      }
    });
    if (hosts.length === 0) throw new SeconetError('UNSUPPORTED', 'hosts: no agents are configured', { field: 'hosts' });
    return hosts;
  }

  private async capabilities(hosts: readonly string[]): Promise<CapabilityMap> {
    const map = new Map<string, AgentInfo['capabilities']>();
    await Promise.all(hosts.map(async (h) => {
      const info = await this.registry.refresh(h).catch(() => this.registry.info(h));
      if (info) map.set(h, info.capabilities);
    }));
    return map;
  }

  private async makePlan(spec: unknown, id: string): Promise<{ parsed: ExperimentSpec; plan: ExperimentPlan }> {
    const parsed = this.parse(spec);
    const hosts = this.hostsFor(parsed);
    const caps = await this.capabilities(hosts);
    const mtus = new Map<string, number>();
    for (const h of hosts) {
      const m = underlayMtuOf(this.registry.info(h));
      if (m !== undefined) mtus.set(h, m);
    }
    return { parsed, plan: planExperiment(parsed, id, hosts, caps, mtus.size === hosts.length ? mtus : undefined) };
  }

  /** Refuses a plan whose worst-case estimate is over the configured cap, naming the estimate. */
  private checkEstimate(plan: ExperimentPlan): void {
    const max = this.limits.maxEstimatedSeconds;
    if (plan.estimatedMaxSeconds <= max) return;
    const h = (s: number): string => (s >= 86_400 ? `${(s / 86_400).toFixed(1)} days` : `${(s / 3600).toFixed(1)} h`);
    throw new SeconetError('INVALID_SPEC', `matrix: the experiment is estimated at ${plan.estimatedMaxSeconds} s (${h(plan.estimatedMaxSeconds)}) at max repetitions (${plan.estimatedSeconds} s at min); the controller accepts at most ${max} s (${h(max)}, limits.maxEstimatedSeconds): shorten a list, lower repetitions.max or split the experiment`, { field: 'matrix', details: { estimatedSeconds: plan.estimatedSeconds, estimatedMaxSeconds: plan.estimatedMaxSeconds, limit: max } });
  }

  async submit(spec: unknown): Promise<{ id: string }> {
    const name = this.parse(spec).name;
    const queued = this.store.experimentCounts()['queued'] ?? 0;
    if (queued >= this.limits.maxQueued) {
      throw new SeconetError('RATE_LIMITED', `${queued} experiments are already queued (limits.maxQueued ${this.limits.maxQueued}); submit again when some have run, or cancel some`, { details: { queued, limit: this.limits.maxQueued } });
    }
    const id = newExperimentId(name);
    const { parsed, plan } = await this.makePlan(spec, id);
    this.checkEstimate(plan);
    assertRunnable({ runs: [...plan.runs], skipped: [...plan.skipped] });
    this.store.createExperiment(plan, parsed);
    for (const note of plan.notes) this.store.addEvent(id, 'log', { message: note });
    for (const s of plan.skipped) this.store.addEvent(id, 'log', { message: `skipped: ${s.reason}`, skipped: s.cell });
    await this.queue.enqueue(id);
    return { id };
  }

  async plan(spec: unknown): Promise<PlanResult> {
    const { plan } = await this.makePlan(spec, 'dry-run');
    this.checkEstimate(plan);
    return { cells: plan.cells, runs: plan.runs, skipped: plan.skipped, estimatedSeconds: plan.estimatedSeconds, notes: plan.notes };
  }

  private summary(e: ExperimentHead): ExperimentSummary {
    const current = e.state === 'running' ? this.engine.current(e.id) : undefined;
    return {
      id: e.id,
      name: e.name,
      state: e.state,
      progress: this.store.progress(e.id),
      hosts: e.hosts,
      createdAt: e.createdAt,
      startedAt: e.startedAt,
      finishedAt: e.finishedAt,
      error: e.error,
      current,
    };
  }

  async list(): Promise<ExperimentSummary[]> {
    return this.store.listExperimentHeads().map((e) => this.summary(e));
  }

  async get(id: string): Promise<ExperimentSummary> {
    return this.summary(this.store.requireExperimentHead(id));
  }

  async cancel(id: string): Promise<ExperimentSummary> {
    const e = this.store.requireExperimentHead(id);
    if (TERMINAL.includes(e.state)) return this.summary(e);
    this.store.requestCancel(id);
    if (e.state === 'queued' || e.state === 'paused') {
      // Not started (or paused): nothing to stop. A job still waiting for its hosts sees the terminal state and lets go.
      await this.queue.removeWaiting(id);
      this.store.setExperimentState(id, 'cancelled');
    } else {
      this.engine.abort(id);
    }
    return this.summary(this.store.requireExperimentHead(id));
  }

  async resume(id: string): Promise<ExperimentSummary> {
    const e = this.store.requireExperimentHead(id);
    if (e.state !== 'paused') {
      throw new SeconetError('CONFLICT', `experiment ${id} is ${e.state}, not paused: only an experiment that paused itself (a full store disk) is resumed`, { field: 'id', details: { state: e.state } });
    }
    const free = this.store.freeBytes();
    const min = this.engine.options.minFreeBytes;
    if (free < min) {
      throw new SeconetError('CONFLICT', `experiment ${id} stays paused: the store's disk (${this.store.dir}) has ${free} bytes free, less than engine.minFreeBytes ${min}; free space, then resume again`, { details: { freeBytes: free, minFreeBytes: min, errno: 'ENOSPC' } });
    }
    // The job that paused it completes just after the pause is stored: queue it only once it has.
    if (!(await this.queue.waitUntilInactive(id, 10_000))) {
      throw new SeconetError('CONFLICT', `experiment ${id} is still pausing (its job has not ended); resume again in a few seconds`, { field: 'id' });
    }
    if (!this.store.resumeExperiment(id)) {
      throw new SeconetError('CONFLICT', `experiment ${id} is ${this.store.experimentState(id)}, not paused`, { field: 'id' });
    }
    await this.queue.ensureJob(id);
    return this.summary(this.store.requireExperimentHead(id));
  }

  async results(id: string): Promise<import('@seconet/core').ResultRow[]> {
    this.store.experimentState(id);
    return this.store.resultRows(id);
  }

  async resultPages(id: string): Promise<AsyncIterable<readonly import('@seconet/core').ResultRow[]>> {
    this.store.experimentState(id);
    const pages = this.store.resultRowPages(id);
    return (async function* () {
      for (const page of pages) {
        yield page;
        // Let the event loop (the queue's lock renewals, other requests) run between pages.
        await new Promise<void>((r) => setImmediate(r));
      }
    })();
  }

  async report(id: string): Promise<string> {
    return await this.renderer(this.reportData(id));
  }

  /** The store's report data plus the time split computed from the stored timestamps. */
  private reportData(id: string): ReportData {
    const data = this.store.reportData(id);
    const split = computeTimeSplit(data.experiment, this.store.eventsAfter(id, 0));
    return split === undefined ? data : { ...data, timeSplit: split };
  }

  async timeSplit(id: string): Promise<TimeSplit | null> {
    const e = this.store.requireExperimentHead(id);
    return computeTimeSplit(e, this.store.eventsAfter(id, 0)) ?? null;
  }

  async agents(): Promise<AgentStatus[]> {
    return this.registry.status();
  }

  async *events(id: string, afterId: number, signal: AbortSignal): AsyncIterable<ProgressEvent> {
    this.store.experimentState(id);
    let last = afterId;
    let wake: (() => void) | undefined;
    const off = this.store.onEvent((e) => {
      if (e.experiment === id) wake?.();
    });
    const onAbort = (): void => wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const batch = this.store.eventsAfter(id, last);
        for (const e of batch) {
          last = e.id;
          yield e;
          if (e.type === 'state' && TERMINAL.includes(e.data['state'] as ExperimentState)) return;
        }
        if (batch.length === 0 && TERMINAL.includes(this.store.experimentState(id))) {
          // The state row is written at once; its event may still be on its way through the
          // store's write thread (Store.addEvent): read once more after it is stored.
          await this.store.eventsStored();
          if (this.store.eventsAfter(id, last).length === 0) return;
          continue;
        }
        // Live events wake us at once; the poll covers events written by another controller process.
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      off();
      signal.removeEventListener('abort', onAbort);
    }
  }

  async cells(id: string): Promise<CellStatus[]> {
    this.store.requireExperiment(id);
    return this.store.cells(id).map((c) => ({
      id: c.cell.id,
      index: c.cell.index,
      network: c.cell.network,
      tunnel: c.cell.tunnel,
      filter: c.cell.filter,
      containers: c.cell.containers,
      rules: c.cell.rules,
      placement: c.cell.placement,
      hosts: c.cell.hosts,
      state: c.state,
      tunnelVariant: c.tunnelVariant,
      filterVariant: c.filterVariant,
      setupSeconds: c.setupSeconds,
      isolation: c.isolation,
      isolationEvidence: c.isolationEvidence,
      error: c.error,
    }));
  }

  async runs(id: string): Promise<RunStatus[]> {
    this.store.requireExperiment(id);
    return this.store.runs(id).map((r) => ({
      id: r.id, cell: r.cell, workload: r.workload, repetition: r.repetition, state: r.state, attempts: r.attempts,
      startedAt: r.startedAt, finishedAt: r.finishedAt, error: r.error,
    }));
  }

  async bundle(id: string): Promise<Buffer> {
    return encodeBundle(this.reportData(id));
  }

  hostMetrics(hosts: readonly string[], intervalMs: number, signal: AbortSignal): AsyncIterable<HostMetricsSample> {
    const names = hosts.length === 0 ? this.registry.names() : [...hosts];
    names.forEach((h, i) => {
      if (!this.registry.has(h)) throw new SeconetError('NOT_FOUND', `hosts[${i}]: no agent named ${JSON.stringify(h)} is configured (known: ${this.registry.names().join(', ') || 'none'})`, { field: 'hosts' });
    });
    return liveHostMetrics(new Map(names.map((h) => [h, this.registry.get(h)])), intervalMs, signal);
  }

  async metrics(): Promise<ControllerMetrics> {
    const byState: Record<string, number> = {};
    for (const [state, n] of Object.entries(this.store.experimentCounts())) byState[state] = n;
    const runs = this.store.runTotals();
    const agents = this.registry.status();
    return {
      queueDepth: await this.queue.depth().catch(() => -1),
      runsDone: runs.finished,
      runsFailed: runs.failed,
      experimentsByState: byState,
      agentsHealthy: agents.filter((a) => a.healthy).length,
      agentsTotal: agents.length,
    };
  }
}

/** The network scopes of every cell of every experiment the store says is running. */
function runningScopes(store: Store): string[] {
  return store.listExperimentHeads().filter((e) => e.state === 'running')
    .flatMap((e) => store.requireExperiment(e.id).plan.cells.map((c) => scopeName(e.id, c, c.containers)));
}

/** The store the configuration names: SQLite in store.dir, or the shared PostgreSQL store at store.url. */
export function openControllerStore(config: Pick<ControllerConfig, 'store'>): Store {
  if (config.store.kind === 'postgres') {
    return openStore(config.store.dir, { kind: 'postgres', url: config.store.url!, password: readStorePassword(config) });
  }
  return openStore(config.store.dir);
}

/** Brings the controller up: store, agents, engine, queue worker; resumes unfinished experiments. */
export async function startController(config: ControllerConfig, opts: StartControllerOptions = {}): Promise<RunningController> {
  const redisPassword = readRedisPassword(config);
  const store = openControllerStore(config);
  const log = opts.log;
  if (log) store.onWriteError = (err, what) => log.warn({ err: err.message, code: (err as { code?: string }).code }, `store: ${what}`);
  const registry = new AgentRegistry(config.agents, opts.connect ?? defaultConnect, { healthIntervalMs: config.healthIntervalMs, ...(opts.log ? { log: opts.log } : {}) });
  const engine = new Engine({ store, agents: registry, secrets: opts.secrets ?? generatedSecrets, options: config.engine, ...(opts.log ? { log: opts.log } : {}) });
  // With a shared store, an agent that comes back is GC'd by every controller: each keeps the
  // scopes of every experiment running in the store, not only its own engine's, so it never
  // tears down a cell another controller is measuring on.
  registry.keepScopes(config.store.kind === 'postgres'
    ? () => [...new Set([...engine.scopesInUse(), ...runningScopes(store)])]
    : () => engine.scopesInUse());
  const queue = new ExperimentQueue({
    redisUrl: config.redis.url,
    redisPassword,
    prefix: config.redis.prefix,
    concurrency: config.worker.concurrency,
    lockDurationMs: config.worker.lockDurationMs,
    stalledIntervalMs: config.worker.stalledIntervalMs,
    hostLockTtlMs: config.worker.hostLockTtlMs,
    handler: (id, signal) => engine.run(id, signal),
    // Only the hosts the cells measure on (a single-host sweep leaves the other hosts free).
    hostsOf: (id) => [...new Set(store.requireExperiment(id).plan.cells.flatMap((c) => c.hosts))],
    isFinished: (id) => IDLE.includes(store.getExperiment(id)?.state ?? 'cancelled'),
    onWait: (id, holders) => {
      store.addEvent(id, 'log', { message: `waiting for hosts held by other experiments: ${Object.entries(holders).map(([h, o]) => `${h} (${o.split(':')[0]})`).join(', ')}` });
    },
    ...(opts.log ? { log: opts.log } : {}),
  });
  try {
    await queue.queue.waitUntilReady();
    for (const e of store.listExperiments()) {
      if (!IDLE.includes(e.state)) await queue.ensureJob(e.id);
    }
  } catch (err) {
    await queue.close();
    store.close();
    throw new SeconetError('UNAVAILABLE', `redis at ${config.redis.url} is unreachable: ${(err as Error).message}`, { field: 'redis.url', cause: err });
  }
  registry.start();
  if (!opts.noWorker) queue.start();
  const service = new ControllerServiceImpl(store, registry, engine, queue, opts.renderReport, config.limits);
  let stopped = false;
  return {
    service,
    store,
    registry,
    engine,
    queue,
    async stop() {
      if (stopped) return;
      stopped = true;
      await queue.close();
      registry.close();
      await store.eventsStored();
      store.close();
    },
  };
}
