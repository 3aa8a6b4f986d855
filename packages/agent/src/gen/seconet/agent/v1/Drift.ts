// Original file: proto/seconet/agent/v1/agent.proto


export interface Drift {
  /**
   * e.g. "link sn1vab12cd34", "nft table sn1f..."
   */
  'object'?: (string);
  'expected'?: (string);
  'observed'?: (string);
}

export interface Drift__Output {
  /**
   * e.g. "link sn1vab12cd34", "nft table sn1f..."
   */
  'object': (string);
  'expected': (string);
  'observed': (string);
}
