// One Open vSwitch instance per scope: its own ovsdb-server and ovs-vswitchd, run in the
// foreground in the host namespace with their own OVS_RUNDIR/OVS_DBDIR/OVS_LOGDIR under
// env.runDir/<scope-dir>/ovs, so several lab agents (and scopes) on one machine never share a
// database or a control socket, and tearing a scope down (its journal) takes the switch with it.
// Per scope rather than per agent because the journal then owns the daemons' whole lifetime:
// no reference counting across scopes, and GC of a dead scope removes its switch like any
// other object. Daemons are journaled as processes with their /proc start time (PID reuse is
// never hit); their directory as a path. Where the kernel lacks the openvswitch module (this
// lab) bridges use the userspace datapath (datapath_type=netdev).

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SeconetError, pollUntil, sleep } from '@seconet/core';
import { holdingForProbe } from '../capabilities/in-flight.js';
import { isTransientFailure } from '../capabilities/transient.js';
import type { DriverContext, ProbeContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import { processStartTime } from '../journal/undo.js';
import { scopeDirName } from '../names.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import type { RunOptions, Runner, Spawned } from '../runner/runner.js';
import { installedTool } from '../runner/tool-version.js';

export const VSWITCH_SCHEMA = '/usr/share/openvswitch/vswitch.ovsschema';
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface OvsPaths {
  readonly root: string;
  readonly run: string;
  readonly db: string;
  readonly log: string;
  readonly dbFile: string;
  /** ovsdb-server's socket: `--db=unix:<dbSocket>` for ovs-vsctl. */
  readonly dbSocket: string;
}

export function ovsPaths(env: Pick<HostEnv, 'runDir' | 'prefix'>, scope: string): OvsPaths {
  const root = `${env.runDir}/${scopeDirName(env.prefix, scope)}/ovs`;
  return { root, run: `${root}/run`, db: `${root}/db`, log: `${root}/log`, dbFile: `${root}/db/conf.db`, dbSocket: `${root}/run/db.sock` };
}

/** A bridge's OpenFlow management socket (what ovs-ofctl talks to), next to the db socket. */
export function mgmtSocket(dbSocket: string, bridge: string): string {
  return `${dbSocket.slice(0, dbSocket.lastIndexOf('/'))}/${bridge}.mgmt`;
}

export function ovsEnv(p: OvsPaths): Record<string, string> {
  return { OVS_RUNDIR: p.run, OVS_DBDIR: p.db, OVS_LOGDIR: p.log };
}

/** Whether the kernel has the openvswitch datapath (else bridges are datapath_type=netdev). */
export function kernelDatapath(): boolean {
  return existsSync('/sys/module/openvswitch');
}

export function datapathType(): 'system' | 'netdev' {
  return kernelDatapath() ? 'system' : 'netdev';
}

export async function vsctl(runner: Runner, p: OvsPaths, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await runner.run(['ovs-vsctl', `--db=unix:${p.dbSocket}`, '--timeout=15', ...args], { env: ovsEnv(p), timeoutMs: 20_000, ...opts });
  return r.stdout;
}


function alive(ctx: DriverContext, what: string): { pid: number; startTime: string } | undefined {
  for (const o of ctx.journal.objects()) {
    if (o.type === 'process' && o.what === what && processStartTime(o.pid) === o.startTime) return o;
  }
  return undefined;
}

/**
 * A daemon of this switch that runs but is not journaled (the agent stopped between spawning
 * it and writing the journal): found by its pidfile and its command line naming our files, and
 * journaled now, since a second ovsdb-server would fail on the database lock.
 */
async function adopt(ctx: DriverContext, p: OvsPaths, what: string, mark: string): Promise<boolean> {
  let pid: number;
  let cmdline: string;
  try {
    pid = Number((await readFile(`${p.run}/${what}.pid`, 'utf8')).trim());
    cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return false;
  }
  const startTime = processStartTime(pid);
  if (startTime === undefined || !cmdline.includes(what) || !cmdline.includes(mark)) return false;
  await ctx.journal.record({ type: 'process', pid, startTime, what });
  return true;
}

async function spawnDaemon(ctx: DriverContext, p: OvsPaths, what: string, argv: readonly string[]): Promise<void> {
  const proc = ctx.runner.spawn(argv, { netns: ctx.env.hostNetns, detached: true, logFile: `${p.log}/${what}.out`, env: ovsEnv(p) });
  let startTime: string | undefined;
  await pollUntil(() => (startTime = proc.startTime()) !== undefined, 200, 5);
  if (startTime === undefined) throw new SeconetError('COMMAND_FAILED', `${what} exited at start; see ${p.log}/${what}.out`);
  await ctx.journal.record({ type: 'process', pid: proc.pid, startTime, what });
}

/**
 * Waits for a daemon to answer. Past the deadline it fails as TIMEOUT, with the daemon's last
 * answer: a daemon that did not come up in time on a loaded host (ovs-vswitchd took more than
 * 10 s in an emulated guest under load) is not a switch that does not work.
 */
async function waitFor(what: string, p: OvsPaths, fn: () => Promise<unknown>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await fn();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new SeconetError('TIMEOUT', `${what} did not come up within ${ms} ms (last answer: ${e instanceof Error ? e.message : String(e)}); see ${p.log}`, { cause: e });
      await sleep(50);
    }
  }
}

