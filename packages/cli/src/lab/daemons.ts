// The lab's daemons and how each one is (re)started: the same argv, config file, port and data
// directory every time, so a daemon restarted after a crash picks up exactly where the dead one
// was (Redis replays its AOF, the controller reopens its store and resumes queued and running
// experiments, an agent reloads its journal and serves on its recorded address).

import type { Runner } from '@seconet/agent';
import { selfArgv } from '../self-invoke.js';
import type { LabState, ProcessRecord } from './lab-state.js';
import { isOurs, startDetached } from './processes.js';

export const AGENT_CMD = /\bagent\b.*--config/;
export const CONTROLLER_CMD = /\bcontroller\b.*--config/;
export const REDIS_CMD = /redis-server/;
export const SUPERVISOR_CMD = /\blab\b.*\bsupervise\b/;

/**
 * Redis for the lab: AOF with fsync on every write, so a Redis killed in the night loses no
 * acknowledged queue or lock write; no RDB snapshots; no eviction.
 */
export function redisArgv(port: number, dir: string): string[] {
  return ['redis-server', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no'];
}

export function startRedis(runner: Runner, port: number, dir: string, logFile: string): ProcessRecord {
  return startDetached(runner, redisArgv(port, dir), logFile);
}

export function startAgentDaemon(runner: Runner, configFile: string, logFile: string): ProcessRecord {
  return startDetached(runner, selfArgv(['agent', '--config', configFile]), logFile);
}

export function startControllerDaemon(runner: Runner, configFile: string, logFile: string): ProcessRecord {
  return startDetached(runner, selfArgv(['controller', '--config', configFile]), logFile);
}

export function startSupervisor(runner: Runner, dir: string, logFile: string): ProcessRecord {
  return startDetached(runner, selfArgv(['lab', 'supervise']), logFile, { SECONET_LAB_DIR: dir });
}

export type DaemonName = 'redis' | 'controller' | `agent ${string}`;

/** The lab's daemons that are not running any more (by PID, start time and command line). */
export function deadDaemons(state: LabState): DaemonName[] {
  const dead: DaemonName[] = [];
  if (state.redis === undefined || !isOurs(state.redis, REDIS_CMD)) dead.push('redis');
  // A VM lab's agents run in the guests: the controller restarts them over SSH (its recovery).
  if (state.vm === undefined) for (const h of state.hosts) if (h.agent === undefined || !isOurs(h.agent, AGENT_CMD)) dead.push(`agent ${h.name}`);
  if (state.controller === undefined || !isOurs(state.controller, CONTROLLER_CMD)) dead.push('controller');
  return dead;
}

/**
 * Restarts one daemon of a complete lab with its recorded config and returns the new state
 * (the caller writes it). Redis keeps its port and directory, the agents and the controller
 * their config files.
 */
export function restartDaemon(runner: Runner, state: LabState, which: DaemonName): LabState {
  if (which === 'redis') {
    const r = state.redis;
    if (r === undefined) throw new Error('the lab has no Redis record');
    return { ...state, redis: { ...startRedis(runner, r.port, r.dir, r.logFile), port: r.port, dir: r.dir } };
  }
  if (which === 'controller') {
    const c = state.controller;
    if (c === undefined) throw new Error('the lab has no controller record');
    return { ...state, controller: { ...startControllerDaemon(runner, c.configFile, c.logFile), configFile: c.configFile } };
  }
  const name = which.slice('agent '.length);
  return {
    ...state,
    hosts: state.hosts.map((h) => {
      if (h.name !== name) return h;
      if (h.agent === undefined) throw new Error(`host ${name} has no agent record`);
      return { ...h, agent: startAgentDaemon(runner, h.configFile, h.agent.logFile) };
    }),
  };
}
