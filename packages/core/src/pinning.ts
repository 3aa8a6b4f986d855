// Where workload processes run on a host's CPUs. Run-to-run variance drops when the source and
// sink tools do not fight each other (or the agent) for a core, so where a host has the cores
// the agent pins them apart: core 0 is left to the agent, the sampler and the kernel's
// housekeeping; sinks get the lower half of the remaining cores, sources the upper half (on one
// machine running several lab hosts, a source and its sink then land on different cores too).
// With fewer than three cores there is nothing to keep apart, and nothing is pinned. The agent
// applies the plan (taskset), the controller reads the same plan to say in the report what ran
// where.

export interface PinningPlan {
  /** taskset(1) CPU lists, or undefined when not pinned. */
  readonly sink: string | undefined;
  readonly source: string | undefined;
  readonly note: string;
}

const list = (lo: number, hi: number): string => (lo === hi ? String(lo) : `${lo}-${hi}`);

export function pinningPlan(cores: number): PinningPlan {
  if (!Number.isInteger(cores) || cores < 3) return { sink: undefined, source: undefined, note: `not pinned: ${cores} core${cores === 1 ? '' : 's'}, fewer than the 3 needed to keep source, sink and agent apart` };
  const free = cores - 1;
  const sinkHi = Math.floor(free / 2);
  const sink = list(1, sinkHi);
  const source = list(sinkHi + 1, cores - 1);
  return { sink, source, note: `sinks on CPUs ${sink}, sources on CPUs ${source}, CPU 0 left to the agent` };
}
