// An in-memory ControllerService for the API tests: experiments, events with increasing ids,
// results, agents and metrics, plus hooks to make any method throw.

import { SeconetError, type Cell, type ResultRow, type RunKey, type WorkloadInstance } from '@seconet/core';
import type { AgentStatus, CellStatus, ControllerMetrics, ControllerService, ExperimentSummary, HostMetricsSample, PlanResult, ProgressEvent, RunStatus } from '../src/service.js';

export const TOKEN = 'test-token-0123456789abcdef';

export function row(experiment: string, i: number, extra: Partial<ResultRow> = {}): ResultRow {
  return {
    experiment, cell: 'c1', run: `r${i}`, repetition: i, workload: 'latency-basic', workload_kind: 'latency-basic',
    engine: 'ping', payload: 653, protocol: 'icmp', network: 'bridge', tunnel: 'none', tunnel_variant: 'kernel',
    filter: 'none', filter_variant: 'kernel', rules: 0, containers: 2, placement: 'single-host', pair: 'p0',
    flow: '', metric: 'rtt_avg', value: 0.05 + i, unit: 'ms', validity: '', recipe: '', rule_match: 'address', host_kind: 'remote', kernel_release: '6.1.0-28-amd64', ...extra,
  };
}

const workload: WorkloadInstance = { id: 'latency-basic', kind: 'latency-basic', engine: 'ping', protocol: 'icmp', payload: 653, durationMs: 5000, params: {}, seed: 1 };

export class FakeService implements ControllerService {
  experiments = new Map<string, ExperimentSummary>();
  eventLog = new Map<string, ProgressEvent[]>();
  rows = new Map<string, ResultRow[]>();
  submitted: unknown[] = [];
  fail: Partial<Record<keyof ControllerService, Error>> = {};
  /** Validates a spec the way the controller would; replaced by the real parseSpec in the corpus test. */
  validate: (spec: unknown) => { name: string } = (spec) => {
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new SeconetError('INVALID_SPEC', 'spec: must be an object', { field: '' });
    const name = (spec as Record<string, unknown>)['name'];
    if (typeof name !== 'string') throw new SeconetError('INVALID_SPEC', 'name: must be a string', { field: 'name' });
    return { name };
  };
  private next = 1;

  private check(m: keyof ControllerService): void {
    const e = this.fail[m];
    if (e) throw e;
  }

  private must(id: string): ExperimentSummary {
    const e = this.experiments.get(id);
    if (!e) throw new SeconetError('NOT_FOUND', `experiment ${id} does not exist`, { field: 'id' });
    return e;
  }

  add(state: ExperimentSummary['state'], extra: Partial<ExperimentSummary> = {}): ExperimentSummary {
    const id = `exp${this.next++}`;
    const e: ExperimentSummary = { id, name: `n-${id}`, state, progress: { runsDone: 1, runsFailed: 0, runsTotal: 4 }, hosts: ['h1', 'h2'], createdAt: '2026-01-01T00:00:00.000Z', ...extra };
    this.experiments.set(id, e);
    this.eventLog.set(id, []);
    return e;
  }

  pushEvent(id: string, type: ProgressEvent['type'], data: Record<string, unknown>): ProgressEvent {
    const log = this.eventLog.get(id)!;
    const ev: ProgressEvent = { id: log.length + 1, experiment: id, type, at: new Date(0).toISOString(), data };
    log.push(ev);
    return ev;
  }

  async submit(spec: unknown): Promise<{ id: string }> {
    this.check('submit');
    const { name } = this.validate(spec);
    this.submitted.push(spec);
    return { id: this.add('queued', { name }).id };
  }

  async plan(spec: unknown): Promise<PlanResult> {
    this.check('plan');
    this.validate(spec);
    const cell: Cell = { id: 'c1', index: 0, network: 'bridge', tunnel: 'none', filter: 'none', containers: 2, rules: 0, placement: 'multi-host', hosts: ['h1', 'h2'] };
    const runs: RunKey[] = [1, 2].map((rep, order) => ({ id: `r${rep}`, experiment: 'dry', cell: 'c1', workload, repetition: rep, order }));
    return { cells: [cell], runs, skipped: [{ cell: { ...cell, tunnel: 'wireguard' }, reason: 'no agent offers tunnel wireguard' }], estimatedSeconds: 42 };
  }

