// Shared lab scenario for the tunnel driver tests: two lab hosts, a dummy container network
// per host, a DriverContext per host (ExecRunner logging into a captured pino stream, a
// MemoryJournal, tmp state/run directories), and the end-to-end checks every tunnel kind must
// pass: overlay and container-network pings through the tunnel, device counters moving, a DF
// ping of the largest payload the MTU allows, idempotent ensure, and nothing left after undo.

import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { containerCidr, objectName, overlayAddress } from '@seconet/core';
import type { Test } from 'tap';
import { ExecRunner } from '../src/runner/runner.js';
import { createLab, destroyLab, randomLabId, type LabHost, type LabTopology } from '../src/lab/topology.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { processStartTime, teardownObjects } from '../src/journal/undo.js';
import type { DriverContext, NetworkView, TunnelDriver } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import type { TunnelSpec__Output } from '../src/gen/seconet/agent/v1/TunnelSpec.js';
import type { Variant__Output } from '../src/gen/seconet/agent/v1/Variant.js';


export interface HostRig {
  readonly host: LabHost;
  readonly ctx: DriverContext;
  readonly journal: MemoryJournal;
  readonly view: NetworkView;
  readonly containerGw: string;
}

export interface Rig {
  readonly topo: LabTopology;
  readonly runner: ExecRunner;
  readonly hosts: readonly HostRig[];
  /** Every log line the runner and drivers wrote (to assert secrets never appear). */
  readonly logs: string[];
}

export async function makeRig(t: Test, scope = 'tun-test', n = 2): Promise<Rig> {
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  const runner = new ExecRunner(log);
  const topo = await createLab(runner, randomLabId(), n);
  const dirs: string[] = [];
  t.teardown(async () => {
    await destroyLab(runner, topo);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });
  const hosts: HostRig[] = [];
  for (const h of topo.hosts) {
    const base = await mkdtemp(join(tmpdir(), `sntun-${h.name}-`));
    dirs.push(base);
    const env: HostEnv = {
      name: h.name,
      prefix: h.prefix,
      hostNetns: h.netns,
      stateDir: join(base, 'state'),
      runDir: join(base, 'run'),
      bpffs: join(base, 'bpf'),
      underlayDev: h.underlayDev,
      underlayAddress: h.underlayAddress,
      underlayMtu: 1500,
    };
    const journal = new MemoryJournal(scope);
    const ctx: DriverContext = { env, runner, journal, log, scope };
    const cidr = containerCidr(h.index);
    const gw = `198.19.${h.index}.1`;
    // The kernel here has no `dummy` links: a veth pair with both ends in the host stands in for the container network.
    const cn = objectName(h.prefix, 'v', [scope, 'cnet']);
    const cnPeer = objectName(h.prefix, 'v', [scope, 'cnet-peer']);
    await runner.run(['ip', '-n', h.netns, '-batch', '-'], {
      stdin: `link add ${cn} type veth peer name ${cnPeer}\naddr add ${gw}/24 dev ${cn}\nlink set ${cnPeer} up\nlink set ${cn} up\n`,
    });
    const view: NetworkView = { kind: 'routing', containerCidr: cidr, gateway: gw, bridge: undefined, ovsdb: undefined, containers: [], mtu: 1500 };
    hosts.push({ host: h, ctx, journal, view, containerGw: gw });
  }
  return { topo, runner, hosts, logs };
}

export interface SpecOptions {
  readonly variant?: Variant__Output;
  readonly secrets?: (i: number) => { privateKey: string; preSharedKey: string };
  readonly publicKey?: (i: number) => string;
  readonly port?: number;
}

