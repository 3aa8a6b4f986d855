// `seconet lab up`: the embedded lab on one machine (DESIGN.md, "Where it runs"). The lab
// repairs, it does not wipe: on a lab whose controller, Redis or agents died, `lab up` restarts
// what died with the same store, Redis data (AOF), certificates and ports, so the queued and
// running experiments go on; a lab that is up is kept. Only `lab down` or `lab up --fresh`
// delete a lab's results. A fresh lab: the host namespaces, a PKI, its own Redis, one agent per
// host, the controller with the REST API and the supervisor (`lab supervise`, which restarts
// the daemons when they exit), each a detached process recorded in the state file as soon as
// it exists, so a crash at any step leaves a state the next `lab up` or `lab down` can handle.
// It returns once /healthz answers and every agent is healthy.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { createLab, createLabPki, describeLab, randomLabId, type Runner } from '@seconet/agent';
import { SeconetError, pollUntil } from '@seconet/core';
import { ApiClient } from '../api-client.js';
import { AGENT_CMD, CONTROLLER_CMD, deadDaemons, REDIS_CMD, restartDaemon, startAgentDaemon, startControllerDaemon, startRedis, startSupervisor, SUPERVISOR_CMD } from './daemons.js';
import { takeLabDown } from './lab-down.js';
import { labStatus } from './lab-status.js';
import { labDir, readLabState, writeLabState, type LabHostRecord, type LabState } from './lab-state.js';
import { freePorts, redisPing } from './net-util.js';
import { isOurs, stopProcess, tailFile } from './processes.js';
import { controllerConfig } from './controller-config.js';
import { bootVmGuests, checkVmLabPrerequisites, ensureAgentBundle, GUEST_PATHS, provisionVmGuests, QEMU_CMD, vmRecovery, VM_NETNS_PREFIX, type VmLabOptions } from './vm-lab.js';

export interface LabUpOptions {
  readonly hosts: number;
  readonly runner: Runner;
  /** Progress lines for humans. */
  readonly say?: (line: string) => void;
  /** How long to wait for the API and the agents (default 60 s). */
  readonly timeoutMs?: number;
  readonly dir?: string;
  /** Delete a previous lab with its results and start an empty one (the CLI confirms first). */
  readonly fresh?: boolean;
  /** A VM lab: hosts are QEMU guests with their own kernels, agents installed by Ansible (vm-lab.ts). */
  readonly vm?: VmLabOptions;
}

/** What lab up did: started a new lab, repaired one whose daemons died, or kept a healthy one. */
export type LabUpAction = 'created' | 'repaired' | 'kept';

export interface LabUpResult {
  readonly state: LabState;
  readonly action: LabUpAction;
  /** The daemons a repair restarted. */
  readonly restarted: readonly string[];
}

function daemonFailed(what: string, logFile: string): SeconetError {
  return new SeconetError('UNAVAILABLE', `${what} did not come up; last lines of ${logFile}:\n${tailFile(logFile)}`, { field: 'lab' });
}

export async function labUp(opts: LabUpOptions): Promise<LabState> {
  return (await labUpDetailed(opts)).state;
}

/** A lab whose every daemon was started once: it may hold results, so it is repaired, never wiped implicitly. */
export function isCompleteLab(s: LabState): boolean {
  if (s.vm !== undefined) return s.redis !== undefined && s.controller !== undefined && s.hosts.every((h) => h.qemu !== undefined) && existsSync(s.controller.configFile);
  return s.redis !== undefined && s.controller !== undefined && s.hosts.every((h) => h.agent !== undefined) && existsSync(s.controller.configFile) && s.hosts.every((h) => existsSync(h.configFile));
}

