// Original file: proto/seconet/agent/v1/agent.proto


export interface ContainerSpec {
  /**
   * [a-z0-9][a-z0-9-]{0,31}, unique in the scope
   */
  'name'?: (string);
  /**
   * IPv4 inside container_cidr, without prefix length
   */
  'address'?: (string);
}

export interface ContainerSpec__Output {
  /**
   * [a-z0-9][a-z0-9-]{0,31}, unique in the scope
   */
  'name': (string);
  /**
   * IPv4 inside container_cidr, without prefix length
   */
  'address': (string);
}
