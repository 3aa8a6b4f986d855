// Original file: proto/seconet/agent/v1/agent.proto

import type { Variant as _seconet_agent_v1_Variant, Variant__Output as _seconet_agent_v1_Variant__Output } from '../../../seconet/agent/v1/Variant.js';
import type { TunnelPeer as _seconet_agent_v1_TunnelPeer, TunnelPeer__Output as _seconet_agent_v1_TunnelPeer__Output } from '../../../seconet/agent/v1/TunnelPeer.js';
import type { TunnelSecrets as _seconet_agent_v1_TunnelSecrets, TunnelSecrets__Output as _seconet_agent_v1_TunnelSecrets__Output } from '../../../seconet/agent/v1/TunnelSecrets.js';

export interface TunnelSpec {
  /**
   * "none" | "ipip" | "gre" | "vxlan" | "geneve" | "ipsec" | "wireguard" | "openvpn" | "tinc"
   */
  'kind'?: (string);
  'variant'?: (_seconet_agent_v1_Variant);
  /**
   * empty: the kind's default (see docs/spec.md)
   */
  'cipher'?: (string);
  /**
   * this host's underlay IPv4
   */
  'localAddress'?: (string);
  /**
   * this host's tunnel address with prefix, e.g. "198.18.1.1/24"
   */
  'overlayAddress'?: (string);
  'peers'?: (_seconet_agent_v1_TunnelPeer)[];
  /**
   * generated per scope by the controller; never logged
   */
  'secrets'?: (_seconet_agent_v1_TunnelSecrets | null);
  /**
   * UDP/TCP port where the kind has one; 0: the kind's default
   */
  'port'?: (number);
  /**
   * VXLAN / GENEVE network identifier; 0: derived from the scope
   */
  'vni'?: (number);
}

export interface TunnelSpec__Output {
  /**
   * "none" | "ipip" | "gre" | "vxlan" | "geneve" | "ipsec" | "wireguard" | "openvpn" | "tinc"
   */
  'kind': (string);
  'variant': (_seconet_agent_v1_Variant__Output);
  /**
   * empty: the kind's default (see docs/spec.md)
   */
  'cipher': (string);
  /**
   * this host's underlay IPv4
   */
  'localAddress': (string);
  /**
   * this host's tunnel address with prefix, e.g. "198.18.1.1/24"
   */
  'overlayAddress': (string);
  'peers': (_seconet_agent_v1_TunnelPeer__Output)[];
  /**
   * generated per scope by the controller; never logged
   */
  'secrets': (_seconet_agent_v1_TunnelSecrets__Output | null);
  /**
   * UDP/TCP port where the kind has one; 0: the kind's default
   */
  'port': (number);
  /**
   * VXLAN / GENEVE network identifier; 0: derived from the scope
   */
  'vni': (number);
}
