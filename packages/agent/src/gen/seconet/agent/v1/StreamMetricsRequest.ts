// Original file: proto/seconet/agent/v1/agent.proto


export interface StreamMetricsRequest {
  /**
   * 0: 1000
   */
  'intervalMs'?: (number);
  /**
   * include the interfaces of this scope's containers; "" for host only
   */
  'scope'?: (string);
  /**
   * samples held for a slow reader; 0: 60
   */
  'buffer'?: (number);
}

export interface StreamMetricsRequest__Output {
  /**
   * 0: 1000
   */
  'intervalMs': (number);
  /**
   * include the interfaces of this scope's containers; "" for host only
   */
  'scope': (string);
  /**
   * samples held for a slow reader; 0: 60
   */
  'buffer': (number);
}
