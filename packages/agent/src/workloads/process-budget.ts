// How many workload tool processes this agent runs at once. Each RunWorkload call reserves
// one process per pair before it starts anything and gives them back when it ends; a call that
// would take the agent past its budget is refused with RATE_LIMITED (gRPC RESOURCE_EXHAUSTED,
// which the controller retries later) instead of forking until the host falls over. Within a
// call, spawn() stops at twice the reservation (a sink or source plus one helper per pair), so
// no engine can start an unbounded number of processes either.

import { SeconetError } from '@seconet/core';

/** Default: room for the largest cell (1024 containers, 512 pairs) on both sides, twice over. */
export const DEFAULT_PROCESS_BUDGET = 2048;

export class ProcessBudget {
  private used = 0;

  constructor(readonly max: number = DEFAULT_PROCESS_BUDGET) {}

  get inUse(): number {
    return this.used;
  }

  /** Reserves `n` processes or throws RATE_LIMITED naming the numbers; returns the release function. */
  reserve(n: number, field: string, agent: string): () => void {
    if (n > this.max || this.used + n > this.max) {
      throw new SeconetError('RATE_LIMITED', `${field}: this call needs ${n} workload processes and agent ${agent} already runs ${this.used} of at most ${this.max}; retry when other runs end, or split the pairs over several calls`, { field, details: { needed: n, inUse: this.used, max: this.max } });
    }
    this.used += n;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
    };
  }
}

export const workloadProcesses = new ProcessBudget();
