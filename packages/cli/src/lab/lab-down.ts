// Takes a lab down, or cleans what a crashed one left: the supervisor, the controller, the agents
// and Redis are stopped by recorded PID (SIGTERM, then SIGKILL; only when start time and command line still
// match); daemons the agents started (recorded in their journals) likewise; then the agents'
// container namespaces, the lab's host and switch namespaces, and the lab's files. Every step
// tolerates what is already gone, so it can run twice and after any kind of crash.

import { readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { listLabNamespaces, removeStalePrefixLocks, type Runner } from '@seconet/agent';
import type { LabState } from './lab-state.js';
import { readLabState, removeLabState } from './lab-state.js';
import { procStartTime, stopProcess } from './processes.js';
import { AGENT_CMD, CONTROLLER_CMD, REDIS_CMD, SUPERVISOR_CMD } from './daemons.js';
import { stopVmGuests } from './vm-lab.js';

export { AGENT_CMD, CONTROLLER_CMD, REDIS_CMD, SUPERVISOR_CMD };

/** Paths under the lab dir that `lab up` creates. */
export const LAB_ENTRIES = ['state.json', 'state.json.tmp', 'token', 'pki', 'redis', 'hosts', 'controller', 'supervisor.log', 'vm'];

interface JournalObject {
  type?: string;
  name?: string;
  pid?: number;
  startTime?: string;
}

/** Objects of an agent's on-disk journals (<stateDir>/journal/*.json) that outlive the agent. */
function journalLeftovers(stateDir: string): { netns: string[]; processes: Array<{ pid: number; startTime: string }> } {
  const out = { netns: [] as string[], processes: [] as Array<{ pid: number; startTime: string }> };
  let files: string[] = [];
  try {
    files = readdirSync(join(stateDir, 'journal')).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const f of files) {
    try {
      const j = JSON.parse(readFileSync(join(stateDir, 'journal', f), 'utf8')) as { objects?: JournalObject[] };
      for (const o of j.objects ?? []) {
        if (o.type === 'netns' && typeof o.name === 'string' && /^sn[a-z0-9]{2}[A-Za-z0-9_.-]*$/.test(o.name)) out.netns.push(o.name);
        if (o.type === 'process' && typeof o.pid === 'number' && typeof o.startTime === 'string') out.processes.push({ pid: o.pid, startTime: o.startTime });
      }
    } catch {
      /* a torn or foreign file: the namespace sweep below still catches its namespaces */
    }
  }
  return out;
}

async function killRecorded(pid: number, startTime: string): Promise<void> {
  if (procStartTime(pid) !== startTime) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

function reread(given: LabState): LabState {
  try {
    const now = readLabState(given.dir);
    return now !== undefined && now.id === given.id ? now : given;
  } catch {
    return given;
  }
}

export interface DownReport {
  readonly stopped: string[];
  readonly namespacesRemoved: string[];
}

export async function takeLabDown(runner: Runner, given: LabState, opts: { keepFiles?: boolean } = {}): Promise<DownReport> {
  const stopped: string[] = [];
  // The supervisor first, or it would restart what the next lines stop; then the state it may
  // have updated with the PIDs of daemons it restarted.
  if ((await stopProcess(given.supervisor, SUPERVISOR_CMD, 5000)) === 'stopped') stopped.push(`supervisor ${given.supervisor?.pid}`);
  const state = reread(given);
  if ((await stopProcess(state.controller, CONTROLLER_CMD, 10_000)) === 'stopped') stopped.push(`controller ${state.controller?.pid}`);
  await Promise.all(
    state.hosts.map(async (h) => {
      if ((await stopProcess(h.agent, AGENT_CMD, 10_000)) === 'stopped') stopped.push(`agent ${h.name} ${h.agent?.pid}`);
    }),
  );
  if ((await stopProcess(state.redis, REDIS_CMD, 5000)) === 'stopped') stopped.push(`redis ${state.redis?.pid}`);
  // A VM lab's guests (everything the agents made lives and dies in them), then their namespace below.
  if (state.vm !== undefined) stopped.push(...(await stopVmGuests(state)));

  const removed: string[] = [];
  const existing = new Set((await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? ''));
  for (const h of state.hosts) {
    const left = journalLeftovers(join(state.dir, 'hosts', h.name, 'state'));
    for (const p of left.processes) await killRecorded(p.pid, p.startTime);
    for (const ns of left.netns) {
      if (!existing.has(ns)) continue;
      await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
      removed.push(ns);
    }
  }
  const labNs = new Set([...state.hosts.map((h) => h.netns), state.switchNetns, ...(state.vm ? [state.vm.netns] : []), ...(await listLabNamespaces(runner, state.id))].filter((n) => n !== ''));
  for (const ns of labNs) {
    if (!existing.has(ns)) continue;
    await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    removed.push(ns);
  }
  await unmountUnder(runner, state.dir);
  removeStalePrefixLocks();
  if (opts.keepFiles !== true) removeLabFiles(state.dir);
  return { stopped, namespacesRemoved: [...new Set(removed)] };
}

/** Mount points below `dir` (an agent's bpffs stays mounted when the agent is killed), deepest first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return mountinfo
    .split('\n')
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m) => m.startsWith(base))
    .sort((a, b) => b.length - a.length);
}

async function unmountUnder(runner: Runner, dir: string): Promise<void> {
  for (const m of mountsUnder(dir)) await runner.run(['umount', m]).catch(() => runner.run(['umount', '-l', m]).catch(() => undefined));
}

export function removeLabFiles(dir: string): void {
  for (const e of LAB_ENTRIES) rmSync(join(dir, e), { recursive: true, force: true });
  removeLabState(dir);
  try {
    rmdirSync(dir);
  } catch {
    /* not empty (someone else's files) or already gone */
  }
}
