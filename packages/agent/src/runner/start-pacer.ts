// Starting a workload tool is a synchronous fork+exec in Node (child_process.spawn), about
// 5-25 ms each for an agent of a few hundred MB with thousands of open descriptors. A call that
// starts 1,000 tools in one tick therefore held the event loop for ~25 s: the gRPC server could
// not answer the controller's HTTP/2 keepalive pings (10 s interval, 5 s timeout, client.ts),
// the controller closed the connection (and with it every stream on it, StreamMetrics too) and every pair failed with "UNAVAILABLE: Connection
// dropped", while the exited tools stayed unreaped. The pacer hands the loop back (setImmediate:
// I/O and timers run, not only microtasks) whenever the starts since the last yield took longer
// than one slice, so keepalive acks, stream writes and process exits are served between starts.
// Every pair still starts as fast as the machine can fork; nothing is queued behind a limit.

/** Longest run of synchronous starts between two yields to the event loop. */
export const START_SLICE_MS = 20;

export interface StartPacer {
  /** Resolves at once while the current slice lasts, else after one turn of the event loop. */
  next(): Promise<void>;
  /** Times the event loop was handed back. */
  readonly yields: number;
}

export function startPacer(sliceMs = START_SLICE_MS): StartPacer {
  let sliceStart = performance.now();
  let yields = 0;
  return {
    async next() {
      if (performance.now() - sliceStart < sliceMs) return;
      yields += 1;
      await new Promise<void>((r) => setImmediate(r));
      sliceStart = performance.now();
    },
    get yields() {
      return yields;
    },
  };
}

/** Runs `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
