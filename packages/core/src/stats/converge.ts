// The repetition policy (spec `repetitions`): after each repetition of a run group the engine
// calls decide() with the group's per-repetition values. A group is converged when it has at
// least `min` values and the interval of its statistic reaches the requested level with a
// half-width of at most ciRelWidth x |center|; it needs more while it is below `max`.

import { summarize } from './describe.js';
import { meanInterval, medianInterval, type Interval } from './intervals.js';

export interface ConvergencePolicy {
  readonly min: number;
  readonly max: number;
  readonly ciRelWidth: number;
  readonly statistic: 'mean' | 'median';
  /** Default 0.95. */
  readonly confidence?: number;
}

export interface Decision {
  readonly n: number;
  readonly converged: boolean;
  /** Run another repetition. */
  readonly needMore: boolean;
  readonly center: number;
  readonly ci: Interval;
  /** Half the interval width over |center|; Infinity when undefined. */
  readonly relHalfWidth: number;
  readonly reason: string;
}

export function relativeHalfWidth(ci: Pick<Interval, 'low' | 'high'>, center: number): number {
  const half = (ci.high - ci.low) / 2;
  if (!Number.isFinite(half)) return Infinity;
  if (half === 0) return 0;
  return center === 0 ? Infinity : half / Math.abs(center);
}

export function decide(policy: ConvergencePolicy, values: readonly number[]): Decision {
  const level = policy.confidence ?? 0.95;
  const s = summarize(values);
  const n = s.n;
  const center = policy.statistic === 'median' ? s.median : s.mean;
  const ci = policy.statistic === 'median' ? medianInterval(values, level) : meanInterval(values, level);
  const rel = relativeHalfWidth(ci, center);
  const narrow = ci.coverage >= level && rel <= policy.ciRelWidth;
  const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : 'undefined');
  if (n < policy.min) return { n, converged: false, needMore: true, center, ci, relHalfWidth: rel, reason: `${n} of at least ${policy.min} repetitions` };
  if (narrow) return { n, converged: true, needMore: false, center, ci, relHalfWidth: rel, reason: `${policy.statistic} interval ±${pct(rel)} within ±${pct(policy.ciRelWidth)} after ${n}` };
  const why = ci.coverage < level ? `${n} values cannot give a ${pct(level)} ${policy.statistic} interval` : `interval ±${pct(rel)} wider than ±${pct(policy.ciRelWidth)}`;
  if (n >= policy.max) return { n, converged: false, needMore: false, center, ci, relHalfWidth: rel, reason: `not converged at max ${policy.max}: ${why}` };
  return { n, converged: false, needMore: true, center, ci, relHalfWidth: rel, reason: why };
}
