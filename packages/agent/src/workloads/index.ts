// RunWorkload: sinks and sources of the workload tools inside containers (run.ts drives a
// call; one engine file per tool builds its argv and parses its output), and the workload
// part of GetInfo's capability list.
import type { Logger } from 'pino';
import type { CapabilityReport, ContainerHandle, ProbeContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import { findTool } from '../runner/tools.js';
import type { RunWorkloadRequest__Output } from '../gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { WorkloadEvent } from '../gen/seconet/agent/v1/WorkloadEvent.js';
import { KIND_ENGINES } from './plan.js';
import { ENGINES, runWorkloadCall } from './run.js';
import { toolVersion } from './tool-version.js';

export { KIND_ENGINES, resolvePlan, maxPayloadForMtu, type WorkloadPlan } from './plan.js';
export { PortRegistry, sinkPorts } from './port-registry.js';
export { runWorkloadCall, validateCall, parseListeningPorts, defaultTimeoutMs, ENGINES } from './run.js';
export { parsePing, pingArgv } from './ping.js';
export { parseIperf3, iperf3ClientArgv, iperf3ServerArgv } from './iperf3.js';
export { parseSockperf, sockperfClientArgv, sockperfServerArgv } from './sockperf.js';
export { parseWrk, wrkArgv, nginxArgv, nginxConfig } from './wrk.js';
export { parseUperf, uperfProfile, uperfMasterArgv, uperfSlaveArgv } from './uperf.js';
export { ditgFlowLines, ditgScripts, itgRecvArgv, packetRate } from './ditg.js';
export { parseItgDec, combineTotals, parseCombinedStats, stripSpinner } from './ditg-decode.js';
export { drawVideoStreams, SeededRandom, VIDEO_MODEL } from './video-model.js';

export interface WorkloadDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** The container of an applied scope, or undefined when unknown. */
  resolveContainer(scope: string, name: string): ContainerHandle | undefined;
  /** CPUs of the host for pinning source and sink tools (default: os.availableParallelism()). */
  readonly cores?: number;
}

/**
 * Runs one RunWorkload call: validates the request (SeconetError INVALID_ARGUMENT /
 * MISSING_TOOL before anything starts), starts the tools, emits events, and resolves when the
 * call is complete. Aborting `signal` stops every process it started.
 */
export async function runWorkload(deps: WorkloadDeps, req: RunWorkloadRequest__Output, emit: (e: WorkloadEvent) => void, signal: AbortSignal): Promise<void> {
  return runWorkloadCall(deps, req, emit, signal);
}

/** One report per workload kind and engine: available when both sides' tools are installed. */
export async function probeWorkloads(ctx: ProbeContext): Promise<CapabilityReport[]> {
  const out: CapabilityReport[] = [];
  for (const [kind, engines] of Object.entries(KIND_ENGINES)) {
    for (const engine of engines) {
      const e = ENGINES[engine];
      const tools = [...new Set([...e.tools('sink'), ...e.tools('source')])];
      const missing = tools.filter((t) => findTool(t) === null);
      const primary = tools.find((t) => t !== 'ITGRecv' && t !== 'ITGDec') ?? tools[0]!;
      out.push({
        category: 'workload',
        kind,
        variant: 'userspace',
        engine,
        available: missing.length === 0,
        version: missing.length === 0 ? await toolVersion(ctx.runner, primary) : '',
        reason: missing.length === 0 ? '' : `${missing.join(', ')} not installed${engine === 'uperf' ? ' (uperf is not packaged in Debian: build it from source, or run throughput-basic with engine iperf3)' : ''}`,
      });
    }
  }
  return out;
}
