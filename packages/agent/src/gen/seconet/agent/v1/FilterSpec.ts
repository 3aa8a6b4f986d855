// Original file: proto/seconet/agent/v1/agent.proto

import type { AllowedPair as _seconet_agent_v1_AllowedPair, AllowedPair__Output as _seconet_agent_v1_AllowedPair__Output } from '../../../seconet/agent/v1/AllowedPair.js';

export interface FilterSpec {
  /**
   * "none" | "iptables" | "nftables" | "ovs" | "bpf"
   */
  'kind'?: (string);
  /**
   * allowed in both directions; everything else between guarded networks is dropped
   */
  'allow'?: (_seconet_agent_v1_AllowedPair)[];
  /**
   * non-matching rules placed before the allow rules
   */
  'extraRules'?: (number);
  /**
   * CIDRs under default deny (the experiment's container networks)
   */
  'guarded'?: (string)[];
  /**
   * "" or "address": extra rules differ by address (never-assigned pairs); "port": extra rules are the allowed pairs restricted to destination port ranges the traffic never uses, so the allowed flow matches only the last rule
   */
  'ruleMatch'?: (string);
}

export interface FilterSpec__Output {
  /**
   * "none" | "iptables" | "nftables" | "ovs" | "bpf"
   */
  'kind': (string);
  /**
   * allowed in both directions; everything else between guarded networks is dropped
   */
  'allow': (_seconet_agent_v1_AllowedPair__Output)[];
  /**
   * non-matching rules placed before the allow rules
   */
  'extraRules': (number);
  /**
   * CIDRs under default deny (the experiment's container networks)
   */
  'guarded': (string)[];
  /**
   * "" or "address": extra rules differ by address (never-assigned pairs); "port": extra rules are the allowed pairs restricted to destination port ranges the traffic never uses, so the allowed flow matches only the last rule
   */
  'ruleMatch': (string);
}
