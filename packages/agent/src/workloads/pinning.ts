// Applies core's pinning plan to a workload tool: `taskset -c LIST TOOL ARGS` (util-linux,
// taskset(1)), which sets the CPU affinity and execs the tool, so the PID stays the tool's and
// stopping by PID still works. The tool's path is resolved here: taskset itself would search
// $PATH. Where taskset is missing, or the plan pins nothing, the argv is unchanged.
//
// idleClass: `chrt --idle 0 TOOL ARGS` (util-linux, chrt(1)) puts the tool in the SCHED_IDLE
// class and execs it (same PID); the class is inherited by whatever the tool forks. Used for
// calls with many pairs per core (core's idleClassTools, which says why).

import { findTool, toolPath } from '../runner/tools.js';

export function pinned(argv: readonly string[], cpus: string | undefined): string[] {
  if (cpus === undefined || argv.length === 0 || findTool('taskset') === null) return [...argv];
  if (!/^\d{1,4}(-\d{1,4})?(,\d{1,4}(-\d{1,4})?)*$/.test(cpus)) throw new Error(`bad CPU list ${JSON.stringify(cpus)}`);
  return ['taskset', '-c', cpus, toolPath(argv[0]!), ...argv.slice(1)];
}

/** argv run in the idle scheduling class; unchanged where chrt is missing. */
export function idleClass(argv: readonly string[]): string[] {
  if (argv.length === 0 || findTool('chrt') === null) return [...argv];
  return ['chrt', '--idle', '0', toolPath(argv[0]!), ...argv.slice(1)];
}
