// Original file: proto/seconet/agent/v1/agent.proto

import type { WorkloadReady as _seconet_agent_v1_WorkloadReady, WorkloadReady__Output as _seconet_agent_v1_WorkloadReady__Output } from '../../../seconet/agent/v1/WorkloadReady.js';
import type { WorkloadProgress as _seconet_agent_v1_WorkloadProgress, WorkloadProgress__Output as _seconet_agent_v1_WorkloadProgress__Output } from '../../../seconet/agent/v1/WorkloadProgress.js';
import type { PairResult as _seconet_agent_v1_PairResult, PairResult__Output as _seconet_agent_v1_PairResult__Output } from '../../../seconet/agent/v1/PairResult.js';
import type { WorkloadError as _seconet_agent_v1_WorkloadError, WorkloadError__Output as _seconet_agent_v1_WorkloadError__Output } from '../../../seconet/agent/v1/WorkloadError.js';

export interface WorkloadEvent {
  'ready'?: (_seconet_agent_v1_WorkloadReady | null);
  'progress'?: (_seconet_agent_v1_WorkloadProgress | null);
  'result'?: (_seconet_agent_v1_PairResult | null);
  'error'?: (_seconet_agent_v1_WorkloadError | null);
  'event'?: "ready"|"progress"|"result"|"error";
}

export interface WorkloadEvent__Output {
  'ready'?: (_seconet_agent_v1_WorkloadReady__Output | null);
  'progress'?: (_seconet_agent_v1_WorkloadProgress__Output | null);
  'result'?: (_seconet_agent_v1_PairResult__Output | null);
  'error'?: (_seconet_agent_v1_WorkloadError__Output | null);
  'event'?: "ready"|"progress"|"result"|"error";
}
