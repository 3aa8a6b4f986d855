// Original file: proto/seconet/agent/v1/agent.proto


export interface CheckRequest {
  'scope'?: (string);
}

export interface CheckRequest__Output {
  'scope': (string);
}
