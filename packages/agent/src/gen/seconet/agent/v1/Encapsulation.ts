// Original file: proto/seconet/agent/v1/agent.proto


export interface Encapsulation {
  /**
   * "ESP", "ESP-in-UDP 4500", "WireGuard UDP 51820", "VXLAN UDP 4789", "GRE", "plain ICMP", ...
   */
  'name'?: (string);
  'packets'?: (number);
  /**
   * of those, packets carrying the marker in clear
   */
  'markerPackets'?: (number);
}

export interface Encapsulation__Output {
  /**
   * "ESP", "ESP-in-UDP 4500", "WireGuard UDP 51820", "VXLAN UDP 4789", "GRE", "plain ICMP", ...
   */
  'name': (string);
  'packets': (number);
  /**
   * of those, packets carrying the marker in clear
   */
  'markerPackets': (number);
}
