// Finding kernel objects that carry this agent's prefix but that no kept journal lists (a
// crash between create and journal write, a journal file lost, an older agent's leftovers).
// Each finding is expressed as an OwnedObject, so GC removes it through journal/undo.ts like
// any journaled object. Scanned: network namespaces (`ip netns list`), links of the host
// namespace, nft tables and iptables chains (both backends; name starting with the prefix in
// either case) with the jumps into them, entries of env.bpffs and env.runDir named with the
// prefix, and wireguard-go control sockets named with the prefix (/var/run/wireguard, outside
// runDir) whose device no kept journal lists; IPsec policies and SAs, and daemons tied to any of
// these orphans (orphan-daemons.ts). A scan whose tool is missing is skipped. OpenFlow flows and tc filters are not
// scanned: they live on a scope's own switch or on a veth, which go with their scope (or are
// found here as orphans themselves), and both are journaled before they are created, so one
// left on a kept object is already listed by that scope's journal.

import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostEnv } from '../host-env.js';
import type { OwnedObject } from '../journal/objects.js';
import { WIREGUARD_SOCKET_DIRS, wireguardSocketName } from '../journal/undo.js';
import { listLinks, listNetns } from '../netns/ip-batch.js';
import { findTool } from '../runner/tools.js';
import { findOrphanDaemons, findXfrmOrphans } from './orphan-daemons.js';
import { heldByProbe } from '../capabilities/in-flight.js';
import type { Runner } from '../runner/runner.js';

export interface OrphanDeps {
  readonly runner: Runner;
  readonly env: HostEnv;
  readonly log?: { warn(obj: object, msg?: string): void } | undefined;
}

/** Splits an iptables-save rule line into argv, honouring double quotes. */
export function splitRule(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && quoted && i + 1 < line.length) {
      cur += line[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      has = true;
    } else if (ch === ' ' && !quoted) {
      if (has || cur !== '') out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += ch;
    }
  }
  if (has || cur !== '') out.push(cur);
  return out;
}

/** Chains of ours in an iptables-save dump, with the rules that jump into them from chains not of ours. */
export function parseIptablesSave(dump: string, ours: (chain: string) => boolean): Array<{ table: string; chain: string; jumps: Array<{ from: string; rule: string[] }> }> {
  const found = new Map<string, { table: string; chain: string; jumps: Array<{ from: string; rule: string[] }> }>();
  let table = '';
  for (const raw of dump.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    else if (line.startsWith(':')) {
      const chain = line.slice(1).split(' ')[0] ?? '';
      if (ours(chain)) found.set(`${table}/${chain}`, { table, chain, jumps: [] });
    } else if (line.startsWith('-A ')) {
      const argv = splitRule(line);
      const from = argv[1] ?? '';
      if (ours(from)) continue;
      const j = argv.findIndex((a, i) => (a === '-j' || a === '-g') && i + 1 < argv.length && ours(argv[i + 1]!));
      if (j < 0) continue;
      found.get(`${table}/${argv[j + 1]}`)?.jumps.push({ from, rule: argv.slice(2) });
    }
  }
  return [...found.values()];
}

function inOrUnder(a: string, b: string): boolean {
  return a === b || a.startsWith(b + '/') || b.startsWith(a + '/');
}

