// Original file: proto/seconet/agent/v1/agent.proto

import type { HostState as _seconet_agent_v1_HostState, HostState__Output as _seconet_agent_v1_HostState__Output } from '../../../seconet/agent/v1/HostState.js';

export interface ApplyRequest {
  'requestId'?: (string);
  /**
   * [a-z0-9][a-z0-9-]{0,62}
   */
  'scope'?: (string);
  'state'?: (_seconet_agent_v1_HostState | null);
}

export interface ApplyRequest__Output {
  'requestId': (string);
  /**
   * [a-z0-9][a-z0-9-]{0,62}
   */
  'scope': (string);
  'state': (_seconet_agent_v1_HostState__Output | null);
}
