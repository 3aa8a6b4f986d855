// Original file: proto/seconet/agent/v1/agent.proto


export interface WorkloadError {
  /**
   * "" when it concerns the whole call
   */
  'pair'?: (string);
  /**
   * error registry code
   */
  'code'?: (string);
  'message'?: (string);
  'rawOutput'?: (string);
}

export interface WorkloadError__Output {
  /**
   * "" when it concerns the whole call
   */
  'pair': (string);
  /**
   * error registry code
   */
  'code': (string);
  'message': (string);
  'rawOutput': (string);
}
