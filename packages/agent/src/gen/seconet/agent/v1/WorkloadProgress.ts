// Original file: proto/seconet/agent/v1/agent.proto


export interface WorkloadProgress {
  'pair'?: (string);
  /**
   * 0..1
   */
  'fraction'?: (number | string);
  'note'?: (string);
}

export interface WorkloadProgress__Output {
  'pair': (string);
  /**
   * 0..1
   */
  'fraction': (number);
  'note': (string);
}