/** Host i's spec: every other host is a peer, overlay 198.18.1.i/24, routes to 198.19.j.0/24. */
export function specFor(rig: Rig, kind: string, i: number, o: SpecOptions = {}): TunnelSpec__Output {
  const me = rig.hosts[i]!.host;
  return {
    kind,
    variant: o.variant ?? 'VARIANT_UNSPECIFIED',
    cipher: '',
    localAddress: me.underlayAddress,
    overlayAddress: `${overlayAddress(me.index)}/24`,
    peers: rig.hosts
      .filter((_, j) => j !== i)
      .map((p) => ({
        name: p.host.name,
        underlayAddress: p.host.underlayAddress,
        overlayAddress: overlayAddress(p.host.index),
        routes: [containerCidr(p.host.index)],
        publicKey: o.publicKey?.(p.host.index - 1) ?? '',
        index: p.host.index,
      })),
    secrets: o.secrets?.(i) ?? { privateKey: '', preSharedKey: '' },
    port: o.port ?? 0,
    vni: 0,
  };
}

export async function ping(rig: Rig, from: HostRig, to: string, opts: { size?: number; df?: boolean; src?: string; count?: number } = {}): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', String(opts.count ?? 1), '-W', '2'];
  if (opts.size !== undefined) argv.push('-s', String(opts.size));
  if (opts.df) argv.push('-M', 'do');
  if (opts.src) argv.push('-I', opts.src);
  argv.push(to);
  try {
    const r = await rig.runner.run(argv, { netns: from.host.netns, timeoutMs: 10_000 });
    return /[1-9]\d* received/.test(r.stdout);
  } catch {
    return false;
  }
}

/** Pings until one answers (tunnels with a handshake need a moment), bounded. */
export async function pingEventually(rig: Rig, from: HostRig, to: string, opts: { src?: string } = {}, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ping(rig, from, to, opts)) return true;
  }
  return false;
}

export async function linkCounters(rig: Rig, h: HostRig, dev: string): Promise<{ tx: number; rx: number }> {
  const r = await rig.runner.run(['ip', '-n', h.host.netns, '-s', '-j', 'link', 'show', 'dev', dev]);
  const l = (JSON.parse(r.stdout) as Array<{ stats64: { tx: { packets: number }; rx: { packets: number } } }>)[0]!;
  return { tx: l.stats64.tx.packets, rx: l.stats64.rx.packets };
}

