// Original file: proto/seconet/agent/v1/agent.proto


export interface TeardownRequest {
  'requestId'?: (string);
  'scope'?: (string);
}

export interface TeardownRequest__Output {
  'requestId': (string);
  'scope': (string);
}
