// Original file: proto/seconet/agent/v1/agent.proto

import type { Drift as _seconet_agent_v1_Drift, Drift__Output as _seconet_agent_v1_Drift__Output } from '../../../seconet/agent/v1/Drift.js';

export interface CheckResponse {
  'inSync'?: (boolean);
  'drifts'?: (_seconet_agent_v1_Drift)[];
  /**
   * false when the agent has no journal for the scope
   */
  'known'?: (boolean);
}

export interface CheckResponse__Output {
  'inSync': (boolean);
  'drifts': (_seconet_agent_v1_Drift__Output)[];
  /**
   * false when the agent has no journal for the scope
   */
  'known': (boolean);
}
