// The agent's own bpffs mount (env.bpffs): pinned programs and maps live below it, one
// directory per scope. bpffs is not mounted by default on the lab machines (LAB-NOTES), and
// several lab agents share one machine, so each agent mounts its own. The mount belongs to the
// agent, not to a scope: it is never journaled, and the daemon unmounts it when it stops.

import { mkdirSync, readFileSync } from 'node:fs';
import { SeconetError } from '@seconet/core';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';

/** Whether `dir` is a bpffs mount point (from /proc/self/mounts). */
export function isBpffsMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, mnt, type] = l.split(' ');
      return mnt === dir && type === 'bpf';
    });
}

/** Mounts bpffs at env.bpffs unless it is mounted already. */
export async function ensureBpffs(runner: Runner, env: Pick<HostEnv, 'bpffs'>): Promise<void> {
  const dir = env.bpffs;
  // libbpf turns every '.' of a pin path into '_' (sanitize_pin_path), so such paths cannot work.
  if (!dir.startsWith('/') || !/^[A-Za-z0-9_/-]+$/.test(dir)) {
    throw new SeconetError('INVALID_ARGUMENT', `bpffs directory ${JSON.stringify(dir)}: use an absolute path of letters, digits, '_', '-' and '/' (libbpf rewrites '.' in pin paths)`, { field: 'bpffs' });
  }
  if (isBpffsMounted(dir)) return;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await runner.run(['mount', '-t', 'bpf', 'bpf', dir]);
}