export async function labUpDetailed(opts: LabUpOptions): Promise<LabUpResult> {
  const say = opts.say ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (process.getuid?.() !== 0) throw new SeconetError('UNSUPPORTED', 'lab up creates network namespaces and needs root', { field: 'lab' });
  if (!Number.isInteger(opts.hosts) || opts.hosts < 1 || opts.hosts > 16) throw new SeconetError('INVALID_ARGUMENT', `--hosts ${opts.hosts}: use 1 to 16`, { field: 'hosts' });
  // Everything a VM lab needs is checked before anything is started or taken down.
  const vmCheck = opts.vm !== undefined ? checkVmLabPrerequisites(opts.hosts, opts.vm) : undefined;
  const dir = opts.dir ?? labDir();

  const previous = readLabState(dir);
  if (previous !== undefined) {
    if (opts.fresh === true) {
      say(`deleting the previous lab ${previous.id} and its results (--fresh)`);
      await takeLabDown(opts.runner, previous);
    } else if (isCompleteLab(previous)) {
      // It may be in the middle of an overnight sweep and holds results: keep or repair it, never wipe it.
      if ((previous.vm !== undefined) !== (opts.vm !== undefined)) {
        const what = previous.vm !== undefined ? 'a VM lab' : 'a namespace lab';
        throw new SeconetError('CONFLICT', `lab ${previous.id} is ${what}; run "seconet lab down" (or "seconet lab up --fresh"${opts.vm !== undefined ? ' --vm' : ''}) first; both delete its results`, { field: 'vm' });
      }
      if (previous.hosts.length !== opts.hosts) {
        throw new SeconetError('CONFLICT', `lab ${previous.id} has ${previous.hosts.length} hosts; run "seconet lab down" (or "seconet lab up --fresh") to get ${opts.hosts}; both delete its results`, { field: 'hosts' });
      }
      return await repairLab(opts.runner, previous, { say, timeoutMs });
    } else {
      // A lab up that crashed before its controller started: no results can exist yet.
      say(`cleaning the incomplete lab ${previous.id}`);
      await takeLabDown(opts.runner, previous);
    }
  }
  if (vmCheck !== undefined) return { state: await createVmLab(opts, vmCheck, dir, say, timeoutMs), action: 'created', restarted: [] };
  return { state: await createNewLab(opts, dir, say, timeoutMs), action: 'created', restarted: [] };
}

/**
 * A fresh VM lab: the guests (booted, SSH up), the lab PKI, the agents installed by the
 * seconet_agent role, then Redis, the controller (with SSH recovery for every agent) and the
 * supervisor as in the namespace lab. Any failure removes everything started.
 */