/** The scope's ovsdb-server and ovs-vswitchd, started unless both still run; returns true when it started one. */
export async function ensureOvsDaemons(ctx: DriverContext): Promise<{ paths: OvsPaths; started: boolean }> {
  const p = ovsPaths(ctx.env, ctx.scope);
  if (p.dbSocket.length > MAX_SOCKET_PATH || mgmtSocket(p.dbSocket, 'x'.repeat(15)).length > MAX_SOCKET_PATH) {
    throw new SeconetError('INVALID_ARGUMENT', `runDir: ${ctx.env.runDir} is too long for OVS unix sockets (at most ${MAX_SOCKET_PATH} bytes per socket path); choose a shorter runDir`, { field: 'runDir' });
  }
  const db = alive(ctx, 'ovsdb-server');
  const vswitchd = alive(ctx, 'ovs-vswitchd');
  if (db !== undefined && vswitchd !== undefined) return { paths: p, started: false };

  // The scope directory is ours only when we make it (tunnels keep their files there too).
  const scopeDir = dirname(p.root);
  await ctx.journal.recordAll([...(existsSync(scopeDir) ? [] : [{ type: 'path', path: scopeDir } as const]), { type: 'path', path: p.root }]);
  for (const d of [p.run, p.db, p.log]) await mkdir(d, { recursive: true, mode: 0o700 });
  if (db === undefined && !(await adopt(ctx, p, 'ovsdb-server', p.dbFile))) {
    if (!existsSync(p.dbFile)) await ctx.runner.run(['ovsdb-tool', 'create', p.dbFile, VSWITCH_SCHEMA], { env: ovsEnv(p) });
    await spawnDaemon(ctx, p, 'ovsdb-server', [
      'ovsdb-server', p.dbFile, `--remote=punix:${p.dbSocket}`, `--pidfile=${p.run}/ovsdb-server.pid`, `--unixctl=${p.run}/ovsdb-server.ctl`,
      `--log-file=${p.log}/ovsdb-server.log`, '--overwrite-pidfile', '-vconsole:off',
    ]);
    await waitFor('ovsdb-server', p, () => vsctl(ctx.runner, p, ['--no-wait', 'init'], { timeoutMs: 2000 }));
  }
  if (vswitchd === undefined && !(await adopt(ctx, p, 'ovs-vswitchd', p.dbSocket))) {
    await spawnDaemon(ctx, p, 'ovs-vswitchd', [
      'ovs-vswitchd', `unix:${p.dbSocket}`, `--pidfile=${p.run}/ovs-vswitchd.pid`, `--unixctl=${p.run}/ovs-vswitchd.ctl`,
      `--log-file=${p.log}/ovs-vswitchd.log`, '--overwrite-pidfile', '-vconsole:off',
    ]);
    await waitFor('ovs-vswitchd', p, () => ctx.runner.run(['ovs-appctl', '-t', `${p.run}/ovs-vswitchd.ctl`, 'version'], { timeoutMs: 2000 }));
  }
  return { paths: p, started: true };
}

/** Whether both daemons of the scope still run (for check). */
export function ovsDaemonsAlive(ctx: DriverContext): { ovsdb: boolean; vswitchd: boolean } {
  return { ovsdb: alive(ctx, 'ovsdb-server') !== undefined, vswitchd: alive(ctx, 'ovs-vswitchd') !== undefined };
}

/** `ovs-vswitchd --version` first line (or why it could not be read), "" when OVS is not installed. */
export async function ovsVersion(ctx: ProbeContext | DriverContext): Promise<string> {
  const t = await installedTool(ctx.runner, 'ovs-vswitchd', { argv: ['ovs-vswitchd', '--version'], re: /^\s*(\S.*)$/m, okCodes: [0] });
  return t.installed ? t.version : '';
}

