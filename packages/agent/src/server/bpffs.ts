// The agent's own bpffs mount (env.bpffs): BPF filters and solutions pin maps and programs
// below it, and unmounting it at stop drops every pin at once. The machine's /sys/fs/bpf may
// not be mounted (LAB-NOTES) and is shared; a private mount per agent keeps pins apart.

import { mkdirSync, readFileSync } from 'node:fs';
import type { Runner } from '../runner/runner.js';

/** Whether a bpf filesystem is mounted exactly at `path` (from /proc/self/mountinfo). */
export function isBpffsMounted(path: string): boolean {
  let info: string;
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return false;
  }
  return info.split('\n').some((line) => {
    const [pre, post] = line.split(' - ');
    const mountPoint = pre?.split(' ')[4]?.replace(/\\040/g, ' ');
    return mountPoint === path && post?.split(' ')[0] === 'bpf';
  });
}

/** Mounts bpffs at `path` unless one is there already (left by a crashed run); true when it mounted. */
export async function mountBpffs(runner: Runner, path: string): Promise<boolean> {
  if (isBpffsMounted(path)) return false;
  mkdirSync(path, { recursive: true, mode: 0o700 });
  await runner.run(['mount', '-t', 'bpf', 'bpf', path]);
  return true;
}

export async function unmountBpffs(runner: Runner, path: string): Promise<void> {
  while (isBpffsMounted(path)) await runner.run(['umount', path]);
}
