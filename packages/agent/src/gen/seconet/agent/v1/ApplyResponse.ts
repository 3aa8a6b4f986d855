// Original file: proto/seconet/agent/v1/agent.proto

import type { ComponentTiming as _seconet_agent_v1_ComponentTiming, ComponentTiming__Output as _seconet_agent_v1_ComponentTiming__Output } from '../../../seconet/agent/v1/ComponentTiming.js';
import type { ContainerStatus as _seconet_agent_v1_ContainerStatus, ContainerStatus__Output as _seconet_agent_v1_ContainerStatus__Output } from '../../../seconet/agent/v1/ContainerStatus.js';
import type { Variant as _seconet_agent_v1_Variant, Variant__Output as _seconet_agent_v1_Variant__Output } from '../../../seconet/agent/v1/Variant.js';

export interface ApplyResponse {
  'changed'?: (boolean);
  'timings'?: (_seconet_agent_v1_ComponentTiming)[];
  'containers'?: (_seconet_agent_v1_ContainerStatus)[];
  'tunnelVariant'?: (_seconet_agent_v1_Variant);
  'filterVariant'?: (_seconet_agent_v1_Variant);
  /**
   * the container MTU in effect
   */
  'mtu'?: (number);
  'tunnelVersion'?: (string);
  'filterVersion'?: (string);
}

export interface ApplyResponse__Output {
  'changed': (boolean);
  'timings': (_seconet_agent_v1_ComponentTiming__Output)[];
  'containers': (_seconet_agent_v1_ContainerStatus__Output)[];
  'tunnelVariant': (_seconet_agent_v1_Variant__Output);
  'filterVariant': (_seconet_agent_v1_Variant__Output);
  /**
   * the container MTU in effect
   */
  'mtu': (number);
  'tunnelVersion': (string);
  'filterVersion': (string);
}
