// Original file: proto/seconet/agent/v1/agent.proto


export interface Series {
  /**
   * "rtt", "bitrate", ...
   */
  'name'?: (string);
  'unit'?: (string);
  'values'?: (number | string)[];
  /**
   * 0 for samples without a time base (per-packet RTTs)
   */
  'intervalS'?: (number | string);
}

export interface Series__Output {
  /**
   * "rtt", "bitrate", ...
   */
  'name': (string);
  'unit': (string);
  'values': (number)[];
  /**
   * 0 for samples without a time base (per-packet RTTs)
   */
  'intervalS': (number);
}
