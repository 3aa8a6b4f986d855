// The shape of a workload engine (ping, iperf3, uperf, D-ITG): which tools each side needs,
// which ports a sink holds, how to start a sink and how to run a source to a parsed result.
// The orchestrator (run.ts) owns everything around it: validation, ports, deadlines,
// cancellation, events. Engines start processes only through `ctx.spawn`, which tracks them
// so a cancel or a timeout stops every one by PID.

import type { Logger } from 'pino';
import type { Engine as EngineName } from '@seconet/core';
import type { ContainerHandle } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import type { Runner, SpawnOptions, Spawned } from '../runner/runner.js';
import type { WorkloadPair__Output } from '../gen/seconet/agent/v1/WorkloadPair.js';
import type { Metric } from '../gen/seconet/agent/v1/Metric.js';
import type { Series } from '../gen/seconet/agent/v1/Series.js';
import type { WorkloadPlan } from './plan.js';

export interface EngineContext {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** Private directory of this call (profiles, scripts, logs); removed when the call ends. */
  readonly workDir: string;
  /** Aborted on cancel or deadline. */
  readonly signal: AbortSignal;
  /** Starts a process and tracks it, so the call can stop it by PID. */
  spawn(argv: readonly string[], opts: SpawnOptions): Spawned;
}

/** A listening TCP port the sink must show before `ready`. */
export interface SinkHandle {
  readonly procs: readonly Spawned[];
  readonly listenPorts: readonly number[];
}

/** What a source run produced, before the orchestrator adds pair, times and bounds. */
export interface SourceOutcome {
  readonly metrics: Metric[];
  readonly series: Series[];
  readonly tool: string;
  readonly argv: readonly string[];
  readonly rawOutput: string;
}

export interface WorkloadEngine {
  readonly name: EngineName;
  /** Tools each side runs (names as the runner resolves them); without a plan, those of its measurements. */
  tools(side: 'sink' | 'source', plan?: WorkloadPlan): readonly string[];
  /** Ports the sink of `pair` holds in its namespace. */
  sinkPorts(plan: WorkloadPlan, pair: WorkloadPair__Output): number[];
  startSink(ctx: EngineContext, plan: WorkloadPlan, pair: WorkloadPair__Output, sink: ContainerHandle): Promise<SinkHandle>;
  runSource(ctx: EngineContext, plan: WorkloadPlan, pair: WorkloadPair__Output, source: ContainerHandle): Promise<SourceOutcome>;
}

/** A failure of the tool itself, with its output for the error event. */
export class ToolFailure extends Error {
  constructor(message: string, readonly rawOutput: string, readonly code: 'COMMAND_FAILED' | 'TIMEOUT' | 'CANCELLED' = 'COMMAND_FAILED') {
    super(message);
    this.name = 'ToolFailure';
  }
}

export const RAW_OUTPUT_LIMIT = 1 << 20;

/** Keeps raw output within RAW_OUTPUT_LIMIT bytes (head and tail, with a marker between). */
export function boundRaw(text: string, limit = RAW_OUTPUT_LIMIT): string {
  if (Buffer.byteLength(text, 'utf8') <= limit) return text;
  const half = Math.floor(limit / 2) - 64;
  const buf = Buffer.from(text, 'utf8');
  return `${buf.subarray(0, half).toString('utf8')}\n[... ${buf.length - 2 * half} bytes cut ...]\n${buf.subarray(buf.length - half).toString('utf8')}`;
}

export function metric(name: string, value: number, unit: string, flow = ''): Metric {
  return { name, value, unit, flow };
}

export function joinOutput(o: { stdout: string; stderr: string }): string {
  return o.stderr.trim() === '' ? o.stdout : `${o.stdout}${o.stdout.endsWith('\n') || o.stdout === '' ? '' : '\n'}--- stderr ---\n${o.stderr}`;
}
