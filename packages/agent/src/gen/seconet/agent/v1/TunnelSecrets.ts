// Original file: proto/seconet/agent/v1/agent.proto


export interface TunnelSecrets {
  /**
   * WireGuard private key (base64) or tinc RSA private key (PEM)
   */
  'privateKey'?: (string);
  /**
   * IPsec PSK (hex), OpenVPN static key (hex, 2048 bit)
   */
  'preSharedKey'?: (string);
}

export interface TunnelSecrets__Output {
  /**
   * WireGuard private key (base64) or tinc RSA private key (PEM)
   */
  'privateKey': (string);
  /**
   * IPsec PSK (hex), OpenVPN static key (hex, 2048 bit)
   */
  'preSharedKey': (string);
}
