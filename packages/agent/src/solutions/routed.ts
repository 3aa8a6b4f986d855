// Plain L3 plumbing shared by the `routing` and `bpf` solutions (the Calico model): no bridge;
// each container gets its address as /32 and a default route via 169.254.1.1 onlink; the host
// side answers for that gateway (proxy_arp=1, proxy_delay=0, else the first ping waits ~0.8 s,
// LAB-NOTES) and routes each container /32 to its veth. The container also gets a permanent
// neighbour entry for the gateway (the host veth's derived MAC): proxy-ARP only answers when
// the host has a route to 169.254.1.1 through another device, which a lab host without a
// default route has not. Routes and sysctls of a veth vanish with it, so only forwarding is
// journaled here.

import type { ContainerHandle, DriftReport, DriverContext } from '../driver.js';
import { CONTAINER_BATCH_CONCURRENCY, containerBaseLines, hostVethMac } from '../netns/containers.js';
import { containerBatches, ipBatch, ipIn, type LinkInfo } from '../netns/ip-batch.js';
import { ensureIpForward } from './ip-forward.js';
import { hostLinkDrift } from './probe.js';

export const ROUTED_GATEWAY = '169.254.1.1';

interface RouteRow {
  dst: string;
  dev?: string;
}

async function hostRoutes(ctx: DriverContext): Promise<Map<string, string | undefined>> {
  const r = await ctx.runner.run([...ipIn(ctx.env.hostNetns), '-j', 'route', 'show']);
  const rows = (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as RouteRow[];
  return new Map(rows.map((x) => [x.dst, x.dev]));
}

/** Host routes, proxy-ARP and the containers' addresses and routes. Returns true when the host side changed. */
export async function ensureRouted(ctx: DriverContext, containers: readonly ContainerHandle[], mtu: number): Promise<boolean> {
  const { env, runner } = ctx;
  const before = await hostRoutes(ctx);
  let changed = containers.some((c) => before.get(c.spec.address) !== c.hostIface);

  const host = containers.map((c) => `route replace ${c.spec.address}/32 dev ${c.hostIface} scope link`);
  await ipBatch(runner, env.hostNetns, host, ctx.signal);
  if (containers.length > 0) {
    const keys = containers.flatMap((c) => [`net.ipv4.conf.${c.hostIface}.proxy_arp=1`, `net.ipv4.neigh.${c.hostIface}.proxy_delay=0`]);
    await runner.run(['sysctl', '-q', '-w', ...keys], env.hostNetns === undefined ? {} : { netns: env.hostNetns });
  }
  changed = (await ensureIpForward(ctx)) || changed;

  await containerBatches(
    ctx,
    containers.map((c) => ({
      netns: c.netns,
      lines: [
        ...containerBaseLines(c, mtu),
        `addr replace ${c.spec.address}/32 dev ${c.iface}`,
        `neigh replace ${ROUTED_GATEWAY} lladdr ${hostVethMac(env.prefix, ctx.scope, c.spec.name)} dev ${c.iface} nud permanent`,
        `route replace default via ${ROUTED_GATEWAY} dev ${c.iface} onlink`,
      ],
    })),
    CONTAINER_BATCH_CONCURRENCY,
    ctx.signal,
  );
  return changed;
}

/** Drift of the host side: veths up, one /32 route per container through its veth. */
export async function routedDrift(ctx: DriverContext, links: ReadonlyMap<string, LinkInfo>, containers: readonly ContainerHandle[]): Promise<DriftReport[]> {
  const routes = await hostRoutes(ctx);
  const drifts: DriftReport[] = [];
  for (const c of containers) {
    drifts.push(...hostLinkDrift(links, c.hostIface, 'veth'));
    const dev = routes.get(c.spec.address);
    if (dev !== c.hostIface) drifts.push({ object: `route ${c.spec.address}/32`, expected: `dev ${c.hostIface}`, observed: dev === undefined ? 'missing' : `dev ${dev}` });
  }
  return drifts;
}
