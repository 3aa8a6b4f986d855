// Original file: proto/seconet/agent/v1/agent.proto

import type { ContainerSpec as _seconet_agent_v1_ContainerSpec, ContainerSpec__Output as _seconet_agent_v1_ContainerSpec__Output } from '../../../seconet/agent/v1/ContainerSpec.js';
import type { TunnelSpec as _seconet_agent_v1_TunnelSpec, TunnelSpec__Output as _seconet_agent_v1_TunnelSpec__Output } from '../../../seconet/agent/v1/TunnelSpec.js';
import type { FilterSpec as _seconet_agent_v1_FilterSpec, FilterSpec__Output as _seconet_agent_v1_FilterSpec__Output } from '../../../seconet/agent/v1/FilterSpec.js';

/**
 * The desired state of one host for one scope.
 */
export interface HostState {
  /**
   * "bridge" | "ovs" | "routing" | "bpf"
   */
  'network'?: (string);
  /**
   * this host's container network, e.g. "198.19.1.0/24"
   */
  'containerCidr'?: (string);
  'containers'?: (_seconet_agent_v1_ContainerSpec)[];
  /**
   * absent or kind "none" with no peers: single host
   */
  'tunnel'?: (_seconet_agent_v1_TunnelSpec | null);
  /**
   * absent or kind "none": no isolation
   */
  'filter'?: (_seconet_agent_v1_FilterSpec | null);
  /**
   * container MTU; 0: derived from the tunnel's overhead
   */
  'mtu'?: (number);
}

/**
 * The desired state of one host for one scope.
 */
export interface HostState__Output {
  /**
   * "bridge" | "ovs" | "routing" | "bpf"
   */
  'network': (string);
  /**
   * this host's container network, e.g. "198.19.1.0/24"
   */
  'containerCidr': (string);
  'containers': (_seconet_agent_v1_ContainerSpec__Output)[];
  /**
   * absent or kind "none" with no peers: single host
   */
  'tunnel': (_seconet_agent_v1_TunnelSpec__Output | null);
  /**
   * absent or kind "none": no isolation
   */
  'filter': (_seconet_agent_v1_FilterSpec__Output | null);
  /**
   * container MTU; 0: derived from the tunnel's overhead
   */
  'mtu': (number);
}
