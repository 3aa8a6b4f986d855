// Unmounting the agent's bpffs when the daemon stops (solutions/bpffs.ts mounts it). Pins
// vanish with the mount; programs still attached to tc keep running until their scope's
// teardown or GC removes the qdisc. A mount may be stacked (a crashed run mounted it too):
// unmount until none is left.

import { isBpffsMounted } from '../solutions/bpffs.js';
import type { Runner } from '../runner/runner.js';

export async function unmountBpffs(runner: Runner, path: string): Promise<void> {
  for (let i = 0; i < 8 && isBpffsMounted(path); i++) await runner.run(['umount', path]);
}
