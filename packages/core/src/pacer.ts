// Handing the event loop back during a burst of synchronous work. Both daemons start work for
// many peers at once: the agent forks one tool per pair, the controller sends one request per
// host of a cell. Done in one tick, the burst holds the event loop for all of it.
//
// Agent: starting a workload tool is a synchronous fork+exec in Node (child_process.spawn), about
// 5-25 ms each for an agent of a few hundred MB with thousands of open descriptors. A call that
// starts 1,000 tools in one tick therefore held the event loop for ~25 s: the gRPC server could
// not answer the controller's HTTP/2 keepalive pings (10 s interval, 5 s timeout, client.ts),
// the controller closed the connection (and with it every stream on it, StreamMetrics too) and
// every pair failed with "UNAVAILABLE: Connection dropped", while the exited tools stayed unreaped.
// Controller: a 64-host cell's Apply requests (serialize, HTTP/2 request) took 50-120 ms in one
// tick at 1,000 agents, and the API's requests waited behind them.
// The pacer hands the loop back (setImmediate: I/O and timers run, not only microtasks)
// whenever the work since the last yield took longer than one slice, so keepalive acks, stream
// writes, process exits and API requests are served between starts. Everything still starts as
// fast as the machine can; nothing is queued behind a limit.

/** Longest run of synchronous starts between two yields to the event loop. */
export const START_SLICE_MS = 20;

export interface StartPacer {
  /** Resolves at once while the current slice lasts, else after the event loop turned. */
  next(): Promise<void>;
  /** Times this pacer handed the event loop back. */
  readonly yields: number;
}

// One slice clock for the whole process. Bursts run side by side (a controller starts the runs
// of 16 experiments at once, each opening 64 streams): with a clock per burst, their loops all
// continue in the same turn of the event loop, each within its own 20 ms, and the turn lasted
// 16 x 20 ms (a 330 ms task at 1,000 agents). With one clock, a slice is 20 ms of everyone's
// work. The first burst to resume after the loop turned starts the next slice; the others that
// resume in the same turn run only while it lasts, and yield again otherwise.
let sliceStart = performance.now();
let epoch = 0;

export function startPacer(sliceMs = START_SLICE_MS): StartPacer {
  let yields = 0;
  return {
    async next() {
      while (performance.now() - sliceStart >= sliceMs) {
        const seen = epoch;
        yields += 1;
        await new Promise<void>((r) => setImmediate(r));
        if (epoch === seen) {
          epoch += 1;
          sliceStart = performance.now();
        }
      }
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
