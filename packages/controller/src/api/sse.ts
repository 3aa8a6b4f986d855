// Server-sent events of an experiment's progress. Each event carries its id (increasing by one
// per experiment), so a client that reconnects with Last-Event-ID gets exactly what it missed.
// The stream ends when the experiment reaches a final state or the client goes away; a comment
// line every `heartbeatMs` keeps proxies from closing an idle stream.

import type { ServerResponse } from 'node:http';
import { SeconetError } from '@seconet/core';
import type { ProgressEvent } from '../service.js';

/**
 * How many server-sent event streams (progress and host metrics) are open at once. Each holds
 * a connection, a store listener and timers for as long as the client wants; past the cap a
 * new stream is refused with RATE_LIMITED before anything is written.
 */
export class StreamGate {
  private open = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.open;
  }

  /** Takes a slot or throws RATE_LIMITED; returns the release function (idempotent). */
  acquire(): () => void {
    if (this.open >= this.max) {
      throw new SeconetError('RATE_LIMITED', `${this.open} event streams are open, the most this controller serves at once (maxStreams ${this.max}); close one or retry later`);
    }
    this.open++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open--;
    };
  }
}

const FINAL_STATES = new Set(['succeeded', 'failed', 'cancelled']);

export function formatEvent(ev: ProgressEvent): string {
  const data = JSON.stringify({ experiment: ev.experiment, type: ev.type, at: ev.at, ...ev.data });
  return `id: ${ev.id}\nevent: ${ev.type}\ndata: ${data}\n\n`;
}

export function isFinalEvent(ev: ProgressEvent): boolean {
  return ev.type === 'state' && typeof ev.data['state'] === 'string' && FINAL_STATES.has(ev.data['state']);
}

/** Writes events to `res` until the source ends, a final state passes, or `signal` aborts. */
export async function pipeEvents(
  res: ServerResponse,
  events: AsyncIterable<ProgressEvent>,
  signal: AbortSignal,
  heartbeatMs: number,
): Promise<void> {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': seconet progress\n\n');
  const beat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  beat.unref();
  try {
    for await (const ev of events) {
      if (signal.aborted) break;
      res.write(formatEvent(ev));
      if (isFinalEvent(ev)) break;
    }
  } finally {
    clearInterval(beat);
    res.end();
  }
}
