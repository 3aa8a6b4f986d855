// Original file: proto/seconet/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface Nic {
  'name'?: (string);
  'mac'?: (string);
  'mtu'?: (number);
  'speedMbps'?: (number | string | Long);
  'addresses'?: (string)[];
}

export interface Nic__Output {
  'name': (string);
  'mac': (string);
  'mtu': (number);
  'speedMbps': (number);
  'addresses': (string)[];
}
