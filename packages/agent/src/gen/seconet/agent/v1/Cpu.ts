// Original file: proto/seconet/agent/v1/agent.proto


export interface Cpu {
  'model'?: (string);
  /**
   * logical cores
   */
  'cores'?: (number);
  'physicalCores'?: (number);
  'speedGhz'?: (number | string);
}

export interface Cpu__Output {
  'model': (string);
  /**
   * logical cores
   */
  'cores': (number);
  'physicalCores': (number);
  'speedGhz': (number);
}
