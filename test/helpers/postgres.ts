// A private PostgreSQL server for one test: Debian's server binaries (scripts/setup.sh installs
// `postgresql`), a cluster initialised in a temporary directory owned by the `postgres` user,
// listening on 127.0.0.1 at a free port and on a socket in that directory, trust
// authentication for loopback; stopped by PID in teardown (fast shutdown, then SIGKILL) and its
// files removed.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '@seconet/core';
import { requirement, type Gate } from './requirements.js';

export interface TestPostgres {
  /** postgres://seconet@127.0.0.1:PORT/seconet */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number;
  /** A URL of another, empty database on the same server (created on demand). */
  database(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL server binary directory, or undefined when none is installed. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (existsSync(join(bin, 'postgres')) && existsSync(join(bin, 'initdb'))) return bin;
  }
  return undefined;
}

function postgresUser(): { uid: number; gid: number } | undefined {
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0) return undefined;
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/** Needs the PostgreSQL server and root (to run it as the postgres user); see requirement(). */
export function requirePostgres(t: Gate, why: string): boolean {
  let problem: string | undefined;
  if (process.getuid?.() !== 0) problem = `needs root to start a PostgreSQL server as the postgres user for ${why}`;
  else if (postgresBin() === undefined) problem = `the PostgreSQL server is not installed (Debian package postgresql, see scripts/setup.sh); needed for ${why}`;
  else if (postgresUser() === undefined) problem = `the postgres user does not exist (Debian package postgresql creates it); needed for ${why}`;
  return requirement(t, problem);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Initialises and starts a cluster; pass `t` to stop it in t.teardown. */
export async function startPostgres(t?: { teardown(fn: () => Promise<void> | void): void }): Promise<TestPostgres> {
  const bin = postgresBin();
  const user = postgresUser();
  if (!bin || !user) throw new Error('PostgreSQL server not installed (Debian package postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'sn-pg-'));
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'seconet', '--auth=trust', '--locale=C', '--encoding=UTF8', '--no-sync'], { uid: user.uid, gid: user.gid, cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  }
  const port = await freePort();
  // Durability is not under test here: fsync off keeps the test quick on a loaded machine.
  const child = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=50', '-c', 'shared_buffers=32MB'], { uid: user.uid, gid: user.gid, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('postgres did not start');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(pid, 'SIGINT'); // fast shutdown
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 10_000);
    await exited(child);
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  };
  t?.teardown(stop);
  const base = `postgres://seconet@127.0.0.1:${port}`;
  const database = async (name: string): Promise<string> => {
    const c = new pg.Client({ connectionString: `${base}/postgres` });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } finally {
      await c.end();
    }
    return `${base}/${name}`;
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    const c = new pg.Client({ connectionString: `${base}/postgres`, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.end();
      const url = await database('seconet');
      return { url, port, dir, pid, database, stop };
    } catch {
      await c.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop();
  throw new Error(`postgres on port ${port} did not accept connections: ${log}`);
}
