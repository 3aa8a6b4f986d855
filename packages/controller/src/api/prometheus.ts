// The controller's numbers in the Prometheus text exposition format (version 0.0.4), written by
// hand: five metric families do not justify a client library.

import type { ControllerMetrics } from '../service.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const STATES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;

function family(name: string, type: 'gauge' | 'counter', help: string, samples: Array<[labels: string, value: number]>): string {
  const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
  for (const [labels, value] of samples) lines.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
  return lines.join('\n');
}

export function renderMetrics(m: ControllerMetrics): string {
  const states = new Set<string>([...STATES, ...Object.keys(m.experimentsByState)]);
  return (
    [
      family('seconet_queue_depth', 'gauge', 'Runs waiting in the queue.', [['', m.queueDepth]]),
      family('seconet_runs_done_total', 'counter', 'Runs finished (succeeded, failed or skipped), as progress.runsDone counts them.', [['', m.runsDone]]),
      family('seconet_runs_failed_total', 'counter', 'Runs that failed.', [['', m.runsFailed]]),
      family(
        'seconet_experiments',
        'gauge',
        'Experiments by state.',
        [...states].filter((s) => /^[a-z_]+$/.test(s)).map((s) => [`{state="${s}"}`, m.experimentsByState[s] ?? 0]),
      ),
      family('seconet_agents_healthy', 'gauge', 'Agents answering their health check.', [['', m.agentsHealthy]]),
      family('seconet_agents_total', 'gauge', 'Agents configured.', [['', m.agentsTotal]]),
    ].join('\n') + '\n'
  );
}
