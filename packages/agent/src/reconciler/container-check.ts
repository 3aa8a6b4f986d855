// Check looks inside the containers too: for each container namespace of a scope, eth0 is
// there and up with the container's address, a default route leaves through it, its veth peer
// is the scope's host-side veth (same ifindex pair, not a stray link of the same name), and
// every filter object the journal placed in the container namespace (iptables chains, nft
// tables, tc clsact) is still there. Two `ip` calls per container (addresses with link data,
// routes) plus one per filter tool per namespace that has such objects, a few at a time.

import type { ContainerHandle, DriftReport } from '../driver.js';
import type { OwnedObject } from '../journal/objects.js';
import { ipIn, type LinkInfo } from '../netns/ip-batch.js';
import type { Runner } from '../runner/runner.js';
import { parseIptablesSave } from './orphans.js';

interface AddrRow {
  readonly ifname: string;
  readonly flags?: string[];
  readonly link_index?: number;
  readonly addr_info?: Array<{ family?: string; local?: string }>;
}

interface RouteRow {
  readonly dst?: string;
  readonly dev?: string;
}

/** What one container namespace looks like, from `ip -j addr` and `ip -j route`. */
export function containerDrift(h: ContainerHandle, addrs: readonly AddrRow[], routes: readonly RouteRow[], hostLink: LinkInfo | undefined): DriftReport[] {
  const who = `container ${h.spec.name} (${h.netns})`;
  const eth = addrs.find((a) => a.ifname === h.iface);
  if (eth === undefined) return [{ object: `${who} ${h.iface}`, expected: 'present', observed: 'missing' }];
  const drifts: DriftReport[] = [];
  if (!(eth.flags ?? []).includes('UP')) drifts.push({ object: `${who} ${h.iface}`, expected: 'up', observed: 'down' });
  const v4 = (eth.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local ?? '');
  if (!v4.includes(h.spec.address)) drifts.push({ object: `${who} address`, expected: h.spec.address, observed: v4.join(',') || 'none' });
  const def = routes.find((r) => r.dst === 'default');
  if (def === undefined) drifts.push({ object: `${who} default route`, expected: `dev ${h.iface}`, observed: 'missing' });
  else if (def.dev !== h.iface) drifts.push({ object: `${who} default route`, expected: `dev ${h.iface}`, observed: `dev ${def.dev ?? '?'}` });
  if (hostLink === undefined) drifts.push({ object: `${who} veth peer ${h.hostIface}`, expected: 'present', observed: 'missing' });
  else if (eth.link_index !== undefined && eth.link_index !== hostLink.ifindex) {
    drifts.push({ object: `${who} veth peer`, expected: `${h.hostIface} (ifindex ${hostLink.ifindex})`, observed: `ifindex ${eth.link_index}` });
  }
  return drifts;
}

async function json<T>(runner: Runner, argv: readonly string[]): Promise<T[]> {
  const r = await runner.run(argv);
  return (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as T[];
}

/** Filter objects the journal lists inside container namespaces that the kernel no longer has. */
async function filterDrift(runner: Runner, netns: string, objs: readonly OwnedObject[]): Promise<DriftReport[]> {
  const drifts: DriftReport[] = [];
  const chains = objs.filter((o): o is Extract<OwnedObject, { type: 'iptables-chain' }> => o.type === 'iptables-chain');
  for (const binary of [...new Set(chains.map((c) => c.binary ?? 'iptables'))]) {
    const dump = (await runner.run([`${binary}-save`], { netns })).stdout;
    const want = new Set(chains.filter((c) => (c.binary ?? 'iptables') === binary).map((c) => c.chain));
    const have = new Set(parseIptablesSave(dump, (c) => want.has(c)).map((c) => c.chain));
    for (const c of chains) if ((c.binary ?? 'iptables') === binary && !have.has(c.chain)) drifts.push({ object: `${binary} chain ${c.table}/${c.chain} in ${netns}`, expected: 'present', observed: 'missing' });
  }
  const tables = objs.filter((o): o is Extract<OwnedObject, { type: 'nft-table' }> => o.type === 'nft-table');
  if (tables.length > 0) {
    const rows = (JSON.parse((await runner.run(['nft', '-j', 'list', 'tables'], { netns })).stdout) as { nftables?: Array<{ table?: { family: string; name: string } }> }).nftables ?? [];
    const have = new Set(rows.flatMap((r) => (r.table ? [`${r.table.family}/${r.table.name}`] : [])));
    for (const t of tables) if (!have.has(`${t.family}/${t.name}`)) drifts.push({ object: `nft table ${t.family} ${t.name} in ${netns}`, expected: 'present', observed: 'missing' });
  }
  for (const q of objs.filter((o): o is Extract<OwnedObject, { type: 'tc-clsact' }> => o.type === 'tc-clsact')) {
    const out = (await runner.run(['tc', '-n', netns, 'qdisc', 'show', 'dev', q.dev])).stdout;
    if (!/\bclsact\b/.test(out)) drifts.push({ object: `tc clsact on ${q.dev} in ${netns}`, expected: 'present', observed: 'missing' });
  }
  return drifts;
}

/** Drift inside every container of a scope. */
export async function containersDrift(runner: Runner, containers: readonly ContainerHandle[], hostLinks: ReadonlyMap<string, LinkInfo>, journal: readonly OwnedObject[], concurrency = 6): Promise<DriftReport[]> {
  const out: DriftReport[][] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < containers.length) {
      const i = next++;
      const h = containers[i]!;
      const [addrs, routes] = await Promise.all([json<AddrRow>(runner, [...ipIn(h.netns), '-j', 'addr', 'show']), json<RouteRow>(runner, [...ipIn(h.netns), '-j', 'route', 'show'])]);
      const inside = journal.filter((o) => 'netns' in o && o.netns === h.netns);
      out[i] = [...containerDrift(h, addrs, routes, hostLinks.get(h.hostIface)), ...(await filterDrift(runner, h.netns, inside))];
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, containers.length) }, worker));
  return out.flat();
}
