// A private redis-server for one test: random loopback port, its own temporary directory,
// the lab's settings (noeviction, AOF on), killed by PID in teardown with its files removed.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from '@seconet/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  stop(): Promise<void>;
}

export { freePort };

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (b) => {
      s.destroy();
      // A Redis that requires a password answers NOAUTH: it is up all the same.
      resolve(b.toString().startsWith('+PONG') || b.toString().startsWith('-NOAUTH'));
    });
    s.once('error', () => resolve(false));
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 500);
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Starts redis-server (with `password` as requirepass when given); pass `t` to stop it in t.teardown. */
export async function startRedis(t?: { teardown(fn: () => Promise<void> | void): void }, opts: { readonly password?: string } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'sn-redis-'));
  const port = await freePort();
  const child = spawn('/usr/bin/redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction',
    '--save', '', '--daemonize', 'no', '--loglevel', 'warning', '--protected-mode', 'yes',
    ...(opts.password === undefined ? [] : ['--requirepass', opts.password]),
  ], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('redis-server did not start');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  t?.teardown(stop);
  for (let i = 0; i < 100; i++) {
    if (await ping(port)) return { url: `redis://127.0.0.1:${port}`, port, dir, pid, stop };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`redis-server on port ${port} did not answer`);
}