  async list(): Promise<ExperimentSummary[]> {
    this.check('list');
    return [...this.experiments.values()];
  }

  async get(id: string): Promise<ExperimentSummary> {
    this.check('get');
    return this.must(id);
  }

  async cancel(id: string): Promise<ExperimentSummary> {
    this.check('cancel');
    const e = this.must(id);
    if (e.state === 'succeeded' || e.state === 'failed') throw new SeconetError('CONFLICT', `experiment ${id} already ended (${e.state})`, { field: 'id' });
    const c = { ...e, state: 'cancelled' as const };
    this.experiments.set(id, c);
    return c;
  }

  async resume(id: string): Promise<ExperimentSummary> {
    this.check('resume');
    const e = this.must(id);
    if (e.state !== 'paused') throw new SeconetError('CONFLICT', `experiment ${id} is ${e.state}, not paused`, { field: 'id' });
    const r = { ...e, state: 'queued' as const };
    this.experiments.set(id, r);
    return r;
  }

  async results(id: string): Promise<ResultRow[]> {
    this.check('results');
    this.must(id);
    return this.rows.get(id) ?? [];
  }

  async report(id: string): Promise<string> {
    this.check('report');
    const e = this.must(id);
    return `<!doctype html><html><body><h1>${e.name}</h1></body></html>`;
  }

  async agents(): Promise<AgentStatus[]> {
    this.check('agents');
    return [
      { name: 'h1', address: '127.0.0.1:7001', healthy: true, kernel: '6.1.0', agentVersion: '0.1.0', capabilities: [{ category: 'tunnel', kind: 'vxlan', variant: 'kernel', available: true, version: '', reason: '', undetermined: false }] },
      { name: 'h2', address: '127.0.0.1:7002', healthy: false, error: 'connection refused', capabilities: [] },
    ];
  }

  async *events(id: string, afterId: number, signal: AbortSignal): AsyncIterable<ProgressEvent> {
    this.check('events');
    for (const ev of this.eventLog.get(id) ?? []) {
      if (signal.aborted) return;
      if (ev.id > afterId) yield ev;
    }
  }

  async metrics(): Promise<ControllerMetrics> {
    this.check('metrics');
    return { queueDepth: 3, runsDone: 10, runsFailed: 1, experimentsByState: { running: 1, queued: 2 }, agentsHealthy: 1, agentsTotal: 2 };
  }

  async cells(id: string): Promise<CellStatus[]> {
    this.check('cells');
    this.must(id);
    return [{
      id: 'c1', index: 0, network: 'bridge', tunnel: 'vxlan', filter: 'iptables', containers: 4, rules: 0, placement: 'multi-host', hosts: ['h1', 'h2'],
      state: 'measured', tunnelVariant: 'kernel', filterVariant: 'kernel', setupSeconds: { containers: 0.2, network: 0.05, tunnel: 0.1, filter: 0.02 },
      isolation: true, isolationEvidence: 'denied pair p0->p1 did not connect',
    }];
  }

  async runs(id: string): Promise<RunStatus[]> {
    this.check('runs');
    this.must(id);
    return [
      { id: 'r1', cell: 'c1', workload: 'latency-basic', repetition: 1, state: 'succeeded', attempts: 1, startedAt: '2026-01-01T00:00:01.000Z', finishedAt: '2026-01-01T00:00:03.500Z' },
      { id: 'r2', cell: 'c1', workload: 'latency-basic', repetition: 2, state: 'failed', attempts: 2, error: 'ping exited 2: connect: Network is unreachable' },
    ];
  }

  async bundle(id: string): Promise<Buffer> {
    this.check('bundle');
    this.must(id);
    return Buffer.from([0x1f, 0x8b, 0x08, 0x00]);
  }

  /** Samples the fake hands out per host, then the stream waits for the signal. */
  samples: HostMetricsSample[] = [];

  hostMetrics(hosts: readonly string[], _intervalMs: number, signal: AbortSignal): AsyncIterable<HostMetricsSample> {
    this.check('hostMetrics');
    for (const h of hosts) if (h !== 'h1' && h !== 'h2') throw new SeconetError('NOT_FOUND', `hosts: no agent named ${JSON.stringify(h)} is configured`, { field: 'hosts' });
    const list = this.samples.filter((s) => hosts.length === 0 || hosts.includes(s.host));
    return (async function* () {
      for (const s of list) yield s;
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }));
    })();
  }
}
