// Test helper: N lab hosts with containers joined by a network solution, ready to ping.
//
//   const lab = await setupLab({ hosts: 2, containers: [2, 2], network: 'bridge', underlayRoutes: true });
//   t.teardown(lab.cleanup);
//   const [h1, h2] = lab.hosts;
//   t.ok(await ping(lab.runner, h1.containers[0].netns, h2.containers[0].spec.address));
//
// setupLab(opts) -> LabSetup
//   opts.hosts           number of lab hosts (default 2)
//   opts.containers      containers per host: a number for every host or one number per host
//                        (default 2); host i gets containerCidr(i), containers c1, c2, ... at .2, .3, ...
//   opts.network         a kind from NETWORK_DRIVERS (default 'bridge'); 'none' builds containers only;
//                        'bpf' builds bpf/redirect.o first when it is missing
//   opts.scope           scope name (default 'test')
//   opts.journal         'memory' (default) or 'file' (FileJournal under the host's stateDir)
//   opts.mtu             container MTU (default 1500)
//   opts.underlayRoutes  route every other host's container CIDR via its underlay address
//                        (what tunnel kind 'none' does; journaled, removed by cleanup)
// LabSetup
//   runner    a real ExecRunner;  topo  the LabTopology;  root  the tmp dir holding every host's dirs
//   hosts[i]  { host: LabHost, env: HostEnv, cidr, journal: ScopeJournal, ctx: DriverContext,
//               containers: ContainerHandle[], view: NetworkView | undefined,
//               context(scope, journal?): DriverContext  (more scopes on the same host) }
//   cleanup() tears down every journal handed out (undo, in reverse), unmounts bpffs mounts the
//             lab made, destroys the lab namespaces and removes the tmp dir; safe to call twice.
// ping(runner, netns, address, { count, timeoutS }) -> true when at least one reply came back.
// hostEnvFor(host, root) -> the HostEnv the helper builds for a lab host.
// silentLogger() -> a pino logger that logs nothing.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino, type Logger } from 'pino';
import { containerCidr, nthHost } from '@seconet/core';
import type { ContainerHandle, DriverContext, NetworkView } from '../../src/driver.js';
import type { HostEnv } from '../../src/host-env.js';
import { Journal } from '../../src/journal/file-journal.js';
import type { ScopeJournal } from '../../src/journal/journal.js';
import { MemoryJournal } from '../../src/journal/memory-journal.js';
import { teardownObjects } from '../../src/journal/undo.js';
import { createLab, destroyLab, randomLabId, type LabHost, type LabTopology } from '../../src/lab/topology.js';
import { ensureContainers } from '../../src/netns/containers.js';
import { builtNsconf } from '../../src/netns/ip-batch.js';
import { builtGate } from '../../src/workloads/start-gate.js';
import { ExecRunner } from '../../src/runner/runner.js';
import type { Runner } from '../../src/runner/runner.js';
import { REDIRECT_OBJECT } from '../../src/solutions/bpf.js';
import { NETWORK_DRIVERS } from '../../src/solutions/index.js';

export interface LabOptions {
  hosts?: number;
  containers?: number | readonly number[];
  network?: string;
  scope?: string;
  journal?: 'memory' | 'file';
  mtu?: number;
  underlayRoutes?: boolean;
}

export interface LabHostSetup {
  readonly host: LabHost;
  readonly env: HostEnv;
  readonly cidr: string;
  readonly journal: ScopeJournal;
  readonly ctx: DriverContext;
  readonly containers: ContainerHandle[];
  readonly view: NetworkView | undefined;
  context(scope: string, journal?: ScopeJournal): DriverContext;
}

