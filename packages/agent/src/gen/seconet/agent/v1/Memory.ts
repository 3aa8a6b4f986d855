// Original file: proto/seconet/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Memory {
  'used'?: (number | string | Long);
  'free'?: (number | string | Long);
  'buffers'?: (number | string | Long);
  'cached'?: (number | string | Long);
}

export interface Memory__Output {
  'used': (number);
  'free': (number);
  'buffers': (number);
  'cached': (number);
}
