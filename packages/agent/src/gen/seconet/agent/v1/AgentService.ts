// Original file: proto/seconet/agent/v1/agent.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApplyRequest as _seconet_agent_v1_ApplyRequest, ApplyRequest__Output as _seconet_agent_v1_ApplyRequest__Output } from '../../../seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse as _seconet_agent_v1_ApplyResponse, ApplyResponse__Output as _seconet_agent_v1_ApplyResponse__Output } from '../../../seconet/agent/v1/ApplyResponse.js';
import type { CheckRequest as _seconet_agent_v1_CheckRequest, CheckRequest__Output as _seconet_agent_v1_CheckRequest__Output } from '../../../seconet/agent/v1/CheckRequest.js';
import type { CheckResponse as _seconet_agent_v1_CheckResponse, CheckResponse__Output as _seconet_agent_v1_CheckResponse__Output } from '../../../seconet/agent/v1/CheckResponse.js';
import type { GCRequest as _seconet_agent_v1_GCRequest, GCRequest__Output as _seconet_agent_v1_GCRequest__Output } from '../../../seconet/agent/v1/GCRequest.js';
import type { GCResponse as _seconet_agent_v1_GCResponse, GCResponse__Output as _seconet_agent_v1_GCResponse__Output } from '../../../seconet/agent/v1/GCResponse.js';
import type { GetInfoRequest as _seconet_agent_v1_GetInfoRequest, GetInfoRequest__Output as _seconet_agent_v1_GetInfoRequest__Output } from '../../../seconet/agent/v1/GetInfoRequest.js';
import type { GetInfoResponse as _seconet_agent_v1_GetInfoResponse, GetInfoResponse__Output as _seconet_agent_v1_GetInfoResponse__Output } from '../../../seconet/agent/v1/GetInfoResponse.js';
import type { MetricsSample as _seconet_agent_v1_MetricsSample, MetricsSample__Output as _seconet_agent_v1_MetricsSample__Output } from '../../../seconet/agent/v1/MetricsSample.js';
import type { RunWorkloadRequest as _seconet_agent_v1_RunWorkloadRequest, RunWorkloadRequest__Output as _seconet_agent_v1_RunWorkloadRequest__Output } from '../../../seconet/agent/v1/RunWorkloadRequest.js';
import type { StartCaptureRequest as _seconet_agent_v1_StartCaptureRequest, StartCaptureRequest__Output as _seconet_agent_v1_StartCaptureRequest__Output } from '../../../seconet/agent/v1/StartCaptureRequest.js';
import type { StartCaptureResponse as _seconet_agent_v1_StartCaptureResponse, StartCaptureResponse__Output as _seconet_agent_v1_StartCaptureResponse__Output } from '../../../seconet/agent/v1/StartCaptureResponse.js';
import type { StopCaptureRequest as _seconet_agent_v1_StopCaptureRequest, StopCaptureRequest__Output as _seconet_agent_v1_StopCaptureRequest__Output } from '../../../seconet/agent/v1/StopCaptureRequest.js';
import type { StopCaptureResponse as _seconet_agent_v1_StopCaptureResponse, StopCaptureResponse__Output as _seconet_agent_v1_StopCaptureResponse__Output } from '../../../seconet/agent/v1/StopCaptureResponse.js';
import type { StreamMetricsRequest as _seconet_agent_v1_StreamMetricsRequest, StreamMetricsRequest__Output as _seconet_agent_v1_StreamMetricsRequest__Output } from '../../../seconet/agent/v1/StreamMetricsRequest.js';
import type { TeardownRequest as _seconet_agent_v1_TeardownRequest, TeardownRequest__Output as _seconet_agent_v1_TeardownRequest__Output } from '../../../seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse as _seconet_agent_v1_TeardownResponse, TeardownResponse__Output as _seconet_agent_v1_TeardownResponse__Output } from '../../../seconet/agent/v1/TeardownResponse.js';
import type { WorkloadEvent as _seconet_agent_v1_WorkloadEvent, WorkloadEvent__Output as _seconet_agent_v1_WorkloadEvent__Output } from '../../../seconet/agent/v1/WorkloadEvent.js';

