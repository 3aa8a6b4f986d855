// Small plans and workloads shared by the controller's unit tests.
import { parseSpec, runId, type Cell, type RepetitionPolicy, type RunKey, type WorkloadInstance } from '@seconet/core';
import type { ExperimentPlan } from '../src/engine/plan.js';

export const latency: WorkloadInstance = { id: 'latency-basic/icmp/56', kind: 'latency-basic', engine: 'ping', protocol: 'icmp', payload: 56, durationMs: 1000, params: {}, seed: 0 };
export const throughput: WorkloadInstance = { id: 'throughput-basic/tcp/653', kind: 'throughput-basic', engine: 'iperf3', protocol: 'tcp', payload: 653, durationMs: 1000, params: {}, seed: 0 };

export function cell(index: number, over: Partial<Cell> = {}): Cell {
  return {
    id: `c${index}`, index, network: 'bridge', tunnel: 'none', filter: 'none', containers: 2, rules: 0,
    placement: 'multi-host', hosts: ['h1', 'h2'], ...over,
  };
}

export function plan(id: string, over: { cells?: Cell[]; workloads?: WorkloadInstance[]; repetitions?: Pick<RepetitionPolicy, 'min' | 'max' | 'ciRelWidth'>; hosts?: string[] } = {}): ExperimentPlan {
  const base = parseSpec({ name: `exp-${id}`, workloads: ['latency-basic'] });
  const repetitions: RepetitionPolicy = { ...base.repetitions, ...(over.repetitions ?? { min: 1, max: 1, ciRelWidth: 0.05 }) };
  const spec = { ...base, repetitions };
  const cells = over.cells ?? [cell(0)];
  const workloads = over.workloads ?? [latency];
  const runs: RunKey[] = [];
  let group = 0;
  for (const c of cells) {
    for (const w of workloads) {
      for (let rep = 1; rep <= repetitions.min; rep++) runs.push({ id: runId(id, c.id, w.id, rep), experiment: id, cell: c.id, workload: w, repetition: rep, order: group * repetitions.max + rep - 1 });
      group++;
    }
  }
  return {
    id, name: spec.name, hosts: over.hosts ?? ['h1', 'h2'], placement: 'multi-host', spec, cells, skipped: [],
    workloads: Object.fromEntries(cells.map((c) => [c.id, workloads])), repetitions, runs, estimatedSeconds: 1, estimatedMaxSeconds: 1, notes: [],
  };
}
