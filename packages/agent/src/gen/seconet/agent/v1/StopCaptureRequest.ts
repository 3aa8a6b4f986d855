// Original file: proto/seconet/agent/v1/agent.proto


export interface StopCaptureRequest {
  'requestId'?: (string);
  'captureId'?: (string);
}

export interface StopCaptureRequest__Output {
  'requestId': (string);
  'captureId': (string);
}
