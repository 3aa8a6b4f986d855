// Original file: proto/seconet/agent/v1/agent.proto


export interface Metric {
  /**
   * "rtt_avg", "throughput", "jitter", "loss", "retransmits", ...
   */
  'name'?: (string);
  'value'?: (number | string);
  /**
   * "ms", "bit/s", "%", "count", ...
   */
  'unit'?: (string);
  /**
   * D-ITG flow id or "" for the pair total
   */
  'flow'?: (string);
}

export interface Metric__Output {
  /**
   * "rtt_avg", "throughput", "jitter", "loss", "retransmits", ...
   */
  'name': (string);
  'value': (number);
  /**
   * "ms", "bit/s", "%", "count", ...
   */
  'unit': (string);
  /**
   * D-ITG flow id or "" for the pair total
   */
  'flow': (string);
}
