// Original file: proto/seconet/agent/v1/agent.proto


export interface WorkloadReady {
  'pairs'?: (string)[];
  /**
   * unix seconds
   */
  'at'?: (number | string);
}

export interface WorkloadReady__Output {
  'pairs': (string)[];
  /**
   * unix seconds
   */
  'at': (number);
}
