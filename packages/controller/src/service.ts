// What the REST API and the CLI need from the controller. The engine (engine/) implements it;
// the API (api/) depends on this interface only, so its tests run against a fake.

import type { ExperimentState, ResultRow, SkippedCell, Cell, RunKey } from '@seconet/core';

/**
 * Run counts of one experiment, from one query (Store.progress), so they always add up:
 * runsDone counts every finished run (succeeded, failed or skipped), runsFailed is the part of
 * runsDone that failed, and runsTotal every run planned so far (adaptive repetitions add runs
 * while the experiment goes on). runsDone <= runsTotal always; "done/total" is the progress.
 */
export interface Progress {
  readonly runsDone: number;
  readonly runsFailed: number;
  readonly runsTotal: number;
}

export interface ExperimentSummary {
  readonly id: string;
  readonly name: string;
  readonly state: ExperimentState;
  readonly progress: Progress;
  readonly hosts: readonly string[];
  readonly createdAt: string;   // ISO 8601
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly error?: string | undefined;
  /** The current cell and workload while running. */
  readonly current?: { readonly cell: string; readonly workload: string; readonly repetition: number } | undefined;
}

export interface PlanResult {
  readonly cells: readonly Cell[];
  readonly runs: readonly RunKey[];
  readonly skipped: readonly SkippedCell[];
  readonly estimatedSeconds: number;
  /** Plan-time decisions the user should see (engine choices, segment sizes clamped to a path). */
  readonly notes?: readonly string[];
}

export interface AgentStatus {
  readonly name: string;
  readonly address: string;
  readonly healthy: boolean;
  readonly lastSeen?: string | undefined;
  readonly error?: string | undefined;
  readonly kernel?: string | undefined;
  readonly agentVersion?: string | undefined;
  readonly capabilities: ReadonlyArray<{ category: string; kind: string; variant: string; available: boolean; version: string; reason: string }>;
}

/** A progress event; ids increase by one per experiment so SSE can resume after Last-Event-ID. */
export interface ProgressEvent {
  readonly id: number;
  readonly experiment: string;
  readonly type: 'state' | 'run' | 'cell' | 'log';
  readonly at: string;
  readonly data: Record<string, unknown>;
}

export interface ControllerMetrics {
  readonly queueDepth: number;
  readonly runsDone: number;
  readonly runsFailed: number;
  readonly experimentsByState: Readonly<Record<string, number>>;
  readonly agentsHealthy: number;
  readonly agentsTotal: number;
}

export interface ControllerService {
  /** Validates (SeconetError INVALID_SPEC / UNSUPPORTED), stores and queues. */
  submit(spec: unknown): Promise<{ id: string }>;
  /** The dry-run plan, without storing anything. */
  plan(spec: unknown): Promise<PlanResult>;
  list(): Promise<ExperimentSummary[]>;
  /** Throws SeconetError NOT_FOUND. */
  get(id: string): Promise<ExperimentSummary>;
  /** Cancels; finished runs stay. Throws NOT_FOUND. */
  cancel(id: string): Promise<ExperimentSummary>;
  results(id: string): Promise<ResultRow[]>;
  /** The self-contained HTML report (also while running). */
  report(id: string): Promise<string>;
  agents(): Promise<AgentStatus[]>;
  /** Events after `afterId` (exclusive), then live ones until the signal aborts. */
  events(id: string, afterId: number, signal: AbortSignal): AsyncIterable<ProgressEvent>;
  metrics(): Promise<ControllerMetrics>;
}
