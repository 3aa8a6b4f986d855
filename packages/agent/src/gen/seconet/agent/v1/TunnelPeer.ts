// Original file: proto/seconet/agent/v1/agent.proto


export interface TunnelPeer {
  /**
   * peer host (agent) name
   */
  'name'?: (string);
  'underlayAddress'?: (string);
  /**
   * peer's tunnel address, no prefix
   */
  'overlayAddress'?: (string);
  /**
   * CIDRs reached through this peer (its container networks)
   */
  'routes'?: (string)[];
  /**
   * WireGuard public key (base64) or tinc RSA public key (PEM)
   */
  'publicKey'?: (string);
  /**
   * peer's host index in the experiment (1-based)
   */
  'index'?: (number);
}

export interface TunnelPeer__Output {
  /**
   * peer host (agent) name
   */
  'name': (string);
  'underlayAddress': (string);
  /**
   * peer's tunnel address, no prefix
   */
  'overlayAddress': (string);
  /**
   * CIDRs reached through this peer (its container networks)
   */
  'routes': (string)[];
  /**
   * WireGuard public key (base64) or tinc RSA public key (PEM)
   */
  'publicKey': (string);
  /**
   * peer's host index in the experiment (1-based)
   */
  'index': (number);
}
