// Validity guards: say when the testbed, not the network, set the number. From the host
// samples taken while a run measured (monitor.ts summaries, pair "host/<name>"), a run is
// flagged when a host it ran on had
//
//   cpu-bound      its busiest core at or above CORE_SATURATED_PCT busy on average (usr, sys,
//                  hiq, siq and steal counted: a core spent in softirq or stolen by the
//                  hypervisor is not free for the workload);
//   noisy          steal time at or above STEAL_NOISY_PCT on some core (a neighbour on the
//                  hypervisor took cycles: numbers from such a run vary for reasons outside it);
//   testbed-heavy  the agent's own share of the host (sampler included) above TESTBED_SHARE_PCT
//                  of all cores (the testbed competed with what it measured).
//
// The flags go into the run's result rows (ResultRow.validity) and the report marks figures
// that draw on flagged runs. Bounds are stated here and in docs/report.md.

import type { ResultRow } from '@seconet/core';

export const CORE_SATURATED_PCT = 95;
export const STEAL_NOISY_PCT = 2;
export const TESTBED_SHARE_PCT = 5;

export const VALIDITY_FLAGS = ['cpu-bound', 'noisy', 'testbed-heavy'] as const;
export type ValidityFlag = (typeof VALIDITY_FLAGS)[number];

export const VALIDITY_REASONS: Readonly<Record<ValidityFlag, string>> = {
  'cpu-bound': `a source or sink host had a core at least ${CORE_SATURATED_PCT} % busy (softirq and steal included) while the run measured: the host's CPU, not the network, may have set the number`,
  noisy: `a host showed steal time of at least ${STEAL_NOISY_PCT} % on a core: the hypervisor took cycles during the run`,
  'testbed-heavy': `the testbed's own processes (agent, sampler) used more than ${TESTBED_SHARE_PCT} % of a host's CPU during the run`,
};

/** The flags of one run from its host summary metrics (metric name -> value, per host). */
export function runFlags(hosts: ReadonlyMap<string, ReadonlyMap<string, number>>): ValidityFlag[] {
  const flags = new Set<ValidityFlag>();
  for (const m of hosts.values()) {
    if ((m.get('host_core_busiest') ?? 0) >= CORE_SATURATED_PCT) flags.add('cpu-bound');
    if ((m.get('host_steal_max') ?? 0) >= STEAL_NOISY_PCT) flags.add('noisy');
    if ((m.get('testbed_cpu_share') ?? 0) > TESTBED_SHARE_PCT) flags.add('testbed-heavy');
  }
  return VALIDITY_FLAGS.filter((f) => flags.has(f));
}

/** Sets `validity` on every row from the host summary rows of the same run. */
export function withValidity<R extends Omit<ResultRow, 'validity'>>(rows: readonly R[]): Array<R & { validity: string }> {
  const perRun = new Map<string, Map<string, Map<string, number>>>();
  for (const r of rows) {
    if (!r.pair.startsWith('host/')) continue;
    const hosts = perRun.get(r.run) ?? new Map<string, Map<string, number>>();
    const m = hosts.get(r.pair) ?? new Map<string, number>();
    m.set(r.metric, r.value);
    hosts.set(r.pair, m);
    perRun.set(r.run, hosts);
  }
  const flags = new Map<string, string>();
  for (const [run, hosts] of perRun) flags.set(run, runFlags(hosts).join(';'));
  return rows.map((r) => ({ ...r, validity: flags.get(r.run) ?? '' }));
}
