// Workload tools and metrics anchors are children of the agent that must not outlive it: an
// agent that crashes mid-run would otherwise leave iperf3 servers holding ports and `sleep`
// anchors holding deleted namespaces alive, and the night's next run would fail on them.
// `setpriv --pdeathsig KILL` (util-linux, setpriv(1)) makes the kernel kill the tool when the
// agent dies (PR_SET_PDEATHSIG survives the exec into the tool), without a shell and keeping
// the tool's PID, so stopping by PID still works.

import { findTool, toolPath } from '../runner/tools.js';

/** argv wrapped so the process gets SIGKILL when the agent dies; unchanged where setpriv is missing. */
export function dieWithAgent(argv: readonly string[]): string[] {
  if (argv.length === 0) throw new Error('empty argv');
  if (findTool('setpriv') === null) return [...argv];
  return ['setpriv', '--pdeathsig', 'KILL', '--', toolPath(argv[0]!), ...argv.slice(1)];
}
