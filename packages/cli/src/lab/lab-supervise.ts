// `seconet lab supervise`: the lab's own supervisor, started by `lab up`, so that a daemon that
// crashes in the night is back within seconds instead of waiting for a person. Every interval it
// checks the daemons the state file records (by PID, start time and command line, never by
// name) and restarts each one that exited with its recorded config (daemons.ts), Redis before
// the others. A daemon that keeps dying is restarted with a growing delay (1 s doubling up to
// 30 s, reset after a minute of running). It exits when the lab is taken down (no state file,
// or another lab id), when another supervisor is recorded in its place, and on SIGTERM/SIGINT.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Runner } from '@seconet/agent';
import { deadDaemons, restartDaemon, type DaemonName } from './daemons.js';
import { readLabState, writeLabState, type LabState } from './lab-state.js';
import { redisPing } from './net-util.js';
import { pollUntil } from '@seconet/core';

export interface SuperviseOptions {
  readonly runner: Runner;
  readonly dir: string;
  readonly signal: AbortSignal;
  readonly intervalMs?: number;
  /** One line per event (restarts, exits), for the supervisor's log. */
  readonly log?: (line: string) => void;
  /** This process's PID, as recorded in the state file by `lab up`. */
  readonly pid?: number;
}

interface Backoff {
  restarts: number;
  lastAt: number;
}

export function restartDelayMs(restarts: number): number {
  return restarts <= 0 ? 0 : Math.min(30_000, 1000 * 2 ** (restarts - 1));
}

function safeRead(dir: string): LabState | undefined {
  try {
    return readLabState(dir);
  } catch {
    return undefined;
  }
}

/** Runs until the signal aborts or the lab is gone; resolves with the number of restarts made. */
export async function superviseLab(o: SuperviseOptions): Promise<number> {
  const log = o.log ?? (() => undefined);
  const me = o.pid ?? process.pid;
  const interval = o.intervalMs ?? 1000;
  const backoff = new Map<DaemonName, Backoff>();
  let labId: string | undefined;
  let recorded = false;
  const startedAt = Date.now();
  let total = 0;
  while (!o.signal.aborted) {
    const state = safeRead(o.dir);
    if (state === undefined || (labId !== undefined && state.id !== labId)) {
      log('the lab is gone; exiting');
      return total;
    }
    labId = state.id;
    if (state.supervisor?.pid === me) recorded = true;
    else if (recorded || Date.now() - startedAt > 30_000) {
      // lab up records us right after starting us; another PID there means we were replaced.
      log(`another supervisor (${state.supervisor?.pid ?? 'none'}) is recorded; exiting`);
      return total;
    }
    if (recorded) {
      let current = state;
      for (const d of deadDaemons(current)) {
        const b = backoff.get(d) ?? { restarts: 0, lastAt: 0 };
        if (Date.now() - b.lastAt > 60_000) b.restarts = 0;
        if (Date.now() - b.lastAt < restartDelayMs(b.restarts)) continue;
        try {
          current = restartDaemon(o.runner, current, d);
          writeLabState(current);
          b.restarts++;
          b.lastAt = Date.now();
          backoff.set(d, b);
          total++;
          log(`restarted ${d}`);
          if (d === 'redis') await pollUntil(() => redisPing(current.redis!.port), 10_000, 200);
        } catch (e) {
          log(`could not restart ${d}: ${(e as Error).message}`);
        }
      }
    }
    await sleep(interval, undefined, { signal: o.signal }).catch(() => undefined);
  }
  log('stopping');
  return total;
}