export interface AgentServiceClient extends grpc.Client {
  /**
   * Reconciles the host towards the desired state of one scope.
   */
  Apply(argument: _seconet_agent_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _seconet_agent_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _seconet_agent_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  Apply(argument: _seconet_agent_v1_ApplyRequest, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reconciles the host towards the desired state of one scope.
   */
  apply(argument: _seconet_agent_v1_ApplyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _seconet_agent_v1_ApplyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _seconet_agent_v1_ApplyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  apply(argument: _seconet_agent_v1_ApplyRequest, callback: grpc.requestCallback<_seconet_agent_v1_ApplyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Reports drift between the last applied state of a scope and the kernel.
   */
  Check(argument: _seconet_agent_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _seconet_agent_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _seconet_agent_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  Check(argument: _seconet_agent_v1_CheckRequest, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reports drift between the last applied state of a scope and the kernel.
   */
  check(argument: _seconet_agent_v1_CheckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _seconet_agent_v1_CheckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _seconet_agent_v1_CheckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  check(argument: _seconet_agent_v1_CheckRequest, callback: grpc.requestCallback<_seconet_agent_v1_CheckResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes every object the agent owns that no kept scope lists.
   */
  GC(argument: _seconet_agent_v1_GCRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  GC(argument: _seconet_agent_v1_GCRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  GC(argument: _seconet_agent_v1_GCRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  GC(argument: _seconet_agent_v1_GCRequest, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes every object the agent owns that no kept scope lists.
   */
  gc(argument: _seconet_agent_v1_GCRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  gc(argument: _seconet_agent_v1_GCRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  gc(argument: _seconet_agent_v1_GCRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  gc(argument: _seconet_agent_v1_GCRequest, callback: grpc.requestCallback<_seconet_agent_v1_GCResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Identity, versions, host facts and the capability list.
   */
  GetInfo(argument: _seconet_agent_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _seconet_agent_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _seconet_agent_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _seconet_agent_v1_GetInfoRequest, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Identity, versions, host facts and the capability list.
   */
  getInfo(argument: _seconet_agent_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _seconet_agent_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _seconet_agent_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _seconet_agent_v1_GetInfoRequest, callback: grpc.requestCallback<_seconet_agent_v1_GetInfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts sinks or sources of a workload on the given pairs and streams their events.
   * Cancelling the call stops every process it started.
   */
  RunWorkload(argument: _seconet_agent_v1_RunWorkloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_WorkloadEvent__Output>;
  RunWorkload(argument: _seconet_agent_v1_RunWorkloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_WorkloadEvent__Output>;
  /**
   * Starts sinks or sources of a workload on the given pairs and streams their events.
   * Cancelling the call stops every process it started.
   */
  runWorkload(argument: _seconet_agent_v1_RunWorkloadRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_WorkloadEvent__Output>;
  runWorkload(argument: _seconet_agent_v1_RunWorkloadRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_WorkloadEvent__Output>;
  
  /**
   * Starts a packet capture on this host's underlay device (in its own network namespace),
   * answering once the capture listens. It stops by itself after max_duration_ms.
   */
  StartCapture(argument: _seconet_agent_v1_StartCaptureRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  StartCapture(argument: _seconet_agent_v1_StartCaptureRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  StartCapture(argument: _seconet_agent_v1_StartCaptureRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  StartCapture(argument: _seconet_agent_v1_StartCaptureRequest, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts a packet capture on this host's underlay device (in its own network namespace),
   * answering once the capture listens. It stops by itself after max_duration_ms.
   */
  startCapture(argument: _seconet_agent_v1_StartCaptureRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  startCapture(argument: _seconet_agent_v1_StartCaptureRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  startCapture(argument: _seconet_agent_v1_StartCaptureRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  startCapture(argument: _seconet_agent_v1_StartCaptureRequest, callback: grpc.requestCallback<_seconet_agent_v1_StartCaptureResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Stops a capture and reports what crossed the underlay: whether the marker payload was
   * seen in clear, and the encapsulations seen between this host and the given peers.
   */
  StopCapture(argument: _seconet_agent_v1_StopCaptureRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  StopCapture(argument: _seconet_agent_v1_StopCaptureRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  StopCapture(argument: _seconet_agent_v1_StopCaptureRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  StopCapture(argument: _seconet_agent_v1_StopCaptureRequest, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Stops a capture and reports what crossed the underlay: whether the marker payload was
   * seen in clear, and the encapsulations seen between this host and the given peers.
   */
  stopCapture(argument: _seconet_agent_v1_StopCaptureRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  stopCapture(argument: _seconet_agent_v1_StopCaptureRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  stopCapture(argument: _seconet_agent_v1_StopCaptureRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  stopCapture(argument: _seconet_agent_v1_StopCaptureRequest, callback: grpc.requestCallback<_seconet_agent_v1_StopCaptureResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * dstat-style host samples at a fixed interval, through a bounded buffer.
   */
  StreamMetrics(argument: _seconet_agent_v1_StreamMetricsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_MetricsSample__Output>;
  StreamMetrics(argument: _seconet_agent_v1_StreamMetricsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_MetricsSample__Output>;
  /**
   * dstat-style host samples at a fixed interval, through a bounded buffer.
   */
  streamMetrics(argument: _seconet_agent_v1_StreamMetricsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_MetricsSample__Output>;
  streamMetrics(argument: _seconet_agent_v1_StreamMetricsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_seconet_agent_v1_MetricsSample__Output>;
  
  /**
   * Removes everything of a scope. Succeeds when it is already gone.
   */
  Teardown(argument: _seconet_agent_v1_TeardownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  Teardown(argument: _seconet_agent_v1_TeardownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  Teardown(argument: _seconet_agent_v1_TeardownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  Teardown(argument: _seconet_agent_v1_TeardownRequest, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes everything of a scope. Succeeds when it is already gone.
   */
  teardown(argument: _seconet_agent_v1_TeardownRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  teardown(argument: _seconet_agent_v1_TeardownRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  teardown(argument: _seconet_agent_v1_TeardownRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  teardown(argument: _seconet_agent_v1_TeardownRequest, callback: grpc.requestCallback<_seconet_agent_v1_TeardownResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Reconciles the host towards the desired state of one scope.
   */
  Apply: grpc.handleUnaryCall<_seconet_agent_v1_ApplyRequest__Output, _seconet_agent_v1_ApplyResponse>;
  
  /**
   * Reports drift between the last applied state of a scope and the kernel.
   */
  Check: grpc.handleUnaryCall<_seconet_agent_v1_CheckRequest__Output, _seconet_agent_v1_CheckResponse>;
  
  /**
   * Removes every object the agent owns that no kept scope lists.
   */
  GC: grpc.handleUnaryCall<_seconet_agent_v1_GCRequest__Output, _seconet_agent_v1_GCResponse>;
  
  /**
   * Identity, versions, host facts and the capability list.
   */
  GetInfo: grpc.handleUnaryCall<_seconet_agent_v1_GetInfoRequest__Output, _seconet_agent_v1_GetInfoResponse>;
  
  /**
   * Starts sinks or sources of a workload on the given pairs and streams their events.
   * Cancelling the call stops every process it started.
   */
  RunWorkload: grpc.handleServerStreamingCall<_seconet_agent_v1_RunWorkloadRequest__Output, _seconet_agent_v1_WorkloadEvent>;
  
  /**
   * Starts a packet capture on this host's underlay device (in its own network namespace),
   * answering once the capture listens. It stops by itself after max_duration_ms.
   */
  StartCapture: grpc.handleUnaryCall<_seconet_agent_v1_StartCaptureRequest__Output, _seconet_agent_v1_StartCaptureResponse>;
  
  /**
   * Stops a capture and reports what crossed the underlay: whether the marker payload was
   * seen in clear, and the encapsulations seen between this host and the given peers.
   */
  StopCapture: grpc.handleUnaryCall<_seconet_agent_v1_StopCaptureRequest__Output, _seconet_agent_v1_StopCaptureResponse>;
  
  /**
   * dstat-style host samples at a fixed interval, through a bounded buffer.
   */
  StreamMetrics: grpc.handleServerStreamingCall<_seconet_agent_v1_StreamMetricsRequest__Output, _seconet_agent_v1_MetricsSample>;
  
  /**
   * Removes everything of a scope. Succeeds when it is already gone.
   */
  Teardown: grpc.handleUnaryCall<_seconet_agent_v1_TeardownRequest__Output, _seconet_agent_v1_TeardownResponse>;
  
}

export interface AgentServiceDefinition extends grpc.ServiceDefinition {
  Apply: MethodDefinition<_seconet_agent_v1_ApplyRequest, _seconet_agent_v1_ApplyResponse, _seconet_agent_v1_ApplyRequest__Output, _seconet_agent_v1_ApplyResponse__Output>
  Check: MethodDefinition<_seconet_agent_v1_CheckRequest, _seconet_agent_v1_CheckResponse, _seconet_agent_v1_CheckRequest__Output, _seconet_agent_v1_CheckResponse__Output>
  GC: MethodDefinition<_seconet_agent_v1_GCRequest, _seconet_agent_v1_GCResponse, _seconet_agent_v1_GCRequest__Output, _seconet_agent_v1_GCResponse__Output>
  GetInfo: MethodDefinition<_seconet_agent_v1_GetInfoRequest, _seconet_agent_v1_GetInfoResponse, _seconet_agent_v1_GetInfoRequest__Output, _seconet_agent_v1_GetInfoResponse__Output>
  RunWorkload: MethodDefinition<_seconet_agent_v1_RunWorkloadRequest, _seconet_agent_v1_WorkloadEvent, _seconet_agent_v1_RunWorkloadRequest__Output, _seconet_agent_v1_WorkloadEvent__Output>
  StartCapture: MethodDefinition<_seconet_agent_v1_StartCaptureRequest, _seconet_agent_v1_StartCaptureResponse, _seconet_agent_v1_StartCaptureRequest__Output, _seconet_agent_v1_StartCaptureResponse__Output>
  StopCapture: MethodDefinition<_seconet_agent_v1_StopCaptureRequest, _seconet_agent_v1_StopCaptureResponse, _seconet_agent_v1_StopCaptureRequest__Output, _seconet_agent_v1_StopCaptureResponse__Output>
  StreamMetrics: MethodDefinition<_seconet_agent_v1_StreamMetricsRequest, _seconet_agent_v1_MetricsSample, _seconet_agent_v1_StreamMetricsRequest__Output, _seconet_agent_v1_MetricsSample__Output>
  Teardown: MethodDefinition<_seconet_agent_v1_TeardownRequest, _seconet_agent_v1_TeardownResponse, _seconet_agent_v1_TeardownRequest__Output, _seconet_agent_v1_TeardownResponse__Output>
}
