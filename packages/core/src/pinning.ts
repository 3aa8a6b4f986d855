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

/**
 * Pairs per core above which a call's tools run in the idle scheduling class (SCHED_IDLE). With
 * hundreds of tools runnable on a few cores, tools at the agent's own priority took the CPU
 * from the agent, the controller and Redis: at 1,000 clients on 2 cores (load 310) the queue
 * lease and the agents' gRPC connections were lost and the run failed. In the idle class the
 * tools still share every cycle nothing else wants, equally among themselves, while the
 * testbed's own processes run first when they wake. Below the threshold (the papers' 1-32
 * pairs) tools keep the normal class, so a latency run is not delayed by the sampler.
 */
export const IDLE_CLASS_PAIRS_PER_CORE = 8;

/** Whether a call of `pairs` pairs on a host of `cores` cores runs its tools in the idle class. */
export function idleClassTools(pairs: number, cores: number): boolean {
  return pairs > crowdedAbove(cores);
}

/** Pairs of one call a host of `cores` cores takes before the call counts as crowded. */
function crowdedAbove(cores: number): number {
  return IDLE_CLASS_PAIRS_PER_CORE * Math.max(1, Math.floor(cores) || 1);
}

/** iperf3's own pacing timer, µs: how often a paced (`-b`) sender wakes to send what is due. */
export const IPERF3_PACING_TIMER_US = 1000;
/** The coarsest pacing timer a crowded call gets, µs. */
export const IPERF3_PACING_TIMER_MAX_US = 100_000;

/**
 * The pacing timer of a call's paced iperf3 senders: iperf3's 1 ms up to the idle-class
 * threshold, then coarser in proportion to the pairs, so a host's paced senders wake about
 * 8,000 times a second per core however many pairs it runs (at most every 100 ms). Measured:
 * 200 senders at 1 Mbit/s each on 2 cores took 2,241 jiffies of CPU with iperf3's 1 ms timer and
 * 641 with 100 ms, for the same 198 Mbit/s; at 1,000 clients the 1 ms wake-ups alone filled both
 * cores. The rate over each 1 s interval is the same; within it, a sender sends in bursts one
 * timer apart (the argv, with `--pacing-timer`, is kept with the run's provenance).
 */
export function iperf3PacingTimerUs(pairs: number, cores: number): number {
  return Math.min(IPERF3_PACING_TIMER_MAX_US, Math.max(IPERF3_PACING_TIMER_US, Math.round((IPERF3_PACING_TIMER_US * pairs) / crowdedAbove(cores))));
}
