// Live host metrics for the dashboard: StreamMetrics from several agents at once (scope '' so
// only each host's own namespace is read), merged into one stream of small samples (CPU shares
// and interface rates). Independent of the per-run monitor: watching never changes what a run
// measures. The merged buffer is bounded: when the reader is slow, the oldest samples are
// dropped rather than kept without limit. A host whose stream fails yields one sample carrying
// the error, and the others go on.

import { PassThrough } from 'node:stream';
import type { AgentLink, MetricsSampleMsg } from '../agents/contract.js';
import type { HostMetricsSample } from '../service.js';

const MAX_BUFFERED = 256;

export function liveSample(host: string, s: MetricsSampleMsg): HostMetricsSample {
  const c = s.cpu;
  return {
    host,
    timestamp: s.timestamp,
    ...(c ? { cpu: { usr: c.usr, sys: c.sys, siq: c.siq, hiq: c.hiq, wai: c.wai, idle: c.idle } } : {}),
    interfaces: s.interfaces
      .filter((i) => i.netns === '' && i.name !== 'lo')
      .map((i) => ({ name: i.name, rxBytesPerS: i.rxBytesPerS, txBytesPerS: i.txBytesPerS })),
  };
}

/** Merges StreamMetrics of `links` until `signal` aborts (or every stream ended). */
export async function* liveHostMetrics(links: ReadonlyMap<string, AgentLink>, intervalMs: number, signal: AbortSignal): AsyncGenerator<HostMetricsSample> {
  const out = new PassThrough({ objectMode: true });
  const push = (s: HostMetricsSample): void => {
    if (out.writableEnded || out.destroyed) return;
    while (out.readableLength >= MAX_BUFFERED) out.read();
    out.write(s);
  };
  const tasks = [...links].map(async ([host, link]) => {
    try {
      for await (const s of link.streamMetrics({ intervalMs, scope: '', buffer: 10 }, { signal })) push(liveSample(host, s));
    } catch (e) {
      if (!signal.aborted) push({ host, timestamp: Date.now() / 1000, interfaces: [], error: (e as Error).message });
    }
  });
  void Promise.allSettled(tasks).then(() => out.end());
  const onAbort = (): void => {
    out.end();
  };
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
