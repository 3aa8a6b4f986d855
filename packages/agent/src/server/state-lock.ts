// One agent per state directory and per name prefix. Two agents sharing a journal, or a
// prefix, would each garbage-collect the other's objects, so before it reads the journal the
// agent takes `<stateDir>/agent.lock` and a machine-wide `/run/seconet/prefixes/<prefix>.lock`
// (its PID and the process start time, field 22 of /proc/PID/stat, so a recycled PID does not
// count as alive). A lock left by a crashed agent is taken over; a live holder is refused.

import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SeconetError } from '@seconet/core';
import { processStartTime } from '../journal/undo.js';

export const LOCK_FILE = 'agent.lock';
export const PREFIX_LOCK_DIR = '/run/seconet/prefixes';

export interface StateLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

// Process identity (PID plus start time, field 22 of /proc/PID/stat) has one reader in the agent.
export { processStartTime };

interface LockContent {
  pid: number;
  startTime: string;
  name: string;
}

function readLock(path: string): LockContent | undefined {
  try {
    const c = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof c.pid === 'number' && typeof c.startTime === 'string') return { pid: c.pid, startTime: c.startTime, name: String(c.name ?? '') };
  } catch {
    /* unreadable or half-written: treated as stale */
  }
  return undefined;
}

function acquire(path: string, agentName: string, refuse: (holder: LockContent) => SeconetError): StateLock {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const me: LockContent = { pid: process.pid, startTime: processStartTime(process.pid) ?? '', name: agentName };
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(path);
      if (holder !== undefined && processStartTime(holder.pid) === holder.startTime) throw refuse(holder);
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me) + '\n');
    } finally {
      closeSync(fd);
    }
    return {
      path,
      release: () => {
        const cur = readLock(path);
        if (cur !== undefined && cur.pid === me.pid && cur.startTime === me.startTime) rmSync(path, { force: true });
      },
    };
  }
  throw new SeconetError('CONFLICT', `could not take ${path}; another agent keeps racing for it`);
}

export function acquireStateLock(stateDir: string, agentName: string): StateLock {
  return acquire(join(stateDir, LOCK_FILE), agentName, (h) =>
    new SeconetError('CONFLICT', `stateDir: ${stateDir} is in use by agent ${JSON.stringify(h.name)} (pid ${h.pid}); give each agent its own stateDir`, { field: 'stateDir', details: { pid: h.pid } }),
  );
}

/**
 * Removes the prefix locks of agents that are gone (killed, or crashed before they could release
 * them), so /run does not collect one file per killed agent. Live holders are never touched.
 */
export function removeStalePrefixLocks(dir: string = PREFIX_LOCK_DIR): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^sn[a-z0-9]{2}\.lock$/.test(n));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const holder = readLock(path);
    if (holder !== undefined && processStartTime(holder.pid) === holder.startTime) continue;
    rmSync(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/** Prefixes whose lock a live agent holds on this machine. */
export function prefixesInUse(dir: string = PREFIX_LOCK_DIR): Set<string> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^sn[a-z0-9]{2}\.lock$/.test(n));
  } catch {
    return new Set();
  }
  const out = new Set<string>();
  for (const n of names) {
    const holder = readLock(join(dir, n));
    if (holder !== undefined && processStartTime(holder.pid) === holder.startTime) out.add(n.slice(0, -'.lock'.length));
  }
  return out;
}

export function acquirePrefixLock(prefix: string, agentName: string, dir: string = PREFIX_LOCK_DIR): StateLock {
  removeStalePrefixLocks(dir);
  return acquire(join(dir, `${prefix}.lock`), agentName, (h) =>
    new SeconetError('CONFLICT', `prefix: ${prefix} is in use by agent ${JSON.stringify(h.name)} (pid ${h.pid}) on this machine; give each agent its own prefix`, { field: 'prefix', details: { pid: h.pid } }),
  );
}
