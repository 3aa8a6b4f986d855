// StreamMetrics: the /proc sampler behind a bounded buffer. Sampling runs on its own clock
// (aligned to the interval grid, so a slow reader never slows or skews it) and feeds a
// BoundedSampleQueue the generator drains; the reader sees every second of the stream, merged
// or, beyond the merge limit, dropped and counted. Interfaces: the host's namespace (the
// agent's own /proc/net/dev on a real host, `env.hostNetns` in the lab) and every container
// namespace of `req.scope`, through NetnsAnchors.
import type { Logger } from 'pino';
import { SeconetError } from '@seconet/core';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import type { StreamMetricsRequest__Output } from '../gen/seconet/agent/v1/StreamMetricsRequest.js';
import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';
import { BoundedSampleQueue } from './bounded-queue.js';
import { NetnsAnchors } from './netns-anchors.js';
import { ProcSampler, type NetDevSource } from './sampler.js';

export { toDstatCsv } from './dstat-csv.js';
export { ProcSampler, type NetDevSource, type SamplerOptions } from './sampler.js';
export { BoundedSampleQueue, mergeSamples } from './bounded-queue.js';
export { NetnsAnchors } from './netns-anchors.js';
export { parseMeminfo, parseNetDev, parseStat } from './proc-parse.js';

export interface MetricsDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** Container namespaces of a scope (for per-container interface rates). */
  scopeNamespaces(scope: string): readonly string[];
  /** Root of the proc tree; default "/proc". */
  readonly procRoot?: string;
}

export const DEFAULT_INTERVAL_MS = 1000;
export const MIN_INTERVAL_MS = 100;
export const MAX_INTERVAL_MS = 3_600_000;
export const DEFAULT_BUFFER = 60;
export const MAX_BUFFER = 3600;

export function validateMetricsRequest(req: StreamMetricsRequest__Output): { intervalMs: number; buffer: number } {
  const intervalMs = req.intervalMs === 0 ? DEFAULT_INTERVAL_MS : req.intervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new SeconetError('INVALID_ARGUMENT', `intervalMs: ${req.intervalMs} is out of range (${MIN_INTERVAL_MS}-${MAX_INTERVAL_MS} ms, 0 for ${DEFAULT_INTERVAL_MS})`, { field: 'intervalMs' });
  }
  const buffer = req.buffer === 0 ? DEFAULT_BUFFER : req.buffer;
  if (!Number.isInteger(buffer) || buffer < 1 || buffer > MAX_BUFFER) {
    throw new SeconetError('INVALID_ARGUMENT', `buffer: ${req.buffer} is out of range (1-${MAX_BUFFER}, 0 for ${DEFAULT_BUFFER})`, { field: 'buffer' });
  }
  if (req.scope !== '' && !/^[a-z0-9][a-z0-9-]{0,62}$/.test(req.scope)) {
    throw new SeconetError('INVALID_ARGUMENT', `scope: ${JSON.stringify(req.scope)} is not a scope name ([a-z0-9][a-z0-9-]{0,62})`, { field: 'scope' });
  }
  return { intervalMs, buffer };
}

/** Samples until `signal` aborts; a slow consumer makes samples merge or drop, never memory grow. */
export async function* streamMetrics(deps: MetricsDeps, req: StreamMetricsRequest__Output, signal: AbortSignal): AsyncIterable<MetricsSample> {
  const { intervalMs, buffer } = validateMetricsRequest(req);
  const procRoot = deps.procRoot ?? '/proc';
  const anchors = new NetnsAnchors(deps.runner, procRoot);
  let sources: NetDevSource[] = [];
  const sampler = new ProcSampler({ procRoot, netDevSources: () => sources });
  const queue = new BoundedSampleQueue(buffer);
  const wanted = (): Map<string, string> => {
    const m = new Map<string, string>();
    if (deps.env.hostNetns !== undefined) m.set(deps.env.hostNetns, '');
    if (req.scope !== '') for (const ns of deps.scopeNamespaces(req.scope)) m.set(ns, ns);
    return m;
  };
  const refresh = async (): Promise<void> => {
    const anchored = await anchors.refresh(wanted());
    sources = deps.env.hostNetns === undefined ? [{ netns: '', path: `${procRoot}/net/dev` }, ...anchored] : anchored;
  };

  let wake: (() => void) | undefined;
  let failure: unknown;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onAbort = (): void => notify();
  signal.addEventListener('abort', onAbort, { once: true });

  try {
    await refresh();
    await sampler.prime();
    const start = performance.now();
    let k = 0;
    const schedule = (): void => {
      if (stopped) return;
      const now = performance.now();
      k = Math.max(k + 1, Math.floor((now - start) / intervalMs) + 1);
      timer = setTimeout(() => (inFlight = tick()), Math.max(0, start + k * intervalMs - now));
    };
    const tick = async (): Promise<void> => {
      if (stopped) return;
      try {
        await refresh();
        if (stopped) return;
        queue.push(await sampler.sample());
        notify();
      } catch (e) {
        failure = e;
        notify();
        return;
      }
      schedule();
    };
    schedule();

    while (!signal.aborted) {
      if (failure !== undefined) throw failure;
      const s = queue.shift();
      if (s === undefined) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      yield s;
    }
  } finally {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    await inFlight;
    await anchors.stopAll();
  }
}
