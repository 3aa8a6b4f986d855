// Original file: proto/seconet/agent/v1/agent.proto

import type { Role as _seconet_agent_v1_Role, Role__Output as _seconet_agent_v1_Role__Output } from '../../../seconet/agent/v1/Role.js';
import type { WorkloadSpec as _seconet_agent_v1_WorkloadSpec, WorkloadSpec__Output as _seconet_agent_v1_WorkloadSpec__Output } from '../../../seconet/agent/v1/WorkloadSpec.js';
import type { WorkloadPair as _seconet_agent_v1_WorkloadPair, WorkloadPair__Output as _seconet_agent_v1_WorkloadPair__Output } from '../../../seconet/agent/v1/WorkloadPair.js';

export interface RunWorkloadRequest {
  'requestId'?: (string);
  'scope'?: (string);
  'runId'?: (string);
  'role'?: (_seconet_agent_v1_Role);
  'workload'?: (_seconet_agent_v1_WorkloadSpec | null);
  /**
   * pairs whose end of `role` lives on this host
   */
  'pairs'?: (_seconet_agent_v1_WorkloadPair)[];
  /**
   * hard deadline for the whole call
   */
  'timeoutMs'?: (number);
}

export interface RunWorkloadRequest__Output {
  'requestId': (string);
  'scope': (string);
  'runId': (string);
  'role': (_seconet_agent_v1_Role__Output);
  'workload': (_seconet_agent_v1_WorkloadSpec__Output | null);
  /**
   * pairs whose end of `role` lives on this host
   */
  'pairs': (_seconet_agent_v1_WorkloadPair__Output)[];
  /**
   * hard deadline for the whole call
   */
  'timeoutMs': (number);
}