async function createVmLab(opts: LabUpOptions, check: ReturnType<typeof checkVmLabPrerequisites>, dir: string, say: (l: string) => void, timeoutMs: number): Promise<LabState> {
  const vmOpts = opts.vm ?? {};
  const id = randomLabId(opts.hosts);
  const topo = describeLab(id, opts.hosts);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const [apiPort, redisPort, ...ports] = await freePorts(2 * opts.hosts + 2);
  const vmDir = join(dir, 'vm');
  const netns = `${VM_NETNS_PREFIX}${id}`;
  let state: LabState = {
    version: 1,
    id,
    dir,
    createdAt: new Date().toISOString(),
    switchNetns: netns,
    hosts: topo.hosts.map((h) => ({
      name: h.name, netns: '', prefix: h.prefix, address: `127.0.0.1:${ports[2 * (h.index - 1)]}`, sshPort: ports[2 * (h.index - 1) + 1], underlayAddress: h.underlayAddress,
      configFile: join(vmDir, h.name, 'agent.yaml'),
    })),
    apiUrl: `http://127.0.0.1:${apiPort}`,
    tokenFile: join(dir, 'token'),
    vm: { hostKind: check.hostKind, netns, dir: vmDir, kernelRelease: check.kernel.release, memoryMiB: check.memoryMiB, clientKey: join(vmDir, 'client_key'), knownHosts: join(vmDir, 'known_hosts') },
  };
  const save = (next: LabState): void => {
    state = next;
    writeLabState(state);
  };
  save(state);
  try {
    say(`creating the VM lab ${id}: ${opts.hosts} guests, underlay in namespace ${netns}`);
    await bootVmGuests(opts.runner, () => state, save, check.kernel, vmOpts, say);
    say(`guests up in ${state.vm!.bootSeconds} s`);
    writeFileSync(state.tokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    say('creating the lab PKI');
    rmSync(join(dir, 'pki'), { recursive: true, force: true });
    const pki = await createLabPki(join(dir, 'pki'), topo.hosts.map((h) => h.name), opts.runner);
    const entry = await ensureAgentBundle();
    const provisionSeconds = await provisionVmGuests(opts.runner, state, { ca: pki.ca.cert, agents: pki.agents }, entry, vmOpts, say);
    save({ ...state, vm: { ...state.vm!, provisionSeconds } });
    say(`agents installed in ${provisionSeconds} s`);

    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir, { recursive: true, mode: 0o700 });
    say(`starting redis on 127.0.0.1:${redisPort}`);
    const redisLog = join(redisDir, 'redis.log');
    save({ ...state, redis: { ...startRedis(opts.runner, redisPort!, redisDir, redisLog), port: redisPort!, dir: redisDir } });
    if (!(await pollUntil(() => redisPing(redisPort!), 10_000, 200))) throw daemonFailed('redis', redisLog);

    say(`starting the controller and the API on ${state.apiUrl}`);
    const ctlDir = join(dir, 'controller');
    mkdirSync(ctlDir, { recursive: true, mode: 0o700 });
    const ctlFile = join(ctlDir, 'controller.yaml');
    const doc = controllerConfig({ dir: ctlDir, apiPort: apiPort!, tokenFile: state.tokenFile, redisPort: redisPort!, pki, hosts: state.hosts, hostKind: state.vm!.hostKind });
    const vm = state.vm!;
    doc['agents'] = (doc['agents'] as Array<Record<string, unknown>>).map((a, k) => ({ ...a, recovery: vmRecovery(vm, state.hosts[k]!, entry) }));
    writeFileSync(ctlFile, toYaml(doc), { mode: 0o600 });
    const ctlLog = join(ctlDir, 'controller.log');
    save({ ...state, controller: { ...startControllerDaemon(opts.runner, ctlFile, ctlLog), configFile: ctlFile } });
    // The agents start in the guests after the role returned; under TCG Node takes about a minute to load.
    await waitForLab(state, state.vm!.hostKind === 'vm-tcg' ? Math.max(timeoutMs, 300_000) : timeoutMs, say);
    say('starting the supervisor');
    save({ ...state, supervisor: startSupervisor(opts.runner, dir, join(dir, 'supervisor.log')) });
    return state;
  } catch (e) {
    say('lab up --vm failed; taking down what was started');
    await takeLabDown(opts.runner, state, { keepFiles: process.env['SECONET_LAB_KEEP_FAILED'] === '1' }).catch(() => undefined);
    throw e;
  }
}

async function createNewLab(opts: LabUpOptions, dir: string, say: (l: string) => void, timeoutMs: number): Promise<LabState> {
  const id = randomLabId(opts.hosts);
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
    const redis = startRedis(opts.runner, redisPort!, redisDir, redisLog);
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
      const agent = startAgentDaemon(opts.runner, rec.configFile, join(hostDir, 'agent.log'));
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
    const controller = startControllerDaemon(opts.runner, ctlFile, ctlLog);
    save({ ...state, controller: { ...controller, configFile: ctlFile } });

    await waitForLab(state, timeoutMs, say);
    say('starting the supervisor');
    save({ ...state, supervisor: startSupervisor(opts.runner, dir, join(dir, 'supervisor.log')) });
    return state;
  } catch (e) {
    say('lab up failed; taking down what was started');
    await takeLabDown(opts.runner, state, { keepFiles: true }).catch(() => undefined);
    throw e;
  }
}

