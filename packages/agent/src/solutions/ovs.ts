// The `ovs` network solution: an Open vSwitch bridge per scope (ovs/switch.ts runs the scope's
// own daemons), every container's host-side veth a port of it, the bridge's internal port
// carrying the gateway (.1 of the container CIDR), containers at .x with a default route via
// it. The bridge and ports are created by one ovs-vsctl transaction, the host side by one
// `ip -batch`, each container by one `ip -batch` plus `ethtool -K eth0 tx off`: with the
// userspace datapath (the only one without the openvswitch kernel module) veth TX checksum
// offload leaves TCP segments with bad checksums and TCP stalls (LAB-NOTES). The userspace
// datapath does not fragment, so every port carries the container MTU. An unchanged ensure
// (same CIDR, containers, MTU; daemons and bridge alive) runs two read-only commands.

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { SeconetError, cidrContains, nthHost, objectName, parseCidr, requireCidr } from '@seconet/core';
import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, NetworkDriver, NetworkView, ProbeContext } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import { containerBatches, ipBatch, listLinks } from '../netns/ip-batch.js';
import { datapathType, ensureOvsDaemons, kernelDatapath, listPorts, ovsDaemonsAlive, ovsPaths, ovsVersion, probeSwitch, vsctl, VSWITCH_SCHEMA } from '../ovs/switch.js';
import { findTool } from '../runner/tools.js';
import { ensureIpForward } from './ip-forward.js';
import { hostLinkDrift } from './probe.js';
import { failedProbe } from '../capabilities/transient.js';

export function ovsBridgeName(prefix: string, scope: string): string {
  return objectName(prefix, 's', [scope]);
}

const NOTE = 'network.ovs';

function layoutDigest(cidr: string, containers: readonly ContainerHandle[], mtu: number): string {
  return createHash('sha256').update(JSON.stringify({ cidr, mtu, c: containers.map((c) => [c.spec.name, c.spec.address, c.hostIface, c.netns]) })).digest('hex');
}

/** Arguments of the one ovs-vsctl transaction that creates the bridge and its ports and drops stale ports. */
export function bridgeTransaction(prefix: string, br: string, ports: readonly string[], stale: readonly string[], datapath: string): string[] {
  const args = ['--', '--may-exist', 'add-br', br, '--', 'set', 'bridge', br, `datapath_type=${datapath}`, `external_ids:seconet-owner=${prefix}`];
  for (const s of stale) args.push('--', '--if-exists', 'del-port', br, s);
  for (const p of ports) args.push('--', '--may-exist', 'add-port', br, p, '--', 'set', 'port', p, `external_ids:seconet-owner=${prefix}`);
  return args;
}

function validate(containerCidr: string, containers: readonly ContainerHandle[]): void {
  const c = requireCidr('state.containerCidr', containerCidr);
  if (c.prefix > 30) throw new SeconetError('INVALID_ARGUMENT', `state.containerCidr: /${c.prefix} leaves no room for a gateway and containers`, { field: 'state.containerCidr' });
  const gateway = nthHost(containerCidr, 1);
  containers.forEach((h, i) => {
    const a = h.spec.address;
    const field = `state.containers[${i}].address`;
    if (!cidrContains(containerCidr, a) || a === gateway || a === c.network || a === nthHost(containerCidr, 2 ** (32 - c.prefix) - 1)) {
      throw new SeconetError('INVALID_ARGUMENT', `${field}: ${a} must be a host address in ${containerCidr} other than the gateway ${gateway}`, { field });
    }
  });
}

