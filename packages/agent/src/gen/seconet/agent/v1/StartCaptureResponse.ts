// Original file: proto/seconet/agent/v1/agent.proto


export interface StartCaptureResponse {
  'captureId'?: (string);
  /**
   * the underlay device captured
   */
  'device'?: (string);
  /**
   * its network namespace ("" for the host's own)
   */
  'netns'?: (string);
}

export interface StartCaptureResponse__Output {
  'captureId': (string);
  /**
   * the underlay device captured
   */
  'device': (string);
  /**
   * its network namespace ("" for the host's own)
   */
  'netns': (string);
}
