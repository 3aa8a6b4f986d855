// Starting and stopping the lab's daemons by PID. A recorded PID is only signalled when
// /proc/PID/stat still shows the recorded start time and /proc/PID/cmdline the expected program,
// so a PID the kernel reused for someone else's process is never killed.

import { readFileSync } from 'node:fs';
import { sleep } from '@seconet/core';
import { processStartTime, type Runner } from '@seconet/agent';
import type { ProcessRecord } from './lab-state.js';

/** Start time of a live process (field 22 of /proc/PID/stat), undefined when gone or a zombie. */
export const procStartTime = processStartTime;

export function procCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s.length > 0);
  } catch {
    return [];
  }
}

/** True when the recorded process still runs (same PID, same start time, expected program). */
export function isOurs(rec: ProcessRecord, expect: RegExp): boolean {
  // A zombie or a reused PID has no (or another) start time.
  if (procStartTime(rec.pid) !== rec.startTime) return false;
  return expect.test(procCmdline(rec.pid).join(' '));
}

/** SIGTERM, wait up to graceMs, then SIGKILL; only when the record still names our process. */
export async function stopProcess(rec: ProcessRecord | undefined, expect: RegExp, graceMs = 5000): Promise<'stopped' | 'gone'> {
  if (rec === undefined || !isOurs(rec, expect)) return 'gone';
  try {
    process.kill(rec.pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isOurs(rec, expect)) return 'stopped';
    await sleep(50);
  }
  try {
    process.kill(rec.pid, 'SIGKILL');
  } catch {
    /* ended meanwhile */
  }
  for (let i = 0; i < 40 && isOurs(rec, expect); i++) await sleep(50);
  return 'stopped';
}

/**
 * Starts a daemon in its own process group with output appended to logFile, so it outlives
 * `seconet lab up`. Goes through the agent's Runner: argv array, no shell, absolute paths.
 */
export function startDetached(runner: Runner, argv: readonly string[], logFile: string, env: Record<string, string> = {}): ProcessRecord {
  const p = runner.spawn(argv, { detached: true, logFile, env });
  if (p.pid <= 0) throw new Error(`could not start ${argv[0]}`);
  return { pid: p.pid, startTime: procStartTime(p.pid) ?? '', logFile };
}

/** The last lines of a log file, for error messages when a daemon does not come up. */
export function tailFile(path: string, lines = 15): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
