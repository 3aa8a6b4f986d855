// Original file: proto/seconet/agent/v1/agent.proto


export interface InterfaceRates {
  /**
   * "" for the host's own namespace
   */
  'netns'?: (string);
  'name'?: (string);
  'rxBytesPerS'?: (number | string);
  'txBytesPerS'?: (number | string);
  'rxPacketsPerS'?: (number | string);
  'txPacketsPerS'?: (number | string);
}

export interface InterfaceRates__Output {
  /**
   * "" for the host's own namespace
   */
  'netns': (string);
  'name': (string);
  'rxBytesPerS': (number);
  'txBytesPerS': (number);
  'rxPacketsPerS': (number);
  'txPacketsPerS': (number);
}
