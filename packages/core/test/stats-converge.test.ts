import t from 'tap';
import { decide, type ConvergencePolicy } from '@seconet/core';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs repetitions the way the engine does: until decide() says stop. */
function sweep(policy: ConvergencePolicy, next: () => number): { n: number; converged: boolean } {
  const values: number[] = [];
  for (;;) {
    values.push(next());
    const d = decide(policy, values);
    if (!d.needMore) return { n: d.n, converged: d.converged };
    if (values.length > 1000) throw new Error('runaway');
  }
}

const MEAN: ConvergencePolicy = { min: 3, max: 10, ciRelWidth: 0.05, statistic: 'mean' };
const MEDIAN: ConvergencePolicy = { min: 3, max: 10, ciRelWidth: 0.05, statistic: 'median' };

t.test('below min always needs more', async (t) => {
  const d = decide(MEAN, [100, 100]);
  t.equal(d.converged, false);
  t.equal(d.needMore, true);
  t.match(d.reason, /2 of at least 3/);
});

t.test('stable data stops early', async (t) => {
  const r = prng(1);
  const stable = sweep(MEAN, () => 1000 + (r() - 0.5) * 10); // ±0.5 %
  t.same(stable, { n: 3, converged: true });
  const d = decide(MEAN, [999, 1000, 1001]);
  t.equal(d.converged, true);
  t.ok(d.relHalfWidth < 0.01);
  t.equal(d.center, 1000);
});

t.test('noisy data runs to max and is reported unconverged', async (t) => {
  const r = prng(2);
  const noisy = sweep(MEAN, () => 1000 * (0.5 + r())); // ±50 %
  t.same(noisy, { n: 10, converged: false });
  const d = decide(MEAN, Array.from({ length: 10 }, (_, i) => (i % 2 ? 500 : 1500)));
  t.equal(d.needMore, false);
  t.match(d.reason, /not converged at max 10/);
});

t.test('moderate noise converges between min and max', async (t) => {
  const r = prng(3);
  const res = sweep(MEAN, () => 1000 * (1 + (r() - 0.5) * 0.12)); // uniform ±6 %, sd ~3.5 %
  t.ok(res.converged, 'converged');
  t.ok(res.n > 3 && res.n <= 10, `n = ${res.n}`);
});

t.test('median needs enough values to reach the level', async (t) => {
  const d5 = decide(MEDIAN, [1000, 1000, 1000, 1000, 1000]);
  t.equal(d5.converged, false, 'five values cover only 93.75 %');
  t.equal(d5.needMore, true);
  t.match(d5.reason, /cannot give a 95.0 % median interval/);
  const r = prng(4);
  t.same(sweep(MEDIAN, () => 1000 + r()), { n: 6, converged: true });
  // at max 5 the median can never converge at 95 %
  t.same(sweep({ ...MEDIAN, max: 5 }, () => 1000), { n: 5, converged: false });
});

t.test('an explicit confidence level', async (t) => {
  // x = 90 100 110: s = 10; 80 %: t(0.9, 2) = 1.8856180832 -> half 10.886; 0.10886 <= 0.11
  const d = decide({ ...MEAN, ciRelWidth: 0.11, confidence: 0.8 }, [90, 100, 110]);
  t.equal(d.converged, true);
  t.ok(Math.abs(d.relHalfWidth - 0.10886621) < 1e-6);
  t.equal(decide({ ...MEAN, ciRelWidth: 0.11 }, [90, 100, 110]).converged, false, '95 % is wider');
});
