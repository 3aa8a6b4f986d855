// How a daemon stops on SIGTERM/SIGINT: gracefully when it can, and in any case within a stated
// bound. A graceful stop can hang on a dead dependency (a paused Redis that never answers the
// worker's close, an agent frozen mid-call, a store on a stuck disk); past the bound the process
// exits anyway. That is safe by construction: results are written in store transactions, so a
// run cut mid-way is left `running` (never half-written) and the next controller retries it; an
// agent's journal is on disk and its startup GC removes what a cut Apply left.

/** The bound operators can rely on: SIGTERM ends the controller and the agent within this. */
export const STOP_BOUND_MS = 10_000;

export interface BoundedStopOptions {
  /** Exit this long after the first signal whatever the graceful stop is doing (default STOP_BOUND_MS - 1500). */
  readonly hardMs?: number;
  readonly log?: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /** How to end the process (tests replace it). */
  readonly exit?: (code: number) => void;
}

/**
 * Installs SIGTERM/SIGINT handlers that run `stop` once, end the process with its code, and end
 * it with code 1 when the stop is not done after `hardMs`. A second signal exits at once (130).
 * Resolves with the exit code once a graceful stop finished.
 */
export function onStopSignals(stop: () => Promise<void>, o: BoundedStopOptions = {}): Promise<number> {
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const hardMs = o.hardMs ?? STOP_BOUND_MS - 1500;
  return new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals): void => {
      if (++signals > 1) return exit(130);
      o.log?.info({ signal: sig, boundMs: hardMs }, 'stopping');
      const hard = setTimeout(() => {
        o.log?.error({ boundMs: hardMs }, 'graceful stop did not finish in time; exiting (unfinished runs are retried by the next start)');
        exit(1);
      }, hardMs);
      hard.unref();
      stop().then(
        () => done(0),
        (err: unknown) => {
          o.log?.error({ err }, 'stop failed');
          done(1);
        },
      );
      function done(code: number): void {
        clearTimeout(hard);
        resolve(code);
        // A handle left open by a library (a socket to a dead peer) must not keep the process alive.
        setTimeout(() => exit(code), 1000).unref();
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
