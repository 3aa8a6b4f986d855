// The `bpf` network solution: the routed plumbing of `routing` (proxy-ARP, /32 host routes,
// which carry traffic leaving the host and ARP), plus a tc clsact ingress program on every
// host-side veth (bpf/redirect.c) that moves same-host container traffic straight into the
// destination namespace with bpf_redirect_peer. The program is loaded once per scope with its
// maps pinned under env.bpffs/<scope dir>/ (journaled as one bpf-pin: removing the directory
// unpins them; the tc filters go with the veths); the destination map (IPv4 -> veth ifindex
// and MACs) is filled with one `bpftool batch`, the filters attached with one `tc -batch`.
// The redirect filter sits at prio 10, so a packet filter at prio 1 on the same clsact hook
// runs first (and returns TC_ACT_UNSPEC for allowed packets to let classification continue).

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeconetError } from '@seconet/core';
import type { CapabilityReport, ContainerHandle, DriftReport, DriverContext, EnsureResult, NetworkDriver, NetworkView, ProbeContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import { scopeDirName } from '../names.js';
import { hostVethMac } from '../netns/containers.js';
import { listLinks } from '../netns/ip-batch.js';
import { findTool } from '../runner/tools.js';
import type { Runner } from '../runner/runner.js';
import { ensureBpffs } from './bpffs.js';
import { ensureRouted, ROUTED_GATEWAY, routedDrift } from './routed.js';

/** The compiled program (`npm run bpf` builds it next to its source). */
export const REDIRECT_OBJECT = fileURLToPath(new URL('../../bpf/redirect.o', import.meta.url));
export const REDIRECT_PRIO = 10;
export const REDIRECT_HANDLE = 1;

export interface RedirectPins {
  readonly dir: string;
  readonly prog: string;
  readonly map: string;
  readonly stats: string;
}

export function redirectPins(env: Pick<HostEnv, 'bpffs' | 'prefix'>, scope: string): RedirectPins {
  const dir = join(env.bpffs, scopeDirName(env.prefix, scope));
  return { dir, prog: join(dir, 'prog'), map: join(dir, 'redirect_map'), stats: join(dir, 'redirect_stats') };
}

function hexBytes(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

function macBytes(mac: string): number[] {
  return mac.split(':').map((x) => parseInt(x, 16));
}

/** One `bpftool batch` line setting dst -> (ifindex, MACs). Key in network order, ifindex in host (little-endian) order. */
export function mapUpdateLine(map: string, address: string, ifindex: number, dmac: string, smac: string): string {
  const key = address.split('.').map(Number);
  const idx = [ifindex & 0xff, (ifindex >>> 8) & 0xff, (ifindex >>> 16) & 0xff, (ifindex >>> 24) & 0xff];
  return `map update pinned ${map} key hex ${hexBytes(key)} value hex ${hexBytes([...idx, ...macBytes(dmac), ...macBytes(smac)])}`;
}

/** Packets and bytes the program redirected in a scope (summed over CPUs). */
export async function readRedirectStats(runner: Runner, env: Pick<HostEnv, 'bpffs' | 'prefix'>, scope: string): Promise<{ packets: number; bytes: number }> {
  const r = await runner.run(['bpftool', '-j', 'map', 'dump', 'pinned', redirectPins(env, scope).stats]);
  const rows = JSON.parse(r.stdout) as Array<{ formatted?: { values?: Array<{ value: { packets: number; bytes: number } }> } }>;
  let packets = 0;
  let bytes = 0;
  for (const row of rows) for (const v of row.formatted?.values ?? []) {
    packets += v.value.packets;
    bytes += v.value.bytes;
  }
  return { packets, bytes };
}

function missing(what: string): SeconetError {
  return new SeconetError('MISSING_TOOL', what);
}

async function attach(ctx: DriverContext, containers: readonly ContainerHandle[], pins: RedirectPins): Promise<void> {
  if (containers.length === 0) return;
  const lines = containers.flatMap((c) => [
    `qdisc replace dev ${c.hostIface} clsact`,
    `filter replace dev ${c.hostIface} ingress prio ${REDIRECT_PRIO} handle ${REDIRECT_HANDLE} bpf da object-pinned ${pins.prog}`,
  ]);
  const ns = ctx.env.hostNetns === undefined ? [] : ['-n', ctx.env.hostNetns];
  await ctx.runner.run(['tc', ...ns, '-batch', '-'], { stdin: lines.join('\n') + '\n', timeoutMs: 120_000 });
}

interface NetShow {
  tc?: Array<{ devname: string; kind: string; name?: string; id: number }>;
}

export const bpfDriver: NetworkDriver = {
  kind: 'bpf',

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const base = { category: 'network' as const, kind: 'bpf', variant: 'kernel' as const };
    for (const tool of ['tc', 'bpftool']) {
      if (findTool(tool) === null) return [{ ...base, available: false, version: '', reason: `${tool} is not installed (Debian: apt-get install iproute2 bpftool)` }];
    }
    if (!existsSync(REDIRECT_OBJECT)) return [{ ...base, available: false, version: '', reason: `${REDIRECT_OBJECT} is missing: build it with npm run bpf (clang, libbpf-dev)` }];
    try {
      const v = (await ctx.runner.run(['bpftool', 'version'])).stdout.split('\n')[0]?.trim() ?? '';
      return [{ ...base, available: true, version: v, reason: '' }];
    } catch (e) {
      return [{ ...base, available: false, version: '', reason: `bpftool does not run: ${e instanceof Error ? e.message : String(e)}` }];
    }
  },

  async ensure(ctx: DriverContext, containerCidr: string, containers: readonly ContainerHandle[], mtu: number): Promise<{ result: EnsureResult; view: NetworkView }> {
    const { env, runner } = ctx;
    if (!existsSync(REDIRECT_OBJECT)) throw missing(`the bpf network solution needs ${REDIRECT_OBJECT}: build it with npm run bpf (clang, libbpf-dev)`);
    if (findTool('bpftool') === null) throw missing('the bpf network solution needs bpftool (Debian: apt-get install bpftool)');
    let changed = await ensureRouted(ctx, containers, mtu);

    await ensureBpffs(runner, env);
    const pins = redirectPins(env, ctx.scope);
    await ctx.journal.record({ type: 'bpf-pin', path: pins.dir });
    if (!existsSync(pins.prog)) {
      changed = true;
      mkdirSync(pins.dir, { recursive: true, mode: 0o700 });
      await runner.run(['bpftool', 'prog', 'load', REDIRECT_OBJECT, pins.prog, 'type', 'classifier', 'pinmaps', pins.dir]);
    }
    const links = await listLinks(runner, env.hostNetns);
    const lines = containers.map((c) => {
      const l = links.get(c.hostIface);
      if (l === undefined) throw new Error(`host veth ${c.hostIface} of container ${c.spec.name} is missing`);
      return mapUpdateLine(pins.map, c.spec.address, l.ifindex, c.mac, hostVethMac(env.prefix, ctx.scope, c.spec.name));
    });
    if (lines.length > 0) await runner.run(['bpftool', 'batch', 'file', '-'], { stdin: lines.join('\n') + '\n', timeoutMs: 60_000 });
    await attach(ctx, containers, pins);
    const version = (await runner.run(['bpftool', 'version'])).stdout.split('\n')[0]?.trim() ?? '';
    return {
      result: { changed, variant: 'kernel', version },
      view: { kind: 'bpf', containerCidr, gateway: ROUTED_GATEWAY, bridge: undefined, ovsdb: undefined, containers, mtu },
    };
  },

  async check(ctx: DriverContext, view: NetworkView): Promise<DriftReport[]> {
    const { env, runner } = ctx;
    const links = await listLinks(runner, env.hostNetns);
    const drifts = await routedDrift(ctx, links, view.containers);
    const pins = redirectPins(env, ctx.scope);
    if (!existsSync(pins.prog)) drifts.push({ object: `bpf pin ${pins.prog}`, expected: 'pinned', observed: 'missing' });
    const r = await runner.run(['bpftool', '-j', 'net', 'show'], env.hostNetns === undefined ? {} : { netns: env.hostNetns });
    const shown = JSON.parse(r.stdout) as NetShow[];
    const ingress = new Set((shown[0]?.tc ?? []).filter((x) => x.kind.endsWith('ingress')).map((x) => x.devname));
    for (const c of view.containers) {
      if (!ingress.has(c.hostIface)) drifts.push({ object: `tc ingress ${c.hostIface}`, expected: 'redirect program', observed: 'missing' });
    }
    return drifts;
  },
};
