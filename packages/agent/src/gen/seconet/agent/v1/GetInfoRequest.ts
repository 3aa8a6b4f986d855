// Original file: proto/seconet/agent/v1/agent.proto


export interface GetInfoRequest {
}

export interface GetInfoRequest__Output {
}