async function inPool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export const ovsDriver: NetworkDriver = {
  kind: 'ovs',

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await ovsVersion(ctx);
    const variant = kernelDatapath() ? 'kernel' : 'userspace';
    const base = { category: 'network', kind: 'ovs', variant, version } as const;
    const missing = ['ovsdb-server', 'ovs-vswitchd', 'ovs-vsctl', 'ovs-ofctl', 'ovsdb-tool', 'ovs-appctl', 'ethtool'].filter((t) => findTool(t) === null);
    if (missing.length > 0) return [{ ...base, available: false, reason: `missing ${missing.join(', ')}: apt-get install openvswitch-switch ethtool` }];
    if (!existsSync(VSWITCH_SCHEMA)) return [{ ...base, available: false, reason: `missing ${VSWITCH_SCHEMA}: apt-get install openvswitch-switch` }];
    const failed = await probeSwitch(ctx);
    if (failed !== undefined) return [failedProbe({ ...base, available: false, reason: `a test switch did not work: ${failed.message}` }, failed.cause)];
    return [{ ...base, available: true, reason: '' }];
  },

  async ensure(ctx: DriverContext, containerCidr: string, containers: readonly ContainerHandle[], mtu: number): Promise<{ result: EnsureResult; view: NetworkView }> {
    validate(containerCidr, containers);
    const { env, runner } = ctx;
    const prefixLen = parseCidr(containerCidr).prefix;
    const gateway = nthHost(containerCidr, 1);
    const br = ovsBridgeName(env.prefix, ctx.scope);
    const variant = kernelDatapath() ? 'kernel' : 'userspace';
    const version = await ovsVersion(ctx);
    const digest = layoutDigest(containerCidr, containers, mtu);
    const { paths, started } = await ensureOvsDaemons(ctx);
    const view: NetworkView = { kind: 'ovs', containerCidr, gateway, bridge: br, ovsdb: paths.dbSocket, containers, mtu };

    const ports = await listPorts(runner, paths, br);
    const want = containers.map((c) => c.hostIface);
    const inSync = !started && ctx.journal.note(NOTE) === digest && want.every((p) => ports.includes(p)) && ports.every((p) => want.includes(p));
    if (inSync) return { result: { changed: false, variant, version }, view };

    const stale = ports.filter((p) => !want.includes(p));
    const objs: OwnedObject[] = [
      { type: 'ovs-bridge', name: br, db: paths.dbSocket },
      ...want.map((p): OwnedObject => ({ type: 'ovs-port', bridge: br, name: p, db: paths.dbSocket })),
    ];
    await ctx.journal.recordAll(objs);
    await ctx.journal.setNote(NOTE, undefined);
    await vsctl(runner, paths, bridgeTransaction(env.prefix, br, want, stale, datapathType()));
    for (const s of stale) await ctx.journal.forget({ type: 'ovs-port', bridge: br, name: s, db: paths.dbSocket });

    const host = [`link set dev ${br} mtu ${mtu} up`, `addr replace ${gateway}/${prefixLen} dev ${br}`];
    for (const c of containers) host.push(`link set dev ${c.hostIface} mtu ${mtu} up`);
    await ipBatch(runner, env.hostNetns, host, ctx.signal);
    await ensureIpForward(ctx);
    await containerBatches(
      ctx,
      containers.map((c) => ({
        netns: c.netns,
        lines: [`link set dev ${c.iface} mtu ${mtu} up`, `addr replace ${c.spec.address}/${prefixLen} dev ${c.iface}`, `route replace default via ${gateway} dev ${c.iface}`],
      })),
      4,
      ctx.signal,
    );
    await inPool(containers, 4, (c) => runner.run(['ethtool', '-K', c.iface, 'tx', 'off'], { netns: c.netns }));
    await ctx.journal.setNote(NOTE, digest);
    return { result: { changed: true, variant, version }, view };
  },

  async check(ctx: DriverContext, view: NetworkView): Promise<DriftReport[]> {
    const drifts: DriftReport[] = [];
    const alive = ovsDaemonsAlive(ctx);
    if (!alive.ovsdb) drifts.push({ object: 'process ovsdb-server', expected: 'running', observed: 'gone' });
    if (!alive.vswitchd) drifts.push({ object: 'process ovs-vswitchd', expected: 'running', observed: 'gone' });
    if (!alive.ovsdb) return drifts;
    const paths = ovsPaths(ctx.env, ctx.scope);
    const br = ovsBridgeName(ctx.env.prefix, ctx.scope);
    const ports = await listPorts(ctx.runner, paths, br);
    for (const c of view.containers) {
      if (!ports.includes(c.hostIface)) drifts.push({ object: `ovs port ${br}/${c.hostIface}`, expected: 'present', observed: 'missing' });
    }
    // The bridge's internal port carries the containers' gateway address: without it nothing leaves the bridge.
    drifts.push(...hostLinkDrift(await listLinks(ctx.runner, ctx.env.hostNetns), br));
    return drifts;
  },
};
