// Original file: proto/seconet/agent/v1/agent.proto


export interface GCResponse {
  'removed'?: (string)[];
  'removedScopes'?: (string)[];
}

export interface GCResponse__Output {
  'removed': (string)[];
  'removedScopes': (string)[];
}
