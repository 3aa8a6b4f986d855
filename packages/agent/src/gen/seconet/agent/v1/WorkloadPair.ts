// Original file: proto/seconet/agent/v1/agent.proto


export interface WorkloadPair {
  /**
   * pair id within the cell, e.g. "p0"
   */
  'pair'?: (string);
  'sourceContainer'?: (string);
  'sourceAddress'?: (string);
  'sinkContainer'?: (string);
  'sinkAddress'?: (string);
  /**
   * sink port (control port for tools that use one); unique per sink container
   */
  'port'?: (number);
}

export interface WorkloadPair__Output {
  /**
   * pair id within the cell, e.g. "p0"
   */
  'pair': (string);
  'sourceContainer': (string);
  'sourceAddress': (string);
  'sinkContainer': (string);
  'sinkAddress': (string);
  /**
   * sink port (control port for tools that use one); unique per sink container
   */
  'port': (number);
}
