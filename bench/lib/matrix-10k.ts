// The matrix both matrix benchmarks use (bench/expand.ts, bench/enqueue.ts); bench/lib holds modules, not benchmarks: about 10,000 runs
// planned up front, on three hosts that offer every block the matrix names.

import type { CapabilityLike } from '@seconet/core';

/** 4 networks x 5 tunnels x 5 filters x 6 container counts x 4 rule counts (2400 cells, 720 of them impossible) x 6 workload instances x min 1. */
export const BENCH_SPEC = `
name: bench-expand
placement: multi-host
matrix:
  network: [bridge, ovs, routing, bpf]
  tunnel: [none, vxlan, wireguard, ipsec, openvpn]
  filter: [none, iptables, nftables, ovs, bpf]
  containers: [2, 8, 32, 64, 128, 256]
  rules: [0, 100, 1000, 10000]
workloads:
  - latency-basic
  - throughput-basic: {payload: [64, 653, 1370], engine: iperf3}
  - bursty
  - iperf3
repetitions: {min: 1, max: 5, ciRelWidth: 0.05}
`;

export const hosts = ['node-a', 'node-b', 'node-c'];
export const caps = new Map<string, CapabilityLike[]>(
  hosts.map((h) => [
    h,
    [
      ...['bridge', 'ovs', 'routing', 'bpf'].map((kind) => ({ category: 'network', kind, available: true })),
      ...['vxlan', 'wireguard', 'ipsec', 'openvpn'].map((kind) => ({ category: 'tunnel', kind, available: true })),
      ...['iptables', 'nftables', 'ovs', 'bpf'].map((kind) => ({ category: 'filter', kind, available: true })),
    ],
  ]),
);
