// Original file: proto/seconet/agent/v1/agent.proto


export interface ContainerStatus {
  'name'?: (string);
  /**
   * network namespace name (ip netns)
   */
  'netns'?: (string);
  /**
   * host-side interface
   */
  'interface'?: (string);
  'address'?: (string);
  'mac'?: (string);
}

export interface ContainerStatus__Output {
  'name': (string);
  /**
   * network namespace name (ip netns)
   */
  'netns': (string);
  /**
   * host-side interface
   */
  'interface': (string);
  'address': (string);
  'mac': (string);
}
