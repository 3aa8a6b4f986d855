// Maps the service's read-only records onto the response schemas' shapes: optional fields that
// are undefined are left out (the schemas say "absent", never "undefined") and arrays are copied.

import type { AgentStatus, ExperimentSummary } from '../service.js';
import type { AgentT, ExperimentT } from './schemas.js';

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export function experimentBody(s: ExperimentSummary): ExperimentT {
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    progress: { runsDone: s.progress.runsDone, runsFailed: s.progress.runsFailed, runsTotal: s.progress.runsTotal },
    hosts: [...s.hosts],
    createdAt: s.createdAt,
    ...opt('startedAt', s.startedAt),
    ...opt('finishedAt', s.finishedAt),
    ...opt('error', s.error),
    ...opt('current', s.current === undefined ? undefined : { ...s.current }),
  };
}

export function agentBody(a: AgentStatus): AgentT {
  return {
    name: a.name,
    address: a.address,
    healthy: a.healthy,
    ...opt('lastSeen', a.lastSeen),
    ...opt('error', a.error),
    ...opt('kernel', a.kernel),
    ...opt('agentVersion', a.agentVersion),
    capabilities: a.capabilities.map((c) => ({ ...c })),
  };
}
