// Descriptive statistics of one sample (a run group's per-repetition values, or the per-packet
// RTTs of a cell): what the report's tables and box plots show. Quantiles use R's type 7
// (numpy's default "linear"): h = (n-1)p, linear interpolation between the order statistics
// around h. Box-plot whiskers follow Tukey: the most extreme data within 1.5 IQR of the
// quartiles; everything beyond is an outlier.

import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';

export interface Summary {
  readonly n: number;
  readonly mean: number;
  readonly median: number;
  /** R type 7 quartiles. */
  readonly q1: number;
  readonly q3: number;
  readonly iqr: number;
  readonly min: number;
  readonly max: number;
  /** Sample standard deviation (n-1); 0 for one value. */
  readonly sd: number;
  readonly whiskerLow: number;
  readonly whiskerHigh: number;
  readonly outliers: readonly number[];
}

/** Finite values, ascending. */
export function sortedFinite(values: readonly number[]): number[] {
  return values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
}

/**
 * Largest and smallest value by a loop: `Math.max(...values)` passes every value as an argument
 * and throws "Maximum call stack size exceeded" past ~100k of them (a run's interface samples
 * at 1,000 containers are millions). -Infinity / Infinity for an empty list, as Math.max/min.
 */
export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m || Number.isNaN(v)) m = v;
  return m;
}

export function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) if (v < m || Number.isNaN(v)) m = v;
  return m;
}

/** R type 7 quantile of ascending data. */
export function quantileSorted7(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 1) return sorted[sorted.length - 1]!;
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const a = sorted[lo]!;
  const b = sorted[Math.min(lo + 1, sorted.length - 1)]!;
  return a + (h - lo) * (b - a);
}

export function quantile7(values: readonly number[], p: number): number {
  return quantileSorted7(sortedFinite(values), p);
}

/** n, mean, quartiles, whiskers, outliers, sd. Non-finite values are ignored; an empty sample gives NaNs. */
export function summarize(values: readonly number[]): Summary {
  const s = sortedFinite(values);
  const n = s.length;
  if (n === 0) return { n: 0, mean: NaN, median: NaN, q1: NaN, q3: NaN, iqr: NaN, min: NaN, max: NaN, sd: NaN, whiskerLow: NaN, whiskerHigh: NaN, outliers: [] };
  const q1 = quantileSorted7(s, 0.25);
  const q3 = quantileSorted7(s, 0.75);
  const iqr = q3 - q1;
  const lowFence = q1 - 1.5 * iqr;
  const highFence = q3 + 1.5 * iqr;
  const inside = s.filter((v) => v >= lowFence && v <= highFence);
  return {
    n,
    mean: ssMean(s),
    median: quantileSorted7(s, 0.5),
    q1,
    q3,
    iqr,
    min: s[0]!,
    max: s[n - 1]!,
    sd: n > 1 ? sampleStandardDeviation(s) : 0,
    whiskerLow: inside[0] ?? q1,
    whiskerHigh: inside[inside.length - 1] ?? q3,
    outliers: s.filter((v) => v < lowFence || v > highFence),
  };
}
