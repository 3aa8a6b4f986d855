// Containers: a network namespace per container and a veth pair into the host namespace
// (host side hostVeth(), container side eth0), lo up, the container MTU on both ends. Work is
// batched: every namespace is added by one `ip -batch`, every veth by one batch in the host
// namespace, then one small batch per container namespace. MACs are derived from the scope and
// the container name, so a rebuilt container keeps its MAC and the routed solutions can pin
// the gateway's neighbour entry without reading anything back. Idempotent: what exists is
// read back and kept; a host veth without its namespace is a leftover and is recreated.
// IPv6 address generation is off on both ends (addrgenmode none): the testbed is IPv4-only,
// and duplicate-address probes, router solicitations and MLD reports would be background
// traffic on the links under measurement.
// Host veths are journaled with their peer's namespace, so teardown removes the namespaces
// in one batch and lets the kernel take the veth pairs with them (far cheaper than deleting
// 200 veths one netlink transaction at a time).
// Objects are journaled (all namespaces, then all links, so teardown removes each group in
// one batch) before the commands that create them.

import { createHash } from 'node:crypto';
import { CONTAINER_NAME_RE, requireIPv4, requireName } from '@seconet/core';
import type { ContainerHandle, DriverContext } from '../driver.js';
import type { ContainerSpec__Output } from '../gen/seconet/agent/v1/ContainerSpec.js';
import type { OwnedObject } from '../journal/objects.js';
import { containerNetns, hostVeth } from '../names.js';
import { containerBatches, ipBatch, listLinks, listNetns } from './ip-batch.js';
import { ensureHostLimits } from './host-limits.js';

export const CONTAINER_IFACE = 'eth0';
/** Container-namespace batches run at once (each `ip -n` process mostly waits on the kernel). */
export const CONTAINER_BATCH_CONCURRENCY = 6;

function mac(parts: readonly string[]): string {
  const d = createHash('sha256').update(parts.join('\u0000')).digest();
  // Locally administered, unicast.
  const bytes = [0x02, d[0]!, d[1]!, d[2]!, d[3]!, d[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** MAC of a container's eth0. */
export function containerMac(prefix: string, scope: string, container: string): string {
  return mac([prefix, scope, container, 'eth0']);
}

/** MAC of a container's host-side veth (the routed solutions' gateway MAC). */
export function hostVethMac(prefix: string, scope: string, container: string): string {
  return mac([prefix, scope, container, 'host']);
}

export function containerHandle(prefix: string, scope: string, spec: ContainerSpec__Output): ContainerHandle {
  return {
    spec,
    netns: containerNetns(prefix, scope, spec.name),
    hostIface: hostVeth(prefix, scope, spec.name),
    iface: CONTAINER_IFACE,
    mac: containerMac(prefix, scope, spec.name),
  };
}

/** What every container namespace needs inside: lo up, eth0 up with the container MTU. */
export function containerBaseLines(h: ContainerHandle, mtu: number): string[] {
  return ['link set dev lo up', `link set dev ${h.iface} addrgenmode none`, `link set dev ${h.iface} mtu ${mtu} up`];
}

export interface EnsureContainersOptions {
  /**
   * Run containerBaseLines in every container namespace (default true). A network solution
   * that runs its own batch in each container namespace anyway passes false and prepends
   * containerBaseLines to it: one process per container instead of two.
   */
  readonly containerSide?: boolean;
}

/** Creates (or reads back) the namespace and veth pair of every container. */
export async function ensureContainers(ctx: DriverContext, specs: readonly ContainerSpec__Output[], mtu: number, opts: EnsureContainersOptions = {}): Promise<ContainerHandle[]> {
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 65535) throw new Error(`container MTU ${mtu} out of 576..65535`);
  // The reconciler validated the request already; callers that build specs themselves get the
  // same guarantee here, since addresses end up in `ip -batch` lines.
  for (const [i, s] of specs.entries()) {
    requireName(`containers[${i}].name`, s.name, CONTAINER_NAME_RE);
    requireIPv4(`containers[${i}].address`, s.address);
  }
  const { env, runner, scope } = ctx;
  const handles = specs.map((s) => containerHandle(env.prefix, scope, s));
  const [namespaces, links] = await Promise.all([listNetns(runner), listLinks(runner, env.hostNetns)]);

  const newNs = handles.filter((h) => !namespaces.has(h.netns));
  const stale = handles.filter((h) => !namespaces.has(h.netns) && links.has(h.hostIface));
  const newVeth = handles.filter((h) => !namespaces.has(h.netns) || !links.has(h.hostIface));

  const objs: OwnedObject[] = [
    ...handles.map((h): OwnedObject => ({ type: 'netns', name: h.netns })),
    ...handles.map((h): OwnedObject => ({ type: 'link', name: h.hostIface, peerNetns: h.netns })),
  ];
  await ctx.journal.recordAll(objs);

  // The neighbour table and the backlog are the kernel's, shared by every namespace (host-limits.ts).
  ensureHostLimits(namespaces.size + newNs.length, ctx.log, env.procSys);
  await ipBatch(runner, undefined, newNs.map((h) => `netns add ${h.netns}`), ctx.signal);
  const host: string[] = [];
  for (const h of stale) host.push(`link del dev ${h.hostIface}`);
  for (const h of newVeth) {
    const hm = hostVethMac(env.prefix, scope, h.spec.name);
    host.push(`link add ${h.hostIface} address ${hm} mtu ${mtu} type veth peer name ${h.iface} address ${h.mac} mtu ${mtu} netns ${h.netns}`);
  }
  for (const h of handles) host.push(`link set dev ${h.hostIface} addrgenmode none`, `link set dev ${h.hostIface} mtu ${mtu} up`);
  await ipBatch(runner, env.hostNetns, host, ctx.signal);

  if (opts.containerSide ?? true) {
    await containerBatches(
      ctx,
      handles.map((h) => ({ netns: h.netns, lines: containerBaseLines(h, mtu) })),
      CONTAINER_BATCH_CONCURRENCY,
      ctx.signal,
    );
  }
  return handles;
}
