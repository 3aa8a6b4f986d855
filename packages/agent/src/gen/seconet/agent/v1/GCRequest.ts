// Original file: proto/seconet/agent/v1/agent.proto


export interface GCRequest {
  'requestId'?: (string);
  /**
   * everything else the agent owns is removed
   */
  'keepScopes'?: (string)[];
}

export interface GCRequest__Output {
  'requestId': (string);
  /**
   * everything else the agent owns is removed
   */
  'keepScopes': (string)[];
}
