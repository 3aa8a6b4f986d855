// When a (cell, workload) group has enough repetitions: the Student-t confidence interval of
// the mean of its main metric must be narrower than the policy's relative width. The main
// metric follows the workload kind; groups without it fall back to the first pair metric.

import type { WorkloadKind } from '@seconet/core';
import type { RepetitionPolicy } from './plan.js';

export interface Decision {
  readonly converged: boolean;
  readonly center: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly relHalfWidth: number;
}

export type Decider = (values: readonly number[], policy: RepetitionPolicy) => Decision;

export const MAIN_METRIC: Readonly<Partial<Record<WorkloadKind, string>>> = {
  'latency-basic': 'rtt_avg',
  'throughput-basic': 'throughput',
  iperf3: 'throughput',
  'pairs-scale': 'throughput',
  'clients-scale': 'throughput',
};

// Two-sided 95% Student-t quantiles for 1..30 degrees of freedom.
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function t95(df: number): number {
  return df < 1 ? Number.POSITIVE_INFINITY : (T95[df - 1] ?? 1.96);
}

/** Mean with a 95% t interval; converged when at least `min` values and the half-width is within ciRelWidth of the mean. */
export const decideMeanCi: Decider = (values, policy) => {
  const n = values.length;
  if (n === 0) return { converged: false, center: 0, ciLow: 0, ciHigh: 0, relHalfWidth: Number.POSITIVE_INFINITY };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { converged: policy.min <= 1, center: mean, ciLow: mean, ciHigh: mean, relHalfWidth: policy.min <= 1 ? 0 : Number.POSITIVE_INFINITY };
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (t95(n - 1) * sd) / Math.sqrt(n);
  const rel = mean === 0 ? (half === 0 ? 0 : Number.POSITIVE_INFINITY) : Math.abs(half / mean);
  return { converged: n >= policy.min && rel <= policy.ciRelWidth, center: mean, ciLow: mean - half, ciHigh: mean + half, relHalfWidth: rel };
};