/** Objects with the prefix that none of `known` lists. */
export async function findOrphans(deps: OrphanDeps, known: readonly OwnedObject[]): Promise<OwnedObject[]> {
  const { runner, env } = deps;
  const prefix = env.prefix;
  const upper = prefix.toUpperCase();
  const ours = (name: string): boolean => name.startsWith(prefix) || name.startsWith(upper);
  // Drivers journal host objects with netns undefined or with netns = env.hostNetns: both are the host.
  const onHost = (netns: string | undefined): boolean => netns === undefined || netns === env.hostNetns;
  const hostNs = env.hostNetns === undefined ? {} : { netns: env.hostNetns };
  const out: OwnedObject[] = [];
  const scan = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      deps.log?.warn({ scan: what, err: e instanceof Error ? e.message : String(e) }, 'gc: scan skipped');
    }
  };

  await scan('netns', async () => {
    const names = new Set(known.flatMap((o) => (o.type === 'netns' ? [o.name] : [])));
    for (const n of await listNetns(runner)) if (n.startsWith(prefix) && !names.has(n) && !heldByProbe(n)) out.push({ type: 'netns', name: n });
  });
  await scan('links', async () => {
    // An OVS bridge's internal port is a link of the host namespace named like the bridge: the
    // scope's journal lists it as its `ovs-bridge`, and it goes with the bridge.
    const names = new Set(known.flatMap((o) => (o.type === 'link' && onHost(o.netns) ? [o.name] : o.type === 'ovs-bridge' ? [o.name] : [])));
    for (const l of (await listLinks(runner, env.hostNetns)).values()) if (l.ifname.startsWith(prefix) && !names.has(l.ifname)) out.push({ type: 'link', name: l.ifname });
  });
  await scan('nft', async () => {
    if (findTool('nft') === null) return;
    const knownTables = new Set(known.flatMap((k) => (k.type === 'nft-table' && onHost(k.netns) ? [`${k.family}/${k.name}`] : [])));
    const r = await runner.run(['nft', '-j', 'list', 'tables'], hostNs);
    const rows = (JSON.parse(r.stdout) as { nftables?: Array<{ table?: { family: string; name: string } }> }).nftables ?? [];
    for (const row of rows) {
      const t = row.table;
      if (t === undefined || !ours(t.name)) continue;
      if (!knownTables.has(`${t.family}/${t.name}`)) out.push({ type: 'nft-table', family: t.family, name: t.name });
    }
  });
  for (const binary of ['iptables', 'iptables-legacy'] as const) {
    await scan(binary, async () => {
      if (findTool(`${binary}-save`) === null) return;
      const r = await runner.run([`${binary}-save`], hostNs);
      const knownChains = new Set(known.flatMap((k) => (k.type === 'iptables-chain' && onHost(k.netns) && (k.binary ?? 'iptables') === binary ? [`${k.table}/${k.chain}`] : [])));
      for (const c of parseIptablesSave(r.stdout, ours)) {
        if (knownChains.has(`${c.table}/${c.chain}`)) continue;
        out.push({ type: 'iptables-chain', table: c.table, chain: c.chain, jumps: c.jumps, ...(binary === 'iptables' ? {} : { binary }) });
      }
    });
  }
  await scan('bpffs', async () => {
    const pins = known.flatMap((k) => (k.type === 'bpf-pin' ? [resolve(k.path)] : []));
    for (const e of readdirSync(env.bpffs)) {
      const p = join(resolve(env.bpffs), e);
      if (e.startsWith(prefix) && !pins.some((k) => inOrUnder(k, p))) out.push({ type: 'bpf-pin', path: p });
    }
  });
  await scan('runDir', async () => {
    const paths = known.flatMap((k) => (k.type === 'path' ? [resolve(k.path)] : []));
    for (const e of readdirSync(env.runDir)) {
      const p = join(resolve(env.runDir), e);
      if (e.startsWith(prefix) && !paths.some((k) => inOrUnder(k, p)) && !heldByProbe(p)) out.push({ type: 'path', path: p });
    }
  });
  await scan('wireguard sockets', async () => {
    const names = new Set(known.flatMap((k) => (k.type === 'path' ? [wireguardSocketName(k.path, prefix)] : k.type === 'link' && onHost(k.netns) ? [k.name] : [])));
    const seen = new Set<string>();
    for (const dir of WIREGUARD_SOCKET_DIRS) {
      let real: string;
      try {
        real = realpathSync(dir);
      } catch {
        continue;
      }
      if (seen.has(real)) continue;
      seen.add(real);
      for (const e of readdirSync(dir)) {
        const path = `${dir}/${e}`;
        const name = wireguardSocketName(path, prefix);
        if (name !== undefined && !names.has(name) && lstatSync(path, { throwIfNoEntry: false })?.isSocket()) out.push({ type: 'path', path });
      }
    }
  });
  await scan('xfrm', async () => {
    out.push(...(await findXfrmOrphans(runner, env, known)));
  });
  // Last, so undo (which works backwards) kills the daemons before it removes their files and namespaces.
  await scan('daemons', async () => {
    out.push(...findOrphanDaemons(out));
  });
  await scan('xfrm', async () => {
    out.push(...(await findXfrmOrphans(runner, env, known)));
  });
  // Last, so undo (which works backwards) kills the daemons before it removes their files and namespaces.
  await scan('daemons', async () => {
    out.push(...findOrphanDaemons(out));
  });
  return out;
}
