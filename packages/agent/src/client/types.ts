// The controller's view of an agent: a typed, promise- and async-iterator-based client over
// gRPC with mutual TLS (client/client.ts implements it). Errors are SeconetErrors whose code
// follows the gRPC status (UNAVAILABLE is the only one retried automatically).

import type { ApplyRequest } from '../gen/seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse__Output } from '../gen/seconet/agent/v1/ApplyResponse.js';
import type { CheckRequest } from '../gen/seconet/agent/v1/CheckRequest.js';
import type { CheckResponse__Output } from '../gen/seconet/agent/v1/CheckResponse.js';
import type { GCRequest } from '../gen/seconet/agent/v1/GCRequest.js';
import type { GCResponse__Output } from '../gen/seconet/agent/v1/GCResponse.js';
import type { GetInfoResponse__Output } from '../gen/seconet/agent/v1/GetInfoResponse.js';
import type { MetricsSample__Output } from '../gen/seconet/agent/v1/MetricsSample.js';
import type { RunWorkloadRequest } from '../gen/seconet/agent/v1/RunWorkloadRequest.js';
import type { StreamMetricsRequest } from '../gen/seconet/agent/v1/StreamMetricsRequest.js';
import type { StartCaptureRequest } from '../gen/seconet/agent/v1/StartCaptureRequest.js';
import type { StartCaptureResponse__Output } from '../gen/seconet/agent/v1/StartCaptureResponse.js';
import type { StopCaptureRequest } from '../gen/seconet/agent/v1/StopCaptureRequest.js';
import type { StopCaptureResponse__Output } from '../gen/seconet/agent/v1/StopCaptureResponse.js';
import type { TeardownRequest } from '../gen/seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse__Output } from '../gen/seconet/agent/v1/TeardownResponse.js';
import type { WorkloadEvent__Output } from '../gen/seconet/agent/v1/WorkloadEvent.js';

/** PEM file paths. */
export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface AgentEndpoint {
  readonly name: string;
  /** host:port */
  readonly address: string;
  readonly tls: TlsFiles;
  /** Name in the agent's certificate (default: the agent name). */
  readonly serverName?: string;
}

export interface CallOptions {
  readonly deadlineMs?: number;
  readonly signal?: AbortSignal;
}

export interface AgentClient {
  readonly name: string;
  /** performance.now() when the agent last answered a call or sent a stream message; undefined before. */
  readonly lastHeardAt: number | undefined;
  /** performance.now() when a call last failed, other than by the caller's cancel; undefined before. */
  readonly lastFailedAt: number | undefined;
  getInfo(opts?: CallOptions): Promise<GetInfoResponse__Output>;
  apply(req: ApplyRequest, opts?: CallOptions): Promise<ApplyResponse__Output>;
  check(req: CheckRequest, opts?: CallOptions): Promise<CheckResponse__Output>;
  teardown(req: TeardownRequest, opts?: CallOptions): Promise<TeardownResponse__Output>;
  gc(req: GCRequest, opts?: CallOptions): Promise<GCResponse__Output>;
  /** Ends when the agent ends the stream; aborting the signal cancels the call (the agent stops its processes). */
  runWorkload(req: RunWorkloadRequest, opts?: CallOptions): AsyncIterable<WorkloadEvent__Output>;
  streamMetrics(req: StreamMetricsRequest, opts?: CallOptions): AsyncIterable<MetricsSample__Output>;
  /** Starts an underlay capture; resolves once it listens. */
  startCapture(req: StartCaptureRequest, opts?: CallOptions): Promise<StartCaptureResponse__Output>;
  /** Stops a capture and returns what crossed the underlay. */
  stopCapture(req: StopCaptureRequest, opts?: CallOptions): Promise<StopCaptureResponse__Output>;
  /** Resolves when the channel is ready or rejects after deadlineMs. */
  waitReady(deadlineMs: number): Promise<void>;
  close(): void;
}