/** Waits for the API and for every agent to be healthy; fails early, with the log, when a daemon dies. */
async function waitForLab(state: LabState, timeoutMs: number, say: (l: string) => void): Promise<void> {
  const controller = state.controller!;
  const token = readFileSync(state.tokenFile, 'utf8').trim();
  const api = new ApiClient(state.apiUrl, token);
  const alive = (): boolean => isOurs(controller, CONTROLLER_CMD);
  if (!(await pollUntil(async () => !alive() || (await api.health()), timeoutMs, 200)) || !alive()) throw daemonFailed('the controller', controller.logFile);
  say('waiting for every agent to be healthy');
  let last = '';
  const healthy = await pollUntil(async () => {
    for (const h of state.hosts) if (h.agent && !isOurs(h.agent, AGENT_CMD)) throw daemonFailed(`agent ${h.name}`, h.agent.logFile);
    for (const h of state.hosts) if (h.qemu && !isOurs(h.qemu, QEMU_CMD)) throw new SeconetError('UNAVAILABLE', `guest ${h.name} stopped; console tail:\n${tailFile(h.consoleLog ?? '', 12)}`, { field: 'lab' });
    const agents = await api.agents().catch(() => []);
    last = agents.map((a) => `${a.name}: ${a.healthy ? 'healthy' : (a.error ?? 'unhealthy')}`).join(', ');
    return agents.length === state.hosts.length && agents.every((a) => a.healthy);
  }, timeoutMs, 500);
  if (!healthy) {
    const where = state.vm !== undefined ? `the agent log in each guest (${GUEST_PATHS.logDir}/agent.log and agent.out; ssh -p PORT -i ${state.vm.clientKey} root@127.0.0.1)` : `${join(state.dir, 'hosts')}/*/agent.log`;
    throw new SeconetError('UNAVAILABLE', `agents are not healthy after ${Math.round(timeoutMs / 1000)} s (${last || 'no answer'}); see ${where}`, { field: 'lab' });
  }
  if (state.redis && !isOurs(state.redis, REDIS_CMD)) throw daemonFailed('redis', state.redis.logFile);
}

/** The namespaces a lab's daemons run in; gone after a reboot, and then a repair cannot bring the agents back. */
async function missingNamespaces(runner: Runner, state: LabState): Promise<string[]> {
  const existing = new Set((await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? ''));
  return [state.switchNetns, ...state.hosts.map((h) => h.netns)].filter((n) => n !== '' && !existing.has(n));
}

/**
 * Restarts whatever died of a complete lab (Redis first, then the agents, then the controller)
 * with the recorded ports, config files, certificates and data, then the supervisor; the
 * controller resumes the experiments its store lists as queued or running. A lab that is up
 * with its supervisor is left as it is.
 */
export async function repairLab(runner: Runner, previous: LabState, o: { say?: (l: string) => void; timeoutMs?: number } = {}): Promise<LabUpResult> {
  const say = o.say ?? (() => undefined);
  const timeoutMs = o.timeoutMs ?? 60_000;
  let state = previous;
  const supervised = state.supervisor !== undefined && isOurs(state.supervisor, SUPERVISOR_CMD);
  if (supervised && (await labStatus(state)).running) {
    say(`lab ${state.id} is already up`);
    return { state, action: 'kept', restarted: [] };
  }
  if (state.vm !== undefined) {
    const gone = state.hosts.filter((h) => h.qemu === undefined || !isOurs(h.qemu, QEMU_CMD));
    if (gone.length > 0) throw new SeconetError('UNAVAILABLE', `VM lab ${state.id}: guest ${gone.map((h) => h.name).join(', ')} stopped and a guest cannot be repaired in place; its results are in ${join(state.dir, 'controller', 'data')}; "seconet lab up --vm --fresh" deletes them and boots new guests`, { field: 'lab' });
  }
  const missing = await missingNamespaces(runner, state);
  if (missing.length > 0) {
    throw new SeconetError('UNAVAILABLE', `lab ${state.id} lost its namespaces ${missing.join(', ')} (the machine rebooted?); its results are still in ${join(state.dir, 'controller', 'data')}; "seconet lab up --fresh" deletes them and starts an empty lab`, { field: 'lab' });
  }
  // One repairer at a time: the supervisor would race us for the same daemons.
  if (supervised) await stopProcess(state.supervisor, SUPERVISOR_CMD, 5000);
  state = readLabState(state.dir) ?? state;
  const save = (next: LabState): void => {
    state = next;
    writeLabState(state);
  };
  const dead = deadDaemons(state);
  if (dead.length > 0) say(`repairing lab ${state.id}: restarting ${dead.join(', ')} (results and queued experiments are kept)`);
  for (const d of dead) {
    save(restartDaemon(runner, state, d));
    if (d === 'redis' && !(await pollUntil(() => redisPing(state.redis!.port), 10_000, 200))) throw daemonFailed('redis', state.redis!.logFile);
  }
  await waitForLab(state, timeoutMs, say);
  say('starting the supervisor');
  save({ ...state, supervisor: startSupervisor(runner, state.dir, join(state.dir, 'supervisor.log')) });
  return { state, action: dead.length > 0 ? 'repaired' : 'kept', restarted: dead };
}
