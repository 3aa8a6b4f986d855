// `ip` in the host namespace: links and routes as the kernel reports them, peer routes, and
// drift of links and routes.

import type { DriftReport, DriverContext } from '../driver.js';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import { ipBatch as ipBatchIn, ipIn } from '../netns/ip-batch.js';
import type { OwnedObject } from '../journal/objects.js';
import type { TunnelPeer__Output } from '../gen/seconet/agent/v1/TunnelPeer.js';
import { routeDst } from './spec.js';

export function ipArgv(env: HostEnv): string[] {
  return ipIn(env.hostNetns);
}

export function nsOpt(env: HostEnv): { netns?: string } {
  return env.hostNetns === undefined ? {} : { netns: env.hostNetns };
}

/** Runs `ip -batch -` in the host namespace (one process for many changes). */
export async function ipBatch(ctx: { env: HostEnv; runner: Runner }, lines: readonly string[]): Promise<void> {
  await ipBatchIn(ctx.runner, ctx.env.hostNetns, lines);
}

export interface LinkInfo {
  readonly ifname: string;
  readonly flags: readonly string[];
  readonly mtu: number;
  readonly operstate?: string;
  readonly linkinfo?: { info_kind?: string; info_data?: Record<string, unknown> };
}

/** The link as `ip -d -j link show` reports it, or undefined when it does not exist. */
export async function readLink(ctx: { env: HostEnv; runner: Runner }, name: string): Promise<LinkInfo | undefined> {
  try {
    const r = await ctx.runner.run([...ipArgv(ctx.env), '-d', '-j', 'link', 'show', 'dev', name]);
    const arr = JSON.parse(r.stdout || '[]') as LinkInfo[];
    return arr[0];
  } catch (e) {
    if ((e as { kind?: string }).kind === 'NotFound') return undefined;
    throw e;
  }
}

/** Routes of the main table as `ip -j route show` reports them. */
export async function readRoutes(ctx: { env: HostEnv; runner: Runner }): Promise<Array<{ dst: string; dev?: string; gateway?: string }>> {
  const r = await ctx.runner.run([...ipArgv(ctx.env), '-j', 'route', 'show']);
  return JSON.parse(r.stdout || '[]') as Array<{ dst: string; dev?: string; gateway?: string }>;
}

/** `route replace` lines for every peer's networks via its overlay address on `dev(peer)`. */
export function peerRouteLines(peers: readonly TunnelPeer__Output[], dev: (p: TunnelPeer__Output) => string, via: (p: TunnelPeer__Output) => string, onlink: boolean): string[] {
  const lines: string[] = [];
  for (const p of peers) for (const r of p.routes) lines.push(`route replace ${routeDst(r)} via ${via(p)} dev ${dev(p)}${onlink ? ' onlink' : ''}`);
  return lines;
}

export function peerRouteObjects(env: HostEnv, peers: readonly TunnelPeer__Output[]): OwnedObject[] {
  return peers.flatMap((p) => p.routes.map((r): OwnedObject => ({ type: 'route', dst: routeDst(r), netns: env.hostNetns })));
}


export async function linkDrift(ctx: DriverContext, name: string, mtu?: number): Promise<DriftReport[]> {
  const l = await readLink(ctx, name);
  if (!l) return [{ object: `link ${name}`, expected: 'present and up', observed: 'missing' }];
  const out: DriftReport[] = [];
  if (!l.flags.includes('UP')) out.push({ object: `link ${name}`, expected: 'up', observed: 'down' });
  if (mtu !== undefined && l.mtu !== mtu) out.push({ object: `link ${name}`, expected: `mtu ${mtu}`, observed: `mtu ${l.mtu}` });
  return out;
}

export async function routeDrift(ctx: DriverContext, peers: readonly TunnelPeer__Output[], dev: (p: TunnelPeer__Output) => string): Promise<DriftReport[]> {
  const routes = await readRoutes(ctx);
  const out: DriftReport[] = [];
  for (const p of peers) {
    for (const r of p.routes) {
      const dst = routeDst(r);
      const hit = routes.find((x) => x.dst === dst);
      const want = `via tunnel dev ${dev(p)}`;
      if (!hit) out.push({ object: `route ${dst}`, expected: want, observed: 'missing' });
      else if (hit.dev !== dev(p)) out.push({ object: `route ${dst}`, expected: want, observed: `dev ${hit.dev ?? '?'}` });
    }
  }
  return out;
}
