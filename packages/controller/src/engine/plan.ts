// The plan of one experiment as the controller runs it: the normalized spec, cells in run
// order, skipped cells with reasons, each cell's workload instances with the engine chosen at
// plan time from the agents' capabilities, and the first `min` repetitions of every group.
// It is stored with the experiment, so a restarted controller resumes from exactly what was
// submitted; extra repetitions come from core's nextRepetition while decide() asks for more.

import {
  expandMatrix,
  fitPayload,
  nextRepetition,
  undeterminedNotes,
  type CapabilityMap,
  type Cell,
  type ExperimentSpec,
  type Placement,
  type RepetitionPolicy,
  type RunKey,
  type SkippedCell,
  type WorkloadInstance,
} from '@seconet/core';

export interface ExperimentPlan {
  readonly id: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly placement: Placement;
  readonly spec: ExperimentSpec;
  readonly cells: readonly Cell[];
  readonly skipped: readonly SkippedCell[];
  /** Workload instances per cell id, in the cell's run order. */
  readonly workloads: Readonly<Record<string, readonly WorkloadInstance[]>>;
  readonly repetitions: RepetitionPolicy;
  /** Repetitions 1..min of every group, in run order. */
  readonly runs: readonly RunKey[];
  readonly estimatedSeconds: number;
  /** The estimate when every group runs to repetitions.max. */
  readonly estimatedMaxSeconds: number;
  /** Decisions taken at plan time that the user should see (engine choices). */
  readonly notes: readonly string[];
}

/** What the store keeps of a plan: everything but the runs, which live in their own table. */
export type StoredPlan = Omit<ExperimentPlan, 'runs'>;

export function planExperiment(spec: ExperimentSpec, id: string, hosts: readonly string[], capabilities?: CapabilityMap, underlayMtu?: ReadonlyMap<string, number>): ExperimentPlan {
  const p = expandMatrix(spec, { experimentId: id, hosts, ...(capabilities ? { capabilities } : {}), ...(underlayMtu ? { underlayMtu } : {}) });
  const used = spec.hosts ?? hosts;
  const notes: string[] = [];
  const engines = new Map<string, string>();
  for (const list of p.workloads.values()) for (const w of list) engines.set(w.kind, w.engine);
  for (const entry of spec.workloads) {
    const chosen = engines.get(entry.kind);
    if (chosen !== undefined && entry.engine === undefined && (entry.kind === 'throughput-basic' || entry.kind === 'iperf3')) {
      notes.push(`${entry.kind} uses ${chosen}${chosen === 'iperf3' ? ' (uperf is not offered by every host)' : ''}`);
    }
  }
  for (const c of p.cells) {
    for (const w of p.workloads.get(c.id) ?? []) {
      const fit = fitPayload(w, c.pathMtu);
      if (fit.kind === 'clamped') notes.push(`cell ${c.network}/${c.tunnel}/${c.filter} (${c.id}): ${fit.note}`);
    }
  }
  if (capabilities) notes.push(...undeterminedNotes(p.cells, capabilities));
  return {
    id,
    name: spec.name,
    hosts: [...used],
    placement: spec.placement,
    spec,
    cells: p.cells,
    skipped: p.skipped,
    workloads: Object.fromEntries(p.workloads),
    repetitions: spec.repetitions,
    runs: p.runs,
    estimatedSeconds: p.estimatedSeconds,
    estimatedMaxSeconds: p.estimatedMaxSeconds,
    notes,
  };
}

/** The repetition after `run`, or undefined at the group's maximum. */
export function nextRun(plan: StoredPlan, run: RunKey, cell: Cell): RunKey | undefined {
  return nextRepetition(plan.spec, run, cell);
}