/** Ports of `bridge` ([] when the bridge does not exist). */
export async function listPorts(runner: Runner, p: OvsPaths, bridge: string): Promise<string[]> {
  const exists = await runner.run(['ovs-vsctl', `--db=unix:${p.dbSocket}`, '--timeout=15', 'br-exists', bridge], { env: ovsEnv(p), okCodes: [0, 2] });
  if (exists.exitCode === 2) return [];
  return (await vsctl(runner, p, ['list-ports', bridge])).split('\n').filter((l) => l !== '');
}

/** Why a test switch did not work: the message, and the error (a transient one is not the host's answer). */
export interface SwitchFailure {
  readonly message: string;
  readonly cause: unknown;
}

const probes = new Map<string, { at: number; result: Promise<SwitchFailure | undefined> }>();

/**
 * Starts a throwaway switch (its own daemons and run directory, in a throwaway namespace),
 * adds a bridge of the datapath this host supports and one flow, then stops it. Resolves to
 * undefined when all of that worked, else to the failure. Shared by the network and filter
 * probes (one run per runDir per minute; a failure that may pass, as a timeout, is not kept).
 */
export function probeSwitch(ctx: ProbeContext): Promise<SwitchFailure | undefined> {
  const hit = probes.get(ctx.env.runDir);
  if (hit !== undefined && Date.now() - hit.at < 60_000) return hit.result;
  const entry = {
    at: Date.now(),
    result: runProbe(ctx).then(
      () => undefined,
      (e: unknown): SwitchFailure => {
        if (isTransientFailure(e) && probes.get(ctx.env.runDir) === entry) probes.delete(ctx.env.runDir);
        return { message: e instanceof Error ? e.message : String(e), cause: e };
      },
    ),
  };
  probes.set(ctx.env.runDir, entry);
  return entry.result;
}

async function runProbe(ctx: ProbeContext): Promise<void> {
  const p = ovsPaths(ctx.env, `probe-${randomBytes(4).toString('hex')}`);
  return holdingForProbe([resolve(dirname(p.root))], () => runProbeIn(ctx, p));
}

async function runProbeIn(ctx: ProbeContext, p: OvsPaths): Promise<void> {
  if (mgmtSocket(p.dbSocket, 'x'.repeat(15)).length > MAX_SOCKET_PATH) throw new Error(`runDir ${ctx.env.runDir} is too long for OVS unix sockets`);
  const procs: Spawned[] = [];
  try {
    for (const d of [p.run, p.db, p.log]) await mkdir(d, { recursive: true, mode: 0o700 });
    await ctx.runner.run(['ovsdb-tool', 'create', p.dbFile, VSWITCH_SCHEMA], { env: ovsEnv(p) });
    await withProbeNetns(ctx, async (netns) => {
      const opts = { netns, env: ovsEnv(p), stdio: 'ignore' as const };
      procs.push(ctx.runner.spawn(['ovsdb-server', p.dbFile, `--remote=punix:${p.dbSocket}`, `--unixctl=${p.run}/ovsdb-server.ctl`, '-vconsole:off'], opts));
      await waitFor('ovsdb-server', p, () => vsctl(ctx.runner, p, ['--no-wait', 'init'], { timeoutMs: 2000 }));
      procs.push(ctx.runner.spawn(['ovs-vswitchd', `unix:${p.dbSocket}`, `--unixctl=${p.run}/ovs-vswitchd.ctl`, '-vconsole:off'], opts));
      await waitFor('ovs-vswitchd', p, () => ctx.runner.run(['ovs-appctl', '-t', `${p.run}/ovs-vswitchd.ctl`, 'version'], { timeoutMs: 2000 }));
      const br = 'snprobe';
      await vsctl(ctx.runner, p, ['add-br', br, '--', 'set', 'bridge', br, `datapath_type=${datapathType()}`]);
      const mgmt = `unix:${mgmtSocket(p.dbSocket, br)}`;
      await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'add-flow', mgmt, 'priority=10,ip,nw_src=198.19.0.2,actions=drop'], { netns });
      const flows = await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', '--no-stats', mgmt], { netns });
      if (!flows.stdout.includes('nw_src=198.19.0.2')) throw new Error('a flow added to a test bridge was not read back');
    });
  } finally {
    for (const s of procs.reverse()) await s.stop(1000);
    await rm(dirname(p.root), { recursive: true, force: true });
  }
}
