// Original file: proto/seconet/agent/v1/agent.proto

import type { Variant as _seconet_agent_v1_Variant, Variant__Output as _seconet_agent_v1_Variant__Output } from '../../../seconet/agent/v1/Variant.js';

/**
 * Setup cost of one component: a result in its own right.
 */
export interface ComponentTiming {
  /**
   * "containers" | "network" | "tunnel" | "filter"
   */
  'component'?: (string);
  'kind'?: (string);
  'variant'?: (_seconet_agent_v1_Variant);
  'seconds'?: (number | string);
  'changed'?: (boolean);
}

/**
 * Setup cost of one component: a result in its own right.
 */
export interface ComponentTiming__Output {
  /**
   * "containers" | "network" | "tunnel" | "filter"
   */
  'component': (string);
  'kind': (string);
  'variant': (_seconet_agent_v1_Variant__Output);
  'seconds': (number);
  'changed': (boolean);
}
