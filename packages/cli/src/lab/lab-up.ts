// `seconet lab up`: the embedded lab on one machine (DESIGN.md, "Where it runs"). A lab that is
// already up and healthy is kept (same host count) or refused (another); otherwise it first
// cleans what a previous lab left (see lab-down.ts), then creates the host namespaces, a PKI, its own
// Redis, one agent per host and the controller with the REST API, each a detached process
// recorded in the state file as soon as it exists, so a crash at any step leaves a state that
// the next `lab up` or `lab down` can clean. It returns once /healthz answers and every agent
// is healthy.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { createLab, createLabPki, describeLab, randomLabId, type Runner } from '@seconet/agent';
import { SeconetError, pollUntil } from '@seconet/core';
import { ApiClient } from '../api-client.js';
import { selfArgv } from '../self-invoke.js';
import { AGENT_CMD, CONTROLLER_CMD, REDIS_CMD, takeLabDown } from './lab-down.js';
import { labStatus } from './lab-status.js';
import { labDir, readLabState, writeLabState, type LabHostRecord, type LabState } from './lab-state.js';
import { freePorts, redisPing } from './net-util.js';
import { isOurs, startDetached, tailFile } from './processes.js';
import { controllerConfig } from './controller-config.js';

export interface LabUpOptions {
  readonly hosts: number;
  readonly runner: Runner;
  /** Progress lines for humans. */
  readonly say?: (line: string) => void;
  /** How long to wait for the API and the agents (default 60 s). */
  readonly timeoutMs?: number;
  readonly dir?: string;
}

function daemonFailed(what: string, logFile: string): SeconetError {
  return new SeconetError('UNAVAILABLE', `${what} did not come up; last lines of ${logFile}:\n${tailFile(logFile)}`, { field: 'lab' });
}

