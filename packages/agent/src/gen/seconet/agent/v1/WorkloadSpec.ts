// Original file: proto/seconet/agent/v1/agent.proto

import type { Long } from '@grpc/proto-loader';

export interface WorkloadSpec {
  /**
   * "latency-basic" | "throughput-basic" | "bursty" | "tcp-100" | "quake3" | "video" | "iperf3"
   */
  'kind'?: (string);
  /**
   * "ping" | "uperf" | "iperf3" | "ditg"; chosen by the controller, never switched by the agent
   */
  'engine'?: (string);
  /**
   * "tcp" | "udp" where the workload has a choice
   */
  'protocol'?: (string);
  /**
   * bytes per message
   */
  'payload'?: (number);
  'durationMs'?: (number);
  /**
   * workload-specific overrides (documented per workload)
   */
  'params'?: ({[key: string]: string});
  /**
   * for generated traffic (video)
   */
  'seed'?: (number | string | Long);
}

export interface WorkloadSpec__Output {
  /**
   * "latency-basic" | "throughput-basic" | "bursty" | "tcp-100" | "quake3" | "video" | "iperf3"
   */
  'kind': (string);
  /**
   * "ping" | "uperf" | "iperf3" | "ditg"; chosen by the controller, never switched by the agent
   */
  'engine': (string);
  /**
   * "tcp" | "udp" where the workload has a choice
   */
  'protocol': (string);
  /**
   * bytes per message
   */
  'payload': (number);
  'durationMs': (number);
  /**
   * workload-specific overrides (documented per workload)
   */
  'params': ({[key: string]: string});
  /**
   * for generated traffic (video)
   */
  'seed': (number);
}
