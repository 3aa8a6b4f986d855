// Original file: proto/seconet/agent/v1/agent.proto


export interface StartCaptureRequest {
  'requestId'?: (string);
  'scope'?: (string);
  /**
   * 4-16 bytes looked for in every captured packet
   */
  'marker'?: (Buffer | Uint8Array | string);
  /**
   * underlay IPv4 addresses of the other hosts of the cell
   */
  'peers'?: (string)[];
  /**
   * the capture stops by itself after this; 0: 30000, at most 120000
   */
  'maxDurationMs'?: (number);
}

export interface StartCaptureRequest__Output {
  'requestId': (string);
  'scope': (string);
  /**
   * 4-16 bytes looked for in every captured packet
   */
  'marker': (Buffer);
  /**
   * underlay IPv4 addresses of the other hosts of the cell
   */
  'peers': (string)[];
  /**
   * the capture stops by itself after this; 0: 30000, at most 120000
   */
  'maxDurationMs': (number);
}
