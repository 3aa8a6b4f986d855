// RunWorkload: sinks and sources of the workload tools inside containers.
import type { Logger } from 'pino';
import type { CapabilityReport, ContainerHandle, ProbeContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import type { RunWorkloadRequest__Output } from '../gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../gen/seconet/agent/v1/WorkloadEvent.js';

export interface WorkloadDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** The container of an applied scope, or undefined when unknown. */
  resolveContainer(scope: string, name: string): ContainerHandle | undefined;
}

/**
 * Runs one RunWorkload call: validates the request (SeconetError INVALID_ARGUMENT /
 * MISSING_TOOL before anything starts), starts the tools, emits events, and resolves when the
 * call is complete. Aborting `signal` stops every process it started.
 */
export async function runWorkload(_deps: WorkloadDeps, _req: RunWorkloadRequest__Output, _emit: (e: WorkloadEvent) => void, _signal: AbortSignal): Promise<void> {
  throw new Error('runWorkload: not implemented yet');
}

export async function probeWorkloads(_ctx: ProbeContext): Promise<CapabilityReport[]> {
  return [];
}