export async function labUp(opts: LabUpOptions): Promise<LabState> {
  const say = opts.say ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (process.getuid?.() !== 0) throw new SeconetError('UNSUPPORTED', 'lab up creates network namespaces and needs root', { field: 'lab' });
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > 16) throw new SeconetError('INVALID_ARGUMENT', `--hosts ${opts.hosts}: use 1 to 16`, { field: 'hosts' });
  const dir = opts.dir ?? labDir();

  const previous = readLabState(dir);
  if (previous !== undefined) {
    // A healthy lab may be in the middle of an overnight sweep: never tear it down implicitly.
    if ((await labStatus(previous)).running) {
      if (previous.hosts.length === opts.hosts) {
        say(`lab ${previous.id} is already up`);
        return previous;
      }
      throw new SeconetError('CONFLICT', `lab ${previous.id} is running with ${previous.hosts.length} hosts; run "seconet lab down" first to get ${opts.hosts}`, { field: 'hosts' });
    }
    say(`cleaning the previous lab ${previous.id}`);
    await takeLabDown(opts.runner, previous);
  }

  const id = randomLabId();
  const topo = describeLab(id, opts.hosts);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const [apiPort, redisPort, ...agentPorts] = await freePorts(opts.hosts + 2);
  const tokenFile = join(dir, 'token');
  let state: LabState = {
    version: 1,
    id,
    dir,
    createdAt: new Date().toISOString(),
    switchNetns: topo.switchNetns,
    hosts: topo.hosts.map((h) => ({ name: h.name, netns: h.netns, prefix: h.prefix, address: `127.0.0.1:${agentPorts[h.index - 1]}`, configFile: join(dir, 'hosts', h.name, 'agent.yaml') })),
    apiUrl: `http://127.0.0.1:${apiPort}`,
    tokenFile,
  };
  const save = (next: LabState): void => {
    state = next;
    writeLabState(state);
  };
  save(state);

  try {
    say(`creating ${opts.hosts} host namespaces (lab ${id})`);
    await createLab(opts.runner, id, opts.hosts);

    writeFileSync(tokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    say('creating the lab PKI');
    // The lab's CA is throwaway and made anew per lab (createCa refuses to overwrite a CA key).
    rmSync(join(dir, 'pki'), { recursive: true, force: true });
    const pki = await createLabPki(join(dir, 'pki'), topo.hosts.map((h) => h.name), opts.runner);

    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir, { recursive: true, mode: 0o700 });
    say(`starting redis on 127.0.0.1:${redisPort}`);
    const redisLog = join(redisDir, 'redis.log');
    const redis = startDetached(
      opts.runner,
      ['redis-server', '--bind', '127.0.0.1', '--port', String(redisPort), '--dir', redisDir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '', '--protected-mode', 'yes', '--daemonize', 'no'],
      redisLog,
    );
    save({ ...state, redis: { ...redis, port: redisPort!, dir: redisDir } });
    if (!(await pollUntil(() => redisPing(redisPort!), 10_000, 200))) throw daemonFailed('redis', redisLog);

    say('starting the agents');
    const hosts: LabHostRecord[] = [];
    for (const h of topo.hosts) {
      const rec = state.hosts[h.index - 1]!;
      const hostDir = join(dir, 'hosts', h.name);
      mkdirSync(hostDir, { recursive: true, mode: 0o700 });
      const cert = pki.agents[h.name]!;
      const config = {
        name: h.name,
        prefix: h.prefix,
        listen: rec.address,
        tls: { ca: pki.ca.cert, cert: cert.cert, key: cert.key },
        stateDir: join(hostDir, 'state'),
        runDir: join(hostDir, 'run'),
        hostNetns: h.netns,
        underlay: { dev: h.underlayDev, address: h.underlayAddress, mtu: 1500 },
        logLevel: 'info',
      };
      writeFileSync(rec.configFile, toYaml(config), { mode: 0o600 });
      const agent = startDetached(opts.runner, selfArgv(['agent', '--config', rec.configFile]), join(hostDir, 'agent.log'));
      hosts.push({ ...rec, agent });
      save({ ...state, hosts: [...hosts, ...state.hosts.slice(hosts.length)] });
    }

    say(`starting the controller and the API on ${state.apiUrl}`);
    const ctlDir = join(dir, 'controller');
    mkdirSync(ctlDir, { recursive: true, mode: 0o700 });
    const ctlFile = join(ctlDir, 'controller.yaml');
    writeFileSync(
      ctlFile,
      toYaml(controllerConfig({ dir: ctlDir, apiPort: apiPort!, tokenFile, redisPort: redisPort!, pki, hosts: state.hosts })),
      { mode: 0o600 },
    );
    const ctlLog = join(ctlDir, 'controller.log');
    const controller = startDetached(opts.runner, selfArgv(['controller', '--config', ctlFile]), ctlLog);
    save({ ...state, controller: { ...controller, configFile: ctlFile } });

    const token = readFileSync(tokenFile, 'utf8').trim();
    const api = new ApiClient(state.apiUrl, token);
    const alive = (): boolean => isOurs(controller, CONTROLLER_CMD);
    if (!(await pollUntil(async () => !alive() || (await api.health()), timeoutMs, 200)) || !alive()) throw daemonFailed('the controller', ctlLog);
    say('waiting for every agent to be healthy');
    let last = '';
    const healthy = await pollUntil(async () => {
      for (const h of state.hosts) if (h.agent && !isOurs(h.agent, AGENT_CMD)) throw daemonFailed(`agent ${h.name}`, h.agent.logFile);
      const agents = await api.agents().catch(() => []);
      last = agents.map((a) => `${a.name}: ${a.healthy ? 'healthy' : (a.error ?? 'unhealthy')}`).join(', ');
      return agents.length === state.hosts.length && agents.every((a) => a.healthy);
    }, timeoutMs, 500);
    if (!healthy) throw new SeconetError('UNAVAILABLE', `agents are not healthy after ${Math.round(timeoutMs / 1000)} s (${last || 'no answer'}); see ${join(dir, 'hosts')}/*/agent.log`, { field: 'lab' });
    if (state.redis && !isOurs(state.redis, REDIS_CMD)) throw daemonFailed('redis', redisLog);
    return state;
  } catch (e) {
    say('lab up failed; taking down what was started');
    await takeLabDown(opts.runner, state, { keepFiles: true }).catch(() => undefined);
    throw e;
  }
}