export interface LabSetup {
  readonly runner: Runner;
  readonly topo: LabTopology;
  readonly root: string;
  readonly hosts: LabHostSetup[];
  cleanup(): Promise<void>;
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

export function hostEnvFor(host: LabHost, root: string): HostEnv {
  const dir = join(root, host.name);
  for (const d of ['state', 'run', 'bpf']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  return {
    name: host.name,
    prefix: host.prefix,
    hostNetns: host.netns,
    stateDir: join(dir, 'state'),
    runDir: join(dir, 'run'),
    bpffs: join(dir, 'bpf'),
    underlayDev: host.underlayDev,
    underlayAddress: host.underlayAddress,
    underlayMtu: 1500,
    nsconf: builtNsconf(),
    gate: builtGate(),
  };
}

export async function ping(runner: Runner, netns: string, address: string, opts: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
  try {
    const r = await runner.run(['ping', '-n', '-q', '-c', String(opts.count ?? 1), '-W', String(opts.timeoutS ?? 2), address], { netns, timeoutMs: 30_000 });
    return / [1-9]\d* received/.test(r.stdout);
  } catch {
    return false;
  }
}

function isBpffs(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .some((l) => {
      const [, mnt, type] = l.split(' ');
      return mnt === dir && type === 'bpf';
    });
}

export async function setupLab(opts: LabOptions = {}): Promise<LabSetup> {
  const runner = new ExecRunner();
  const log = silentLogger();
  const n = opts.hosts ?? 2;
  if (opts.network === 'bpf' && !existsSync(REDIRECT_OBJECT)) execFileSync('/usr/bin/make', ['-s', '-C', dirname(REDIRECT_OBJECT), 'redirect.o']);
  const scope = opts.scope ?? 'test';
  const counts = Array.from({ length: n }, (_, i) => (typeof opts.containers === 'number' ? opts.containers : opts.containers?.[i] ?? 2));
  const root = mkdtempSync(join(tmpdir(), 'seconet-lab-'));
  const topo = await createLab(runner, randomLabId(), n);
  const handed: Array<{ env: HostEnv; journal: ScopeJournal }> = [];
  let cleaned = false;

  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    for (const { env, journal } of [...handed].reverse()) {
      await teardownObjects({ runner, env, log, graceMs: 500 }, journal).catch(() => undefined);
    }
    for (const h of topo.hosts) {
      const dir = join(root, h.name, 'bpf');
      if (isBpffs(dir)) await runner.run(['umount', dir]).catch(() => undefined);
    }
    await destroyLab(runner, topo);
    rmSync(root, { recursive: true, force: true });
  };

  try {
    const hosts: LabHostSetup[] = [];
    for (const [i, host] of topo.hosts.entries()) {
      const env = hostEnvFor(host, root);
      const files = new Journal(env.stateDir);
      files.load();
      const context = (s: string, journal?: ScopeJournal): DriverContext => {
        const j = journal ?? new MemoryJournal(s);
        handed.push({ env, journal: j });
        return { env, runner, journal: j, log, scope: s };
      };
      const journal: ScopeJournal = opts.journal === 'file' ? await files.open(scope) : new MemoryJournal(scope);
      const ctx = context(scope, journal);
      const cidr = containerCidr(host.index);
      const specs = Array.from({ length: counts[i]! }, (_, k) => ({ name: `c${k + 1}`, address: nthHost(cidr, k + 2) }));
      const containers = await ensureContainers(ctx, specs, opts.mtu ?? 1500);
      let view: NetworkView | undefined;
      const kind = opts.network ?? 'bridge';
      if (kind !== 'none') {
        const driver = NETWORK_DRIVERS.get(kind);
        if (!driver) throw new Error(`network solution ${kind} is not registered`);
        view = (await driver.ensure(ctx, cidr, containers, opts.mtu ?? 1500)).view;
      }
      if (opts.underlayRoutes) {
        for (const other of topo.hosts) {
          if (other.index === host.index) continue;
          const dst = containerCidr(other.index);
          await journal.record({ type: 'route', dst });
          await runner.run(['ip', '-n', host.netns, 'route', 'replace', dst, 'via', other.underlayAddress]);
        }
      }
      hosts.push({ host, env, cidr, journal, ctx, containers, view, context });
    }
    return { runner, topo, root, hosts, cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
