// What the REST API and the CLI need from the controller. The engine (engine/) implements it;
// the API (api/) depends on this interface only, so its tests run against a fake.

import type { ExperimentState, ResultRow, SkippedCell, Cell, RunKey } from '@seconet/core';
import type { TimeSplit } from './report/time-split.js';

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
  readonly capabilities: ReadonlyArray<{ category: string; kind: string; variant: string; available: boolean; version: string; reason: string; undetermined: boolean }>;
}

/** A progress event; ids increase by one per experiment so SSE can resume after Last-Event-ID. */
export interface ProgressEvent {
  readonly id: number;
  readonly experiment: string;
  readonly type: 'state' | 'run' | 'cell' | 'log' | 'phase';
  readonly at: string;
  readonly data: Record<string, unknown>;
}

/** A cell as the dashboard shows it: state, variants, setup seconds per building block, isolation verdict. */
export interface CellStatus {
  readonly id: string;
  readonly index: number;
  readonly network: string;
  readonly tunnel: string;
  readonly filter: string;
  readonly containers: number;
  readonly rules: number;
  readonly placement: string;
  readonly hosts: readonly string[];
  readonly state: 'pending' | 'measured' | 'invalid' | 'failed';
  readonly tunnelVariant: string;
  readonly filterVariant: string;
  readonly setupSeconds: Readonly<Record<string, number>>;
  /** true held, false broke, null not checked (no filter, or not reached yet). */
  readonly isolation: boolean | null;
  readonly isolationEvidence: string;
  readonly error?: string | undefined;
}

/** One run with its timing and, when it failed or was skipped, the reason. */
export interface RunStatus {
  readonly id: string;
  readonly cell: string;
  readonly workload: string;
  readonly repetition: number;
  readonly state: string;
  readonly attempts: number;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly error?: string | undefined;
}

/** One live host sample: CPU shares in percent and interface rates of the host's own namespace. */
export interface HostMetricsSample {
  readonly host: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly cpu?: { readonly usr: number; readonly sys: number; readonly siq: number; readonly hiq: number; readonly wai: number; readonly idle: number } | undefined;
  readonly interfaces: ReadonlyArray<{ readonly name: string; readonly rxBytesPerS: number; readonly txBytesPerS: number }>;
  /** Set instead of the figures when the host's stream failed; the others go on. */
  readonly error?: string | undefined;
  /**
   * Samples lost on the way to this reader so far (cumulative): what this host's agent dropped
   * for the stream plus what the merged stream dropped for a slow reader, of every host.
   */
  readonly dropped?: number | undefined;
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
  /**
   * Queues a paused experiment again (it paused itself on a full store disk). Throws NOT_FOUND,
   * CONFLICT when it is not paused or the disk still has too little free space.
   */
  resume(id: string): Promise<ExperimentSummary>;
  results(id: string): Promise<ResultRow[]>;
  /**
   * The same rows in pages, for streaming answers. Throws NOT_FOUND before the first page.
   * Optional: the API falls back to results().
   */
  resultPages?(id: string): Promise<AsyncIterable<readonly ResultRow[]>>;
  /** The self-contained HTML report (also while running). */
  report(id: string): Promise<string>;
  /**
   * Where the experiment's wall time went (report/time-split.ts), from stored timestamps; null
   * before it started. Throws NOT_FOUND. Optional: the API answers UNSUPPORTED without it.
   */
  timeSplit?(id: string): Promise<TimeSplit | null>;
  agents(): Promise<AgentStatus[]>;
  /** Events after `afterId` (exclusive), then live ones until the signal aborts. */
  events(id: string, afterId: number, signal: AbortSignal): AsyncIterable<ProgressEvent>;
  metrics(): Promise<ControllerMetrics>;
  /** Cells with setup times and isolation verdicts. Throws NOT_FOUND. */
  cells(id: string): Promise<CellStatus[]>;
  /** Runs in run order with state, times and reasons. Throws NOT_FOUND. */
  runs(id: string): Promise<RunStatus[]>;
  /** The gzip'd results bundle (export/bundle.ts) that `seconet report --bundle` renders. Throws NOT_FOUND. */
  bundle(id: string): Promise<Buffer>;
  /** Live host samples of the named agents until the signal aborts. Throws NOT_FOUND for an unknown agent. */
  hostMetrics(hosts: readonly string[], intervalMs: number, signal: AbortSignal): AsyncIterable<HostMetricsSample>;
}
