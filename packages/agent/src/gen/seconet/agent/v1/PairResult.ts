// Original file: proto/seconet/agent/v1/agent.proto

import type { Metric as _seconet_agent_v1_Metric, Metric__Output as _seconet_agent_v1_Metric__Output } from '../../../seconet/agent/v1/Metric.js';
import type { Series as _seconet_agent_v1_Series, Series__Output as _seconet_agent_v1_Series__Output } from '../../../seconet/agent/v1/Series.js';

export interface PairResult {
  'pair'?: (string);
  'metrics'?: (_seconet_agent_v1_Metric)[];
  'series'?: (_seconet_agent_v1_Series)[];
  'tool'?: (string);
  'toolVersion'?: (string);
  /**
   * the tool's own output, kept for audit
   */
  'rawOutput'?: (string);
  'startedAt'?: (number | string);
  'endedAt'?: (number | string);
  /**
   * the command line that produced it
   */
  'argv'?: (string)[];
}

export interface PairResult__Output {
  'pair': (string);
  'metrics': (_seconet_agent_v1_Metric__Output)[];
  'series': (_seconet_agent_v1_Series__Output)[];
  'tool': (string);
  'toolVersion': (string);
  /**
   * the tool's own output, kept for audit
   */
  'rawOutput': (string);
  'startedAt': (number);
  'endedAt': (number);
  /**
   * the command line that produced it
   */
  'argv': (string)[];
}
