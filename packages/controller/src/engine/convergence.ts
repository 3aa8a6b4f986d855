// Which metric decides a (cell, workload) group's convergence, and the decision function
// (core's decide() by default, injectable for tests). The main metric follows the workload
// kind; groups without one fall back to their first pair metric.

import { decide, type ConvergencePolicy, type Decision, type WorkloadKind } from '@seconet/core';

export type Decider = (policy: ConvergencePolicy, values: readonly number[]) => Decision;

export const defaultDecider: Decider = decide;

export const MAIN_METRIC: Readonly<Partial<Record<WorkloadKind, string>>> = {
  'latency-basic': 'rtt_avg',
  'throughput-basic': 'throughput',
  iperf3: 'throughput',
  'pairs-scale': 'throughput',
  'clients-scale': 'throughput',
  rr: 'tps',
  http: 'rps',
};
