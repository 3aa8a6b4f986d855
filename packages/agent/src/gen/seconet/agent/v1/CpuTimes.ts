// Original file: proto/seconet/agent/v1/agent.proto


export interface CpuTimes {
  /**
   * "total", "cpu0", ...
   */
  'name'?: (string);
  'usr'?: (number | string);
  'sys'?: (number | string);
  'idle'?: (number | string);
  'wai'?: (number | string);
  'hiq'?: (number | string);
  'siq'?: (number | string);
  'stl'?: (number | string);
}

export interface CpuTimes__Output {
  /**
   * "total", "cpu0", ...
   */
  'name': (string);
  'usr': (number);
  'sys': (number);
  'idle': (number);
  'wai': (number);
  'hiq': (number);
  'siq': (number);
  'stl': (number);
}
