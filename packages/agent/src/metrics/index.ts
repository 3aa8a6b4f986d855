// StreamMetrics: the /proc sampler behind a bounded buffer.
import type { Logger } from 'pino';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import type { StreamMetricsRequest__Output } from '../gen/seconet/agent/v1/StreamMetricsRequest.js';
import type { MetricsSample } from '../gen/seconet/agent/v1/MetricsSample.js';

export interface MetricsDeps {
  readonly env: HostEnv;
  readonly runner: Runner;
  readonly log: Logger;
  /** Container namespaces of a scope (for per-container interface rates). */
  scopeNamespaces(scope: string): readonly string[];
}

/** Samples until `signal` aborts; a slow consumer makes samples merge or drop, never memory grow. */
export async function* streamMetrics(_deps: MetricsDeps, _req: StreamMetricsRequest__Output, _signal: AbortSignal): AsyncIterable<MetricsSample> {
  throw new Error('streamMetrics: not implemented yet');
}
