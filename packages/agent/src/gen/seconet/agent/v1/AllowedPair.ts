// Original file: proto/seconet/agent/v1/agent.proto


export interface AllowedPair {
  /**
   * container IPv4
   */
  'src'?: (string);
  /**
   * container IPv4
   */
  'dst'?: (string);
}

export interface AllowedPair__Output {
  /**
   * container IPv4
   */
  'src': (string);
  /**
   * container IPv4
   */
  'dst': (string);
}
