// The shared waiting helpers: sleep ends early on abort, pollUntil is bounded, sameRules compares in order.
import t from 'tap';
import { pollUntil, sameRules, sleep } from '../src/wait.js';

t.test('sleep waits, and ends at once on abort', async (t) => {
  const t0 = Date.now();
  await sleep(50);
  t.ok(Date.now() - t0 >= 45);
  const ac = new AbortController();
  const t1 = Date.now();
  setTimeout(() => ac.abort(), 20);
  await sleep(5000, ac.signal);
  t.ok(Date.now() - t1 < 1000, 'abort ends the sleep');
  const t2 = Date.now();
  await sleep(5000, AbortSignal.abort());
  t.ok(Date.now() - t2 < 100, 'an aborted signal does not sleep at all');
});

t.test('pollUntil: true once the condition holds, false at the deadline', async (t) => {
  let n = 0;
  t.equal(await pollUntil(() => ++n >= 3, 1000, 5), true);
  t.equal(n, 3);
  const t0 = Date.now();
  t.equal(await pollUntil(async () => false, 100, 10), false);
  t.ok(Date.now() - t0 >= 95 && Date.now() - t0 < 1000);
  t.equal(await pollUntil(() => false, 10_000, 10, AbortSignal.abort()), false, 'abort ends the poll');
});

t.test('sameRules', async (t) => {
  t.ok(sameRules(['a', 'b'], ['a', 'b']));
  t.notOk(sameRules(['a', 'b'], ['b', 'a']), 'order matters');
  t.notOk(sameRules(['a'], ['a', 'b']));
});
