// Small plans and workloads shared by the controller's unit tests.
import type { Cell, WorkloadInstance } from '@seconet/core';
import { initialRuns, type ExperimentPlan, type RepetitionPolicy } from '../src/engine/plan.js';

export const latency: WorkloadInstance = { id: 'latency-basic', kind: 'latency-basic', engine: 'ping', protocol: 'icmp', payload: 56, durationMs: 1000, params: {}, seed: 0 };
export const throughput: WorkloadInstance = { id: 'throughput-basic/tcp/653', kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 1000, params: {}, seed: 0 };

export function cell(index: number, over: Partial<Cell> = {}): Cell {
  return {
    id: `c${index}`, index, network: 'bridge', tunnel: 'none', filter: 'none', containers: 2, rules: 0,
    placement: 'multi-host', hosts: ['h1', 'h2'], ...over,
  };
}

export function plan(id: string, over: { cells?: Cell[]; workloads?: WorkloadInstance[]; repetitions?: RepetitionPolicy; hosts?: string[] } = {}): ExperimentPlan {
  const base = {
    id,
    name: `exp-${id}`,
    hosts: over.hosts ?? ['h1', 'h2'],
    placement: 'multi-host' as const,
    cells: over.cells ?? [cell(0)],
    skipped: [],
    workloads: over.workloads ?? [latency],
    repetitions: over.repetitions ?? { min: 1, max: 1, ciRelWidth: 0.05 },
    notes: [],
  };
  return { ...base, runs: initialRuns(base) };
}
