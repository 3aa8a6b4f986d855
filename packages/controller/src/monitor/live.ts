// Live host metrics for the dashboard: StreamMetrics from several agents at once (scope '' so
// only each host's own namespace is read), merged into one stream of small samples (CPU shares
// and interface rates). Independent of the per-run monitor: watching never changes what a run
// measures. The merged buffer is bounded: when the reader is slow, the oldest samples are
// dropped rather than kept without limit, and counted: every sample carries how many were lost
// so far (the agent's drops for that host plus the merged buffer's). A host whose stream fails yields a sample carrying
// the error, and is asked again after `retryMs` (an agent that restarts comes back on the
// charts); the others go on.

import { setMaxListeners } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { startPacer } from '@seconet/core';
import type { AgentLink, MetricsSampleMsg } from '../agents/contract.js';
import type { HostMetricsSample } from '../service.js';

/** Samples the merged buffer holds for a slow reader: at least 256, and four intervals' worth of every host. */
const MIN_BUFFERED = 256;
const BUFFERED_PER_HOST = 4;

export function liveSample(host: string, s: MetricsSampleMsg, droppedHere = 0): HostMetricsSample {
  const c = s.cpu;
  return {
    host,
    dropped: Number(s.dropped ?? 0) + droppedHere,
    timestamp: s.timestamp,
    ...(c ? { cpu: { usr: c.usr, sys: c.sys, siq: c.siq, hiq: c.hiq, wai: c.wai, idle: c.idle } } : {}),
    interfaces: s.interfaces
      .filter((i) => i.netns === '' && i.name !== 'lo')
      .map((i) => ({ name: i.name, rxBytesPerS: i.rxBytesPerS, txBytesPerS: i.txBytesPerS })),
  };
}

/** Merges StreamMetrics of `links` until `signal` aborts (or every stream ended). */
export async function* liveHostMetrics(links: ReadonlyMap<string, AgentLink>, intervalMs: number, signal: AbortSignal, retryMs = 5000): AsyncGenerator<HostMetricsSample> {
  // A readable fed by push(): its buffer is exactly what waits for the reader, so it is the one to bound.
  // Every host's stream listens on the one signal (1,000 agents: 1,000 listeners, not a leak).
  setMaxListeners(0, signal);
  const maxBuffered = Math.max(MIN_BUFFERED, BUFFERED_PER_HOST * links.size);
  let ended = false;
  let droppedHere = 0;
  const out = new Readable({ objectMode: true, read: () => undefined });
  const push = (s: HostMetricsSample): void => {
    if (ended || out.destroyed) return;
    while (out.readableLength >= maxBuffered) {
      out.read();
      droppedHere++;
    }
    // Stamped after making room, so the count includes every sample lost before this one.
    out.push({ ...s, dropped: (s.dropped ?? 0) + droppedHere });
  };
  const end = (): void => {
    if (ended) return;
    ended = true;
    out.push(null);
  };
  const follow = async (host: string, link: AgentLink): Promise<void> => {
    while (!signal.aborted) {
      try {
        for await (const s of link.streamMetrics({ intervalMs, scope: '', buffer: 10 }, { signal })) push(liveSample(host, s));
        return;
      } catch (e) {
        if (signal.aborted) return;
        push({ host, timestamp: Date.now() / 1000, interfaces: [], error: (e as Error).message });
      }
      await delay(retryMs, undefined, { signal }).catch(() => undefined);
    }
  };
  // 1,000 hosts' streams opened in one tick held the event loop for ~120 ms: the opens hand it
  // back between slices (core's pacer.ts).
  void (async () => {
    const pacer = startPacer();
    const tasks: Array<Promise<void>> = [];
    for (const [host, link] of links) {
      if (signal.aborted) break;
      await pacer.next();
      tasks.push(follow(host, link));
    }
    await Promise.allSettled(tasks);
  })().then(end);
  const onAbort = end;
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const s of out) {
      if (signal.aborted) return;
      yield s as HostMetricsSample;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    out.destroy();
  }
}
