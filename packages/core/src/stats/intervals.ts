// Confidence intervals for a run group's center.
// Mean: Student t, mean ± t(1-α/2, n-1)·s/√n (assumes roughly normal repetition means).
// Median: the distribution-free order-statistic interval [x(j), x(n+1-j)] with the largest j
// whose coverage 1 - 2·P(B ≤ j-1), B ~ Binomial(n, 1/2), still reaches the level (exact
// binomial up to n = 1000, then the normal approximation j = ⌊(n - z·√n)/2⌋). No resampling,
// so no seed and the same data always give the same interval. Small samples cannot reach
// every level (n = 5 covers at most 93.75 %); the interval then spans min..max and reports
// the coverage it has, and decide() never calls such a group converged.

import jStat from 'jstat';
import { sortedFinite } from './describe.js';

export interface Interval {
  readonly low: number;
  readonly high: number;
  /** Requested confidence level. */
  readonly level: number;
  /** Coverage actually achieved (below `level` when the sample is too small). */
  readonly coverage: number;
  readonly method: 't' | 'order-statistic' | 'none';
}

const NONE = (level: number): Interval => ({ low: -Infinity, high: Infinity, level, coverage: 0, method: 'none' });

export function meanInterval(values: readonly number[], level = 0.95): Interval {
  const s = sortedFinite(values);
  const n = s.length;
  if (n < 2) return NONE(level);
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const variance = s.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1);
  const half = jStat.studentt.inv(1 - (1 - level) / 2, n - 1) * Math.sqrt(variance / n);
  return { low: mean - half, high: mean + half, level, coverage: level, method: 't' };
}

/** Coverage of [x(j), x(n+1-j)] for the median (1-based j). */
export function orderStatisticCoverage(n: number, j: number): number {
  return 1 - 2 * jStat.binomial.cdf(j - 1, n, 0.5);
}

export function medianInterval(values: readonly number[], level = 0.95): Interval {
  const s = sortedFinite(values);
  const n = s.length;
  if (n < 2) return NONE(level);
  let j: number;
  if (n > 1000) {
    const z = jStat.normal.inv(1 - (1 - level) / 2, 0, 1);
    j = Math.max(1, Math.floor((n - z * Math.sqrt(n)) / 2));
  } else {
    j = 0;
    for (let k = 1; k <= Math.floor(n / 2); k++) {
      if (orderStatisticCoverage(n, k) >= level) j = k;
      else break;
    }
    if (j === 0) return { low: s[0]!, high: s[n - 1]!, level, coverage: orderStatisticCoverage(n, 1), method: 'order-statistic' };
  }
  return { low: s[j - 1]!, high: s[n - j]!, level, coverage: n > 1000 ? level : orderStatisticCoverage(n, j), method: 'order-statistic' };
}
