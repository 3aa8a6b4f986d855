import t from 'tap';
import { maxOf, meanInterval, minOf, medianInterval, orderStatisticCoverage, quantile7, relativeHalfWidth, summarize } from '@seconet/core';

// Reference values computed by hand from the textbook formulas (and as numpy/R give them):
// x = 2 4 4 4 5 5 7 9; mean 5; s = sqrt(32/7) = 2.1380899353;
// numpy.percentile(x, [25, 50, 75]) = 4, 4.5, 5.5 (R type 7); IQR 1.5, fences 1.75 / 7.75;
// t(0.975, 7) = 2.3646242516 (R qt(0.975, 7)); half-width = 2.3646242516 * s / sqrt(8) = 1.7874879064.
const X = [9, 2, 4, 5, 4, 7, 4, 5];

t.test('summary with R type 7 quartiles and Tukey whiskers', async (t) => {
  const s = summarize(X);
  t.equal(s.n, 8);
  t.equal(s.mean, 5);
  t.equal(s.median, 4.5);
  t.equal(s.q1, 4);
  t.equal(s.q3, 5.5);
  t.equal(s.iqr, 1.5);
  t.ok(Math.abs(s.sd - 2.1380899353) < 1e-9);
  t.equal(s.whiskerLow, 2);
  t.equal(s.whiskerHigh, 7);
  t.same(s.outliers, [9]);
  t.equal(s.min, 2);
  t.equal(s.max, 9);
  // numpy.percentile([1, 2, 3, 4], 10) = 1.3; R quantile(c(1,2,3,4), 0.9) = 3.7
  t.ok(Math.abs(quantile7([4, 1, 3, 2], 0.1) - 1.3) < 1e-12);
  t.ok(Math.abs(quantile7([4, 1, 3, 2], 0.9) - 3.7) < 1e-12);
  t.same(summarize([NaN, 3, Infinity]).n, 1, 'non-finite values are ignored');
  t.ok(Number.isNaN(summarize([]).mean));
  t.equal(summarize([5]).sd, 0);
});

t.test('t interval of the mean', async (t) => {
  const ci = meanInterval(X, 0.95);
  t.ok(Math.abs(ci.low - (5 - 1.7874879064)) < 1e-8, `low ${ci.low}`);
  t.ok(Math.abs(ci.high - (5 + 1.7874879064)) < 1e-8, `high ${ci.high}`);
  t.equal(ci.method, 't');
  // x = 99 100 101: s = 1, t(0.975, 2) = 4.3026527297, half = 4.3026527297 / sqrt(3) = 2.4841377114
  const c3 = meanInterval([99, 100, 101]);
  t.ok(Math.abs(c3.high - 102.4841377114) < 1e-8);
  // 90 %: t(0.95, 2) = 2.9199855804 -> half 1.6858547
  t.ok(Math.abs(meanInterval([99, 100, 101], 0.9).high - 101.6858547) < 1e-6);
  t.equal(meanInterval([1]).method, 'none');
});

t.test('order-statistic interval of the median', async (t) => {
  // n = 10: P(B <= 1) = 11/1024 -> coverage 0.978515625 with j = 2; j = 3 gives 1 - 2*56/1024 = 0.890625 < 0.95
  t.equal(orderStatisticCoverage(10, 2), 1 - 22 / 1024);
  const ci = medianInterval([10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
  t.same([ci.low, ci.high], [2, 9]);
  t.equal(ci.coverage, 0.978515625);
  // n = 8: j = 2 covers 1 - 2*9/256 = 0.9297 < 0.95, so j = 1 (min..max), coverage 1 - 2/256
  const c8 = medianInterval(X);
  t.same([c8.low, c8.high], [2, 9]);
  t.equal(c8.coverage, 1 - 2 / 256);
  // n = 5 cannot reach 95 %: min..max with coverage 1 - 2/32 = 0.9375
  const c5 = medianInterval([5, 1, 4, 2, 3]);
  t.same([c5.low, c5.high, c5.coverage], [1, 5, 0.9375]);
  // large n: normal approximation, j = floor((n - 1.96 sqrt(n)) / 2); n = 10000 -> j = 4902
  const big = Array.from({ length: 10000 }, (_, i) => i + 1);
  const cb = medianInterval(big);
  t.same([cb.low, cb.high], [4902, 10000 - 4902 + 1]);
});

t.test('relative half-width', async (t) => {
  t.equal(relativeHalfWidth({ low: 90, high: 110 }, 100), 0.1);
  t.equal(relativeHalfWidth({ low: 0, high: 0 }, 0), 0);
  t.equal(relativeHalfWidth({ low: -1, high: 1 }, 0), Infinity);
  t.equal(relativeHalfWidth({ low: -Infinity, high: Infinity }, 3), Infinity);
});

t.test('maxOf and minOf: any length, Math.max/min semantics', async (t) => {
  const big = Array.from({ length: 300_000 }, (_, i) => (i === 123_456 ? 9 : i === 7 ? -3 : 1));
  t.throws(() => Math.max(...big), /Maximum call stack/, 'the spread form fails at this length');
  t.equal(maxOf(big), 9);
  t.equal(minOf(big), -3);
  t.equal(maxOf(new Set([2, 5, 1])), 5, 'any iterable');
  t.equal(maxOf([]), -Infinity);
  t.equal(minOf([]), Infinity);
  t.ok(Number.isNaN(maxOf([1, NaN, 3])) && Number.isNaN(minOf([1, NaN, 3])), 'NaN propagates as in Math.max');
});
