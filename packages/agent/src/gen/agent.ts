import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AgentServiceClient as _seconet_agent_v1_AgentServiceClient, AgentServiceDefinition as _seconet_agent_v1_AgentServiceDefinition } from './seconet/agent/v1/AgentService.js';
import type { AllowedPair as _seconet_agent_v1_AllowedPair, AllowedPair__Output as _seconet_agent_v1_AllowedPair__Output } from './seconet/agent/v1/AllowedPair.js';
import type { ApplyRequest as _seconet_agent_v1_ApplyRequest, ApplyRequest__Output as _seconet_agent_v1_ApplyRequest__Output } from './seconet/agent/v1/ApplyRequest.js';
import type { ApplyResponse as _seconet_agent_v1_ApplyResponse, ApplyResponse__Output as _seconet_agent_v1_ApplyResponse__Output } from './seconet/agent/v1/ApplyResponse.js';
import type { Capability as _seconet_agent_v1_Capability, Capability__Output as _seconet_agent_v1_Capability__Output } from './seconet/agent/v1/Capability.js';
import type { CheckRequest as _seconet_agent_v1_CheckRequest, CheckRequest__Output as _seconet_agent_v1_CheckRequest__Output } from './seconet/agent/v1/CheckRequest.js';
import type { CheckResponse as _seconet_agent_v1_CheckResponse, CheckResponse__Output as _seconet_agent_v1_CheckResponse__Output } from './seconet/agent/v1/CheckResponse.js';
import type { ComponentTiming as _seconet_agent_v1_ComponentTiming, ComponentTiming__Output as _seconet_agent_v1_ComponentTiming__Output } from './seconet/agent/v1/ComponentTiming.js';
import type { ContainerSpec as _seconet_agent_v1_ContainerSpec, ContainerSpec__Output as _seconet_agent_v1_ContainerSpec__Output } from './seconet/agent/v1/ContainerSpec.js';
import type { ContainerStatus as _seconet_agent_v1_ContainerStatus, ContainerStatus__Output as _seconet_agent_v1_ContainerStatus__Output } from './seconet/agent/v1/ContainerStatus.js';
import type { Cpu as _seconet_agent_v1_Cpu, Cpu__Output as _seconet_agent_v1_Cpu__Output } from './seconet/agent/v1/Cpu.js';
import type { CpuTimes as _seconet_agent_v1_CpuTimes, CpuTimes__Output as _seconet_agent_v1_CpuTimes__Output } from './seconet/agent/v1/CpuTimes.js';
import type { Drift as _seconet_agent_v1_Drift, Drift__Output as _seconet_agent_v1_Drift__Output } from './seconet/agent/v1/Drift.js';
import type { Encapsulation as _seconet_agent_v1_Encapsulation, Encapsulation__Output as _seconet_agent_v1_Encapsulation__Output } from './seconet/agent/v1/Encapsulation.js';
import type { FilterSpec as _seconet_agent_v1_FilterSpec, FilterSpec__Output as _seconet_agent_v1_FilterSpec__Output } from './seconet/agent/v1/FilterSpec.js';
import type { GCRequest as _seconet_agent_v1_GCRequest, GCRequest__Output as _seconet_agent_v1_GCRequest__Output } from './seconet/agent/v1/GCRequest.js';
import type { GCResponse as _seconet_agent_v1_GCResponse, GCResponse__Output as _seconet_agent_v1_GCResponse__Output } from './seconet/agent/v1/GCResponse.js';
import type { GetInfoRequest as _seconet_agent_v1_GetInfoRequest, GetInfoRequest__Output as _seconet_agent_v1_GetInfoRequest__Output } from './seconet/agent/v1/GetInfoRequest.js';
import type { GetInfoResponse as _seconet_agent_v1_GetInfoResponse, GetInfoResponse__Output as _seconet_agent_v1_GetInfoResponse__Output } from './seconet/agent/v1/GetInfoResponse.js';
import type { HostState as _seconet_agent_v1_HostState, HostState__Output as _seconet_agent_v1_HostState__Output } from './seconet/agent/v1/HostState.js';
import type { InterfaceRates as _seconet_agent_v1_InterfaceRates, InterfaceRates__Output as _seconet_agent_v1_InterfaceRates__Output } from './seconet/agent/v1/InterfaceRates.js';
import type { Memory as _seconet_agent_v1_Memory, Memory__Output as _seconet_agent_v1_Memory__Output } from './seconet/agent/v1/Memory.js';
import type { Metric as _seconet_agent_v1_Metric, Metric__Output as _seconet_agent_v1_Metric__Output } from './seconet/agent/v1/Metric.js';
import type { MetricsSample as _seconet_agent_v1_MetricsSample, MetricsSample__Output as _seconet_agent_v1_MetricsSample__Output } from './seconet/agent/v1/MetricsSample.js';
import type { Nic as _seconet_agent_v1_Nic, Nic__Output as _seconet_agent_v1_Nic__Output } from './seconet/agent/v1/Nic.js';
import type { PairResult as _seconet_agent_v1_PairResult, PairResult__Output as _seconet_agent_v1_PairResult__Output } from './seconet/agent/v1/PairResult.js';
import type { RunWorkloadRequest as _seconet_agent_v1_RunWorkloadRequest, RunWorkloadRequest__Output as _seconet_agent_v1_RunWorkloadRequest__Output } from './seconet/agent/v1/RunWorkloadRequest.js';
import type { Series as _seconet_agent_v1_Series, Series__Output as _seconet_agent_v1_Series__Output } from './seconet/agent/v1/Series.js';
import type { StartCaptureRequest as _seconet_agent_v1_StartCaptureRequest, StartCaptureRequest__Output as _seconet_agent_v1_StartCaptureRequest__Output } from './seconet/agent/v1/StartCaptureRequest.js';
import type { StartCaptureResponse as _seconet_agent_v1_StartCaptureResponse, StartCaptureResponse__Output as _seconet_agent_v1_StartCaptureResponse__Output } from './seconet/agent/v1/StartCaptureResponse.js';
import type { StopCaptureRequest as _seconet_agent_v1_StopCaptureRequest, StopCaptureRequest__Output as _seconet_agent_v1_StopCaptureRequest__Output } from './seconet/agent/v1/StopCaptureRequest.js';
import type { StopCaptureResponse as _seconet_agent_v1_StopCaptureResponse, StopCaptureResponse__Output as _seconet_agent_v1_StopCaptureResponse__Output } from './seconet/agent/v1/StopCaptureResponse.js';
import type { StreamMetricsRequest as _seconet_agent_v1_StreamMetricsRequest, StreamMetricsRequest__Output as _seconet_agent_v1_StreamMetricsRequest__Output } from './seconet/agent/v1/StreamMetricsRequest.js';
import type { TeardownRequest as _seconet_agent_v1_TeardownRequest, TeardownRequest__Output as _seconet_agent_v1_TeardownRequest__Output } from './seconet/agent/v1/TeardownRequest.js';
import type { TeardownResponse as _seconet_agent_v1_TeardownResponse, TeardownResponse__Output as _seconet_agent_v1_TeardownResponse__Output } from './seconet/agent/v1/TeardownResponse.js';
import type { ToolVersion as _seconet_agent_v1_ToolVersion, ToolVersion__Output as _seconet_agent_v1_ToolVersion__Output } from './seconet/agent/v1/ToolVersion.js';
import type { TunnelPeer as _seconet_agent_v1_TunnelPeer, TunnelPeer__Output as _seconet_agent_v1_TunnelPeer__Output } from './seconet/agent/v1/TunnelPeer.js';
import type { TunnelSecrets as _seconet_agent_v1_TunnelSecrets, TunnelSecrets__Output as _seconet_agent_v1_TunnelSecrets__Output } from './seconet/agent/v1/TunnelSecrets.js';
import type { TunnelSpec as _seconet_agent_v1_TunnelSpec, TunnelSpec__Output as _seconet_agent_v1_TunnelSpec__Output } from './seconet/agent/v1/TunnelSpec.js';
import type { WorkloadError as _seconet_agent_v1_WorkloadError, WorkloadError__Output as _seconet_agent_v1_WorkloadError__Output } from './seconet/agent/v1/WorkloadError.js';
import type { WorkloadEvent as _seconet_agent_v1_WorkloadEvent, WorkloadEvent__Output as _seconet_agent_v1_WorkloadEvent__Output } from './seconet/agent/v1/WorkloadEvent.js';
import type { WorkloadPair as _seconet_agent_v1_WorkloadPair, WorkloadPair__Output as _seconet_agent_v1_WorkloadPair__Output } from './seconet/agent/v1/WorkloadPair.js';
import type { WorkloadProgress as _seconet_agent_v1_WorkloadProgress, WorkloadProgress__Output as _seconet_agent_v1_WorkloadProgress__Output } from './seconet/agent/v1/WorkloadProgress.js';
import type { WorkloadReady as _seconet_agent_v1_WorkloadReady, WorkloadReady__Output as _seconet_agent_v1_WorkloadReady__Output } from './seconet/agent/v1/WorkloadReady.js';
import type { WorkloadSpec as _seconet_agent_v1_WorkloadSpec, WorkloadSpec__Output as _seconet_agent_v1_WorkloadSpec__Output } from './seconet/agent/v1/WorkloadSpec.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  seconet: {
    agent: {
      v1: {
        AgentService: SubtypeConstructor<typeof grpc.Client, _seconet_agent_v1_AgentServiceClient> & { service: _seconet_agent_v1_AgentServiceDefinition }
        AllowedPair: MessageTypeDefinition<_seconet_agent_v1_AllowedPair, _seconet_agent_v1_AllowedPair__Output>
        ApplyRequest: MessageTypeDefinition<_seconet_agent_v1_ApplyRequest, _seconet_agent_v1_ApplyRequest__Output>
        ApplyResponse: MessageTypeDefinition<_seconet_agent_v1_ApplyResponse, _seconet_agent_v1_ApplyResponse__Output>
        Capability: MessageTypeDefinition<_seconet_agent_v1_Capability, _seconet_agent_v1_Capability__Output>
        CheckRequest: MessageTypeDefinition<_seconet_agent_v1_CheckRequest, _seconet_agent_v1_CheckRequest__Output>
        CheckResponse: MessageTypeDefinition<_seconet_agent_v1_CheckResponse, _seconet_agent_v1_CheckResponse__Output>
        ComponentTiming: MessageTypeDefinition<_seconet_agent_v1_ComponentTiming, _seconet_agent_v1_ComponentTiming__Output>
        ContainerSpec: MessageTypeDefinition<_seconet_agent_v1_ContainerSpec, _seconet_agent_v1_ContainerSpec__Output>
        ContainerStatus: MessageTypeDefinition<_seconet_agent_v1_ContainerStatus, _seconet_agent_v1_ContainerStatus__Output>
        Cpu: MessageTypeDefinition<_seconet_agent_v1_Cpu, _seconet_agent_v1_Cpu__Output>
        CpuTimes: MessageTypeDefinition<_seconet_agent_v1_CpuTimes, _seconet_agent_v1_CpuTimes__Output>
        Drift: MessageTypeDefinition<_seconet_agent_v1_Drift, _seconet_agent_v1_Drift__Output>
        Encapsulation: MessageTypeDefinition<_seconet_agent_v1_Encapsulation, _seconet_agent_v1_Encapsulation__Output>
        FilterSpec: MessageTypeDefinition<_seconet_agent_v1_FilterSpec, _seconet_agent_v1_FilterSpec__Output>
        GCRequest: MessageTypeDefinition<_seconet_agent_v1_GCRequest, _seconet_agent_v1_GCRequest__Output>
        GCResponse: MessageTypeDefinition<_seconet_agent_v1_GCResponse, _seconet_agent_v1_GCResponse__Output>
        GetInfoRequest: MessageTypeDefinition<_seconet_agent_v1_GetInfoRequest, _seconet_agent_v1_GetInfoRequest__Output>
        GetInfoResponse: MessageTypeDefinition<_seconet_agent_v1_GetInfoResponse, _seconet_agent_v1_GetInfoResponse__Output>
        HostState: MessageTypeDefinition<_seconet_agent_v1_HostState, _seconet_agent_v1_HostState__Output>
        InterfaceRates: MessageTypeDefinition<_seconet_agent_v1_InterfaceRates, _seconet_agent_v1_InterfaceRates__Output>
        Memory: MessageTypeDefinition<_seconet_agent_v1_Memory, _seconet_agent_v1_Memory__Output>
        Metric: MessageTypeDefinition<_seconet_agent_v1_Metric, _seconet_agent_v1_Metric__Output>
        MetricsSample: MessageTypeDefinition<_seconet_agent_v1_MetricsSample, _seconet_agent_v1_MetricsSample__Output>
        Nic: MessageTypeDefinition<_seconet_agent_v1_Nic, _seconet_agent_v1_Nic__Output>
        PairResult: MessageTypeDefinition<_seconet_agent_v1_PairResult, _seconet_agent_v1_PairResult__Output>
        Role: EnumTypeDefinition
        RunWorkloadRequest: MessageTypeDefinition<_seconet_agent_v1_RunWorkloadRequest, _seconet_agent_v1_RunWorkloadRequest__Output>
        Series: MessageTypeDefinition<_seconet_agent_v1_Series, _seconet_agent_v1_Series__Output>
        StartCaptureRequest: MessageTypeDefinition<_seconet_agent_v1_StartCaptureRequest, _seconet_agent_v1_StartCaptureRequest__Output>
        StartCaptureResponse: MessageTypeDefinition<_seconet_agent_v1_StartCaptureResponse, _seconet_agent_v1_StartCaptureResponse__Output>
        StopCaptureRequest: MessageTypeDefinition<_seconet_agent_v1_StopCaptureRequest, _seconet_agent_v1_StopCaptureRequest__Output>
        StopCaptureResponse: MessageTypeDefinition<_seconet_agent_v1_StopCaptureResponse, _seconet_agent_v1_StopCaptureResponse__Output>
        StreamMetricsRequest: MessageTypeDefinition<_seconet_agent_v1_StreamMetricsRequest, _seconet_agent_v1_StreamMetricsRequest__Output>
        TeardownRequest: MessageTypeDefinition<_seconet_agent_v1_TeardownRequest, _seconet_agent_v1_TeardownRequest__Output>
        TeardownResponse: MessageTypeDefinition<_seconet_agent_v1_TeardownResponse, _seconet_agent_v1_TeardownResponse__Output>
        ToolVersion: MessageTypeDefinition<_seconet_agent_v1_ToolVersion, _seconet_agent_v1_ToolVersion__Output>
        TunnelPeer: MessageTypeDefinition<_seconet_agent_v1_TunnelPeer, _seconet_agent_v1_TunnelPeer__Output>
        TunnelSecrets: MessageTypeDefinition<_seconet_agent_v1_TunnelSecrets, _seconet_agent_v1_TunnelSecrets__Output>
        TunnelSpec: MessageTypeDefinition<_seconet_agent_v1_TunnelSpec, _seconet_agent_v1_TunnelSpec__Output>
        Variant: EnumTypeDefinition
        WorkloadError: MessageTypeDefinition<_seconet_agent_v1_WorkloadError, _seconet_agent_v1_WorkloadError__Output>
        WorkloadEvent: MessageTypeDefinition<_seconet_agent_v1_WorkloadEvent, _seconet_agent_v1_WorkloadEvent__Output>
        WorkloadPair: MessageTypeDefinition<_seconet_agent_v1_WorkloadPair, _seconet_agent_v1_WorkloadPair__Output>
        WorkloadProgress: MessageTypeDefinition<_seconet_agent_v1_WorkloadProgress, _seconet_agent_v1_WorkloadProgress__Output>
        WorkloadReady: MessageTypeDefinition<_seconet_agent_v1_WorkloadReady, _seconet_agent_v1_WorkloadReady__Output>
        WorkloadSpec: MessageTypeDefinition<_seconet_agent_v1_WorkloadSpec, _seconet_agent_v1_WorkloadSpec__Output>
      }
    }
  }
}

