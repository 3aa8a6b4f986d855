// Original file: proto/seconet/agent/v1/agent.proto

import type { CpuTimes as _seconet_agent_v1_CpuTimes, CpuTimes__Output as _seconet_agent_v1_CpuTimes__Output } from '../../../seconet/agent/v1/CpuTimes.js';
import type { Memory as _seconet_agent_v1_Memory, Memory__Output as _seconet_agent_v1_Memory__Output } from '../../../seconet/agent/v1/Memory.js';
import type { InterfaceRates as _seconet_agent_v1_InterfaceRates, InterfaceRates__Output as _seconet_agent_v1_InterfaceRates__Output } from '../../../seconet/agent/v1/InterfaceRates.js';
import type { Long } from '@grpc/proto-loader';

export interface MetricsSample {
  /**
   * unix seconds
   */
  'timestamp'?: (number | string);
  /**
   * time the sample covers (longer when samples merged)
   */
  'intervalS'?: (number | string);
  /**
   * whole host, percent
   */
  'cpu'?: (_seconet_agent_v1_CpuTimes | null);
  'cores'?: (_seconet_agent_v1_CpuTimes)[];
  'memory'?: (_seconet_agent_v1_Memory | null);
  'interruptsPerS'?: (number | string);
  'contextSwitchesPerS'?: (number | string);
  'interfaces'?: (_seconet_agent_v1_InterfaceRates)[];
  /**
   * samples dropped for a slow reader since the stream began
   */
  'dropped'?: (number | string | Long);
  /**
   * samples merged into this one
   */
  'merged'?: (number | string | Long);
  /**
   * the agent process itself (sampler included), percent of all cores
   */
  'agentCpu'?: (number | string);
}

export interface MetricsSample__Output {
  /**
   * unix seconds
   */
  'timestamp': (number);
  /**
   * time the sample covers (longer when samples merged)
   */
  'intervalS': (number);
  /**
   * whole host, percent
   */
  'cpu': (_seconet_agent_v1_CpuTimes__Output | null);
  'cores': (_seconet_agent_v1_CpuTimes__Output)[];
  'memory': (_seconet_agent_v1_Memory__Output | null);
  'interruptsPerS': (number);
  'contextSwitchesPerS': (number);
  'interfaces': (_seconet_agent_v1_InterfaceRates__Output)[];
  /**
   * samples dropped for a slow reader since the stream began
   */
  'dropped': (number);
  /**
   * samples merged into this one
   */
  'merged': (number);
  /**
   * the agent process itself (sampler included), percent of all cores
   */
  'agentCpu': (number);
}
