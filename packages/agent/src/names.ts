// Deterministic names of the agent's kernel objects for a scope. One place, so the
// reconciler, the workloads and the metrics sampler agree on them.

import { objectName } from '@seconet/core';

/** Network namespace of a container. */
export function containerNetns(prefix: string, scope: string, container: string): string {
  return objectName(prefix, 'c', [scope, container]);
}

/** Host-side veth of a container. */
export function hostVeth(prefix: string, scope: string, container: string): string {
  return objectName(prefix, 'v', [scope, container]);
}

/** The per-scope directory name under stateDir/runDir. */
export function scopeDirName(prefix: string, scope: string): string {
  return objectName(prefix, 'd', [scope], 10);
}
