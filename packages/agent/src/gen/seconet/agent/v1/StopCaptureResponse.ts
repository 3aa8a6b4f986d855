// Original file: proto/seconet/agent/v1/agent.proto

import type { Encapsulation as _seconet_agent_v1_Encapsulation, Encapsulation__Output as _seconet_agent_v1_Encapsulation__Output } from '../../../seconet/agent/v1/Encapsulation.js';

export interface StopCaptureResponse {
  /**
   * packets captured
   */
  'packets'?: (number);
  /**
   * packets that carried the marker in clear
   */
  'markerPackets'?: (number);
  /**
   * between this host and the peers, most packets first
   */
  'encapsulations'?: (_seconet_agent_v1_Encapsulation)[];
  'device'?: (string);
  /**
   * the capture command
   */
  'argv'?: (string)[];
  /**
   * the packet limit was reached
   */
  'truncated'?: (boolean);
}

export interface StopCaptureResponse__Output {
  /**
   * packets captured
   */
  'packets': (number);
  /**
   * packets that carried the marker in clear
   */
  'markerPackets': (number);
  /**
   * between this host and the peers, most packets first
   */
  'encapsulations': (_seconet_agent_v1_Encapsulation__Output)[];
  'device': (string);
  /**
   * the capture command
   */
  'argv': (string)[];
  /**
   * the packet limit was reached
   */
  'truncated': (boolean);
}
