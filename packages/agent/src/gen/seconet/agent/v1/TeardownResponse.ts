// Original file: proto/seconet/agent/v1/agent.proto


export interface TeardownResponse {
  'removed'?: (string)[];
  'seconds'?: (number | string);
}

export interface TeardownResponse__Output {
  'removed': (string)[];
  'seconds': (number);
}
