// The waiting helpers every package uses: one sleep (ends early on abort), one bounded poll,
// and one comparison of rule lists read back from the kernel.

/** Resolves after `ms`, or at once when `signal` aborts (never rejects: the caller checks the signal). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Polls `cond` every `stepMs` until it holds (true) or `timeoutMs` passed or `signal` aborted (false). */
export async function pollUntil(cond: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 25, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(stepMs, signal);
  }
}

/** Whether two rule lists are the same rules in the same order. */
export function sameRules(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
