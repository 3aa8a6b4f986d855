// Original file: proto/seconet/agent/v1/agent.proto

import type { Cpu as _seconet_agent_v1_Cpu, Cpu__Output as _seconet_agent_v1_Cpu__Output } from '../../../seconet/agent/v1/Cpu.js';
import type { Nic as _seconet_agent_v1_Nic, Nic__Output as _seconet_agent_v1_Nic__Output } from '../../../seconet/agent/v1/Nic.js';
import type { Capability as _seconet_agent_v1_Capability, Capability__Output as _seconet_agent_v1_Capability__Output } from '../../../seconet/agent/v1/Capability.js';
import type { ToolVersion as _seconet_agent_v1_ToolVersion, ToolVersion__Output as _seconet_agent_v1_ToolVersion__Output } from '../../../seconet/agent/v1/ToolVersion.js';
import type { Long } from '@grpc/proto-loader';

export interface GetInfoResponse {
  /**
   * agent name from its configuration
   */
  'name'?: (string);
  'agentVersion'?: (string);
  /**
   * uname release
   */
  'kernel'?: (string);
  'hostname'?: (string);
  /**
   * prefix of every kernel object this agent owns
   */
  'namePrefix'?: (string);
  'underlayAddress'?: (string);
  'cpu'?: (_seconet_agent_v1_Cpu | null);
  'memoryBytes'?: (number | string | Long);
  'nics'?: (_seconet_agent_v1_Nic)[];
  'capabilities'?: (_seconet_agent_v1_Capability)[];
  'tools'?: (_seconet_agent_v1_ToolVersion)[];
  /**
   * unix seconds
   */
  'startedAt'?: (number | string);
  /**
   * scopes currently applied
   */
  'scopes'?: (string)[];
}

export interface GetInfoResponse__Output {
  /**
   * agent name from its configuration
   */
  'name': (string);
  'agentVersion': (string);
  /**
   * uname release
   */
  'kernel': (string);
  'hostname': (string);
  /**
   * prefix of every kernel object this agent owns
   */
  'namePrefix': (string);
  'underlayAddress': (string);
  'cpu': (_seconet_agent_v1_Cpu__Output | null);
  'memoryBytes': (number);
  'nics': (_seconet_agent_v1_Nic__Output)[];
  'capabilities': (_seconet_agent_v1_Capability__Output)[];
  'tools': (_seconet_agent_v1_ToolVersion__Output)[];
  /**
   * unix seconds
   */
  'startedAt': (number);
  /**
   * scopes currently applied
   */
  'scopes': (string)[];
}
