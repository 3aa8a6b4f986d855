// The per-scope run directory with 0600 files, and foreground daemons recorded in the journal
// with their start time: started, kept, restarted on a changed configuration, stopped.

import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeconetError, pollUntil } from '@seconet/core';
import type { DriftReport, DriverContext } from '../driver.js';
import { hostWaitMs } from '../host-env.js';
import { processStartTime } from '../journal/undo.js';
import { scopeDirName } from '../names.js';
import { ipArgv, nsOpt, readLink } from './links.js';

/** The scope's run directory for this driver (created 0700, recorded before creation). */
export async function scopeRunDir(ctx: DriverContext, kind: string): Promise<string> {
  const base = join(ctx.env.runDir, scopeDirName(ctx.env.prefix, ctx.scope));
  const dir = join(base, kind);
  await ctx.journal.record({ type: 'path', path: base });
  await mkdir(base, { recursive: true, mode: 0o700 });
  await ctx.journal.record({ type: 'path', path: dir });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes a file with mode 0600, recorded before it is written. Returns true when the content changed. */
export async function writePrivateFile(ctx: DriverContext, path: string, content: string): Promise<boolean> {
  await ctx.journal.record({ type: 'path', path });
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await writeFile(path, content, { mode: 0o600 });
  return true;
}

export interface DaemonNote {
  readonly pid: number;
  readonly startTime: string;
  readonly digest: string;
}

export function daemonAlive(n: DaemonNote | undefined): boolean {
  return n !== undefined && processStartTime(n.pid) === n.startTime;
}


export interface StartDaemonOptions {
  readonly what: string;
  readonly logFile: string;
  readonly env?: Record<string, string>;
  /** Run outside the host namespace (the argv enters it itself, e.g. nsenter). */
  readonly noNetns?: boolean;
  /** Run in this namespace instead of the host namespace (a container's, for a proxy in its path). */
  readonly netns?: string;
  readonly secrets?: readonly string[];
}

/**
 * Starts a foreground daemon, detached, and records it as {type:'process', pid, startTime}.
 * The journal entry is written right after spawn (a PID does not exist before), before the
 * daemon can create anything; the objects it creates are recorded by the caller before it
 * waits for them.
 */
export async function startDaemon(ctx: DriverContext, argv: readonly string[], o: StartDaemonOptions): Promise<DaemonNote & { exited: Promise<unknown>; alive: () => boolean }> {
  await ctx.journal.record({ type: 'path', path: o.logFile });
  const p = ctx.runner.spawn(argv, {
    ...(o.noNetns ? {} : o.netns !== undefined ? { netns: o.netns } : nsOpt(ctx.env)),
    detached: true,
    logFile: o.logFile,
    ...(o.env ? { env: o.env } : {}),
    ...(o.secrets ? { secrets: o.secrets } : {}),
  });
  if (p.pid <= 0) throw new SeconetError('COMMAND_FAILED', `${o.what} did not start (see ${o.logFile})`);
  let startTime: string | undefined;
  await pollUntil(() => (startTime = p.startTime()) !== undefined, hostWaitMs(ctx.env, 1000), 5);
  if (startTime === undefined) {
    const tail = await readFile(o.logFile, 'utf8').catch(() => '');
    throw new SeconetError('COMMAND_FAILED', `${o.what} exited at once: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
  }
  await ctx.journal.record({ type: 'process', pid: p.pid, startTime, what: o.what });
  return { pid: p.pid, startTime, digest: '', exited: p.exited, alive: () => p.alive() };
}

/** Stops a daemon this driver recorded (config changed, peer left) and forgets its journal entry. */
export async function stopDaemon(ctx: DriverContext, n: DaemonNote): Promise<void> {
  if (processStartTime(n.pid) === n.startTime) {
    try {
      process.kill(n.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const gone = await pollUntil(() => processStartTime(n.pid) !== n.startTime, hostWaitMs(ctx.env, 3000));
    if (!gone) {
      try {
        process.kill(n.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await pollUntil(() => processStartTime(n.pid) !== n.startTime, hostWaitMs(ctx.env, 1000));
    }
  }
  const entries = ctx.journal.objects().filter((o) => o.type === 'process' && o.pid === n.pid && o.startTime === n.startTime);
  await ctx.journal.forgetAll(entries);
}

export interface DaemonWant {
  /** Journal note key of this daemon (one per daemon: per host, or per peer for openvpn). */
  readonly key: string;
  /** Digest of everything the daemon was started with; a different one restarts it. */
  readonly digest: string;
  readonly argv: readonly string[];
  readonly opts: StartDaemonOptions;
  /** The device the daemon creates (recorded before the daemon starts, waited for after). */
  readonly device?: string;
}

/**
 * Keeps one daemon running with the wanted configuration: reused while alive with the same
 * digest, else the old one is stopped and a new one started (and its device awaited).
 * Returns whether it (re)started.
 */
export async function ensureDaemon(ctx: DriverContext, w: DaemonWant): Promise<boolean> {
  const prev = ctx.journal.note(w.key) as DaemonNote | undefined;
  if (prev && prev.digest === w.digest && daemonAlive(prev) && (w.device === undefined || (await readLink(ctx, w.device)) !== undefined)) return false;
  if (prev) await stopDaemon(ctx, prev);
  if (w.device !== undefined) {
    await ctx.journal.record({ type: 'link', name: w.device, netns: ctx.env.hostNetns });
    if (await readLink(ctx, w.device)) await ctx.runner.run([...ipArgv(ctx.env), 'link', 'del', 'dev', w.device]).catch(() => undefined);
  }
  const d = await startDaemon(ctx, w.argv, w.opts);
  await ctx.journal.setNote(w.key, { pid: d.pid, startTime: d.startTime, digest: w.digest } satisfies DaemonNote);
  if (w.device !== undefined) await waitForLink(ctx, w.device, w.opts.what, w.opts.logFile);
  return true;
}

export async function logTail(path: string, lines = 5): Promise<string> {
  const t = await readFile(path, 'utf8').catch(() => '');
  return t.trim().split('\n').slice(-lines).join(' | ');
}

/** Waits for a device a daemon creates; throws naming the daemon's log on timeout. */
export async function waitForLink(ctx: DriverContext, name: string, what: string, logFile: string, waitMs = 10_000): Promise<void> {
  const timeoutMs = hostWaitMs(ctx.env, waitMs);
  const ok = await pollUntil(async () => (await readLink(ctx, name)) !== undefined, timeoutMs, 25);
  if (!ok) throw new SeconetError('COMMAND_FAILED', `${what} did not create ${name} within ${timeoutMs} ms: ${await logTail(logFile)}`);
}

export function daemonDrift(n: DaemonNote | undefined, what: string): DriftReport[] {
  if (n === undefined) return [{ object: what, expected: 'running', observed: 'never started' }];
  return daemonAlive(n) ? [] : [{ object: `${what} (pid ${n.pid})`, expected: 'running', observed: 'not running' }];
}
