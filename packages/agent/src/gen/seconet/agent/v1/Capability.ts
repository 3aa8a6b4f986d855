// Original file: proto/seconet/agent/v1/agent.proto

import type { Variant as _seconet_agent_v1_Variant, Variant__Output as _seconet_agent_v1_Variant__Output } from '../../../seconet/agent/v1/Variant.js';

/**
 * One building block as this host can offer it.
 */
export interface Capability {
  /**
   * "network" | "tunnel" | "filter" | "workload"
   */
  'category'?: (string);
  /**
   * "bridge", "wireguard", "iptables", "throughput-basic", ...
   */
  'kind'?: (string);
  'variant'?: (_seconet_agent_v1_Variant);
  'available'?: (boolean);
  /**
   * tool or kernel version behind it
   */
  'version'?: (string);
  /**
   * when not available: what is missing and what to do
   */
  'reason'?: (string);
  /**
   * for workloads: the tool that runs it ("uperf", "iperf3", "ditg", "ping")
   */
  'engine'?: (string);
  /**
   * Not available as far as the probe got, but the probe met a failure that may pass (a
   * timeout, a busy device, a host out of processes): not the kernel's answer. The agent
   * probes again; a planner must not rule the block out on it (Apply gives the answer).
   */
  'undetermined'?: (boolean);
}

/**
 * One building block as this host can offer it.
 */
export interface Capability__Output {
  /**
   * "network" | "tunnel" | "filter" | "workload"
   */
  'category': (string);
  /**
   * "bridge", "wireguard", "iptables", "throughput-basic", ...
   */
  'kind': (string);
  'variant': (_seconet_agent_v1_Variant__Output);
  'available': (boolean);
  /**
   * tool or kernel version behind it
   */
  'version': (string);
  /**
   * when not available: what is missing and what to do
   */
  'reason': (string);
  /**
   * for workloads: the tool that runs it ("uperf", "iperf3", "ditg", "ping")
   */
  'engine': (string);
  /**
   * Not available as far as the probe got, but the probe met a failure that may pass (a
   * timeout, a busy device, a host out of processes): not the kernel's answer. The agent
   * probes again; a planner must not rule the block out on it (Apply gives the answer).
   */
  'undetermined': (boolean);
}
