// The plan of one experiment as the controller runs it: cells in run order, skipped cells
// with reasons, workload instances with the engine chosen at plan time, the repetition
// policy and the first `min` repetitions of every (cell, workload) group. It is stored with
// the experiment, so a restarted controller resumes from exactly what was submitted.

import { shortHash, type Cell, type Placement, type RunKey, type SkippedCell, type WorkloadInstance } from '@seconet/core';

export interface RepetitionPolicy {
  readonly min: number;
  readonly max: number;
  /** Target relative half-width of the confidence interval of the group's main metric. */
  readonly ciRelWidth: number;
}

export interface ExperimentPlan {
  readonly id: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly placement: Placement;
  readonly cells: readonly Cell[];
  readonly skipped: readonly SkippedCell[];
  readonly workloads: readonly WorkloadInstance[];
  readonly repetitions: RepetitionPolicy;
  /** The first `repetitions.min` runs of every group, in run order; more are added while converging. */
  readonly runs: readonly RunKey[];
  /** Decisions taken at plan time that the user should see (engine choices). */
  readonly notes: readonly string[];
}

/** Deterministic run id: the same (experiment, cell, workload, repetition) always gives the same id. */
export function runId(experiment: string, cell: string, workload: string, repetition: number): string {
  return `r${shortHash([experiment, cell, workload, String(repetition)], 16)}`;
}

/** Builds the RunKey of one repetition; `order` places it after every run of earlier groups. */
export function runKey(plan: Pick<ExperimentPlan, 'id' | 'cells' | 'workloads' | 'repetitions'>, cell: Cell, workload: WorkloadInstance, repetition: number): RunKey {
  const w = plan.workloads.findIndex((x) => x.id === workload.id);
  const order = (cell.index * plan.workloads.length + Math.max(0, w)) * plan.repetitions.max + repetition;
  return { id: runId(plan.id, cell.id, workload.id, repetition), experiment: plan.id, cell: cell.id, workload, repetition, order };
}

/** The first `min` repetitions of every group, in the order of the paper's workflow. */
export function initialRuns(plan: Pick<ExperimentPlan, 'id' | 'cells' | 'workloads' | 'repetitions'>): RunKey[] {
  const out: RunKey[] = [];
  for (const cell of plan.cells) {
    for (const w of plan.workloads) {
      for (let r = 0; r < plan.repetitions.min; r++) out.push(runKey(plan, cell, w, r));
    }
  }
  return out;
}