export async function links(rig: Rig, h: HostRig): Promise<string[]> {
  const r = await rig.runner.run(['ip', '-n', h.host.netns, '-j', 'link', 'show']);
  return (JSON.parse(r.stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
}

export async function filesLeft(dir: string): Promise<string[]> {
  try {
    return await readdir(dir, { recursive: true });
  } catch {
    return [];
  }
}

export interface ScenarioOptions extends SpecOptions {
  /** The tunnel device on host i (for counters); undefined: skip the counter check. */
  readonly device: (h: HostRig) => string;
  /** Device MTU expected on the tunnel device. */
  readonly expectVariant: 'kernel' | 'userspace';
  /** Strings that must never appear in logs (keys). */
  readonly secretsToHide?: readonly string[];
  /** The kind has no overlay address (none). */
  readonly noOverlay?: boolean;
  /** Lab hosts (default 2); with more, the first host must also reach every other one. */
  readonly hosts?: number;
}

/**
 * The end-to-end check of one tunnel kind between two lab hosts. Returns the rig for extra
 * assertions; undo runs inside and is asserted (no links, no processes, no files).
 */
export async function tunnelScenario(t: Test, driver: TunnelDriver, o: ScenarioOptions): Promise<void> {
  const rig = await makeRig(t, 'tun-test', o.hosts ?? 2);
  const [a, b] = rig.hosts as [HostRig, HostRig];
  const specs = rig.hosts.map((_, i) => specFor(rig, driver.kind, i, o));
  const undoAll = async (): Promise<void> => {
    for (const h of rig.hosts) await teardownObjects({ runner: rig.runner, env: h.ctx.env, graceMs: 3000 }, h.journal);
  };
  t.teardown(undoAll);

  const baseline = await Promise.all(rig.hosts.map((h) => links(rig, h)));
  const results = await Promise.all(rig.hosts.map((h, i) => driver.ensure(h.ctx, specs[i]!, h.view)));
  for (const r of results) {
    t.equal(r.variant, o.expectVariant, 'variant');
    t.equal(r.changed, true, 'first ensure changes');
  }
  const overlayB = o.noOverlay ? b.containerGw : overlayAddress(b.host.index);
  if (!o.noOverlay) t.ok(await pingEventually(rig, a, overlayB), 'a pings b overlay');
  t.ok(await pingEventually(rig, a, b.containerGw, { src: a.containerGw }), 'a container network reaches b container network');
  t.ok(await pingEventually(rig, b, a.containerGw, { src: b.containerGw }), 'b container network reaches a container network');
  for (const c of rig.hosts.slice(2)) {
    t.ok(await pingEventually(rig, a, c.containerGw, { src: a.containerGw }), `a reaches ${c.host.name} container network`);
    t.ok(await pingEventually(rig, c, b.containerGw, { src: c.containerGw }), `${c.host.name} reaches b container network`);
  }

  const devA = o.device(a);
  const before = await linkCounters(rig, a, devA);
  t.ok(await ping(rig, a, b.containerGw, { src: a.containerGw, count: 3 }), 'three more pings');
  const after = await linkCounters(rig, a, devA);
  t.ok(after.tx >= before.tx + 3, `tunnel device tx counter moved (${before.tx} -> ${after.tx})`);
  t.ok(after.rx >= before.rx + 3, `tunnel device rx counter moved (${before.rx} -> ${after.rx})`);

  const mtu = 1500 - driver.overhead(specs[0]!);
  const largest = mtu - 28;
  t.ok(largest >= 1370, `payload cap 1370 fits (largest ${largest})`);
  t.ok(await ping(rig, a, b.containerGw, { src: a.containerGw, size: largest, df: true }), `DF ping with ${largest} B payload passes`);
  t.notOk(await ping(rig, a, b.containerGw, { src: a.containerGw, size: largest + 1, df: true }), `DF ping with ${largest + 1} B does not pass (the MTU is what we claim)`);

  t.same(await driver.check(a.ctx, specs[0]!, a.view), [], 'check: no drift');
  const again = await driver.ensure(a.ctx, specs[0]!, a.view);
  t.equal(again.changed, false, 'second ensure is a no-op');
  t.ok(await ping(rig, a, overlayB), 'still pings after the no-op ensure');

  // A daemon that dies is drift, and ensure brings it back.
  const daemon = a.journal.objects().find((x) => x.type === 'process');
  if (daemon && daemon.type === 'process') {
    process.kill(daemon.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const drift = await driver.check(a.ctx, specs[0]!, a.view);
    t.ok(drift.some((d) => d.observed === 'not running' || d.observed === 'missing'), `check reports the killed daemon: ${JSON.stringify(drift)}`);
    const healed = await driver.ensure(a.ctx, specs[0]!, a.view);
    t.equal(healed.changed, true, 'ensure after a crash changes');
    t.ok(await pingEventually(rig, a, b.containerGw, { src: a.containerGw }), 'pings again after ensure restarted the daemon');
    t.same(await driver.check(a.ctx, specs[0]!, a.view), [], 'no drift after healing');
  }

  const pids = rig.hosts.flatMap((h) => h.journal.objects().flatMap((x) => (x.type === 'process' ? [x] : [])));
  await undoAll();
  for (const [i, h] of rig.hosts.entries()) {
    t.same(h.journal.objects(), [], `${h.host.name}: journal empty after undo`);
    t.same((await links(rig, h)).sort(), [...baseline[i]!].sort(), `${h.host.name}: the same links as before ensure`);
    t.same(await filesLeft(h.ctx.env.runDir), [], `${h.host.name}: no files left in runDir`);
  }
  for (const p of pids) t.not(processStartTime(p.pid), p.startTime, `process ${p.pid} (${p.what}) ended`);
  for (const s of o.secretsToHide ?? []) t.notOk(rig.logs.some((l) => l.includes(s)), 'secret never logged');
  t.ok(rig.logs.length > 0, 'logs were captured');
}
