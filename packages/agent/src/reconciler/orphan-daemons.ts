// Orphans GC finds beyond names: IPsec SAs and policies, and daemons.
//
// xfrm policies and states carry no name. Ours are those in a host namespace the agent owns
// (env.hostNetns: the lab host, where nothing else installs any) and, in a shared namespace,
// those bound to the if_id of an xfrm interface with the agent's prefix. GC removes the ones no
// kept journal lists.
//
// Daemons are never found by program name. A process is an orphan of ours when it is tied to an
// orphaned object of ours: its network namespace is an orphaned namespace with our prefix
// (inode of /proc/PID/ns/net = inode of /run/netns/NAME), or its command line or working
// directory names an orphaned file of ours under runDir/stateDir (how charon, tincd, OVS and
// OpenVPN are started: with config, pid and socket files there). PID files inside an orphaned
// directory are read as candidates too, and count only when that proof holds, so a PID reused
// by someone else is left alone. Each is killed by PID with its start time (undo.ts).

import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HostEnv } from '../host-env.js';
import type { OwnedObject } from '../journal/objects.js';
import { processStartTime } from '../journal/undo.js';
import { ipIn } from '../netns/ip-batch.js';
import type { Runner } from '../runner/runner.js';

export interface XfrmEntry {
  readonly selector: string[];
  readonly ifId: number | undefined;
}

function num(v: string): string {
  return String(v.startsWith('0x') ? parseInt(v, 16) : Number(v));
}

/** Blocks of `ip xfrm policy list` / `ip xfrm state list`, as removal selectors. */
export function parseXfrm(text: string, kind: 'policy' | 'state'): XfrmEntry[] {
  const out: XfrmEntry[] = [];
  let cur: { words: string[] } | undefined;
  const flush = (): void => {
    if (cur === undefined) return;
    const w = cur.words;
    const get = (k: string): string | undefined => {
      const i = w.indexOf(k);
      return i >= 0 ? w[i + 1] : undefined;
    };
    const src = get('src');
    const dst = get('dst');
    const ifId = get('if_id');
    const sel = ['src', src ?? '', 'dst', dst ?? ''];
    if (kind === 'policy') {
      const dir = get('dir');
      if (dir === undefined) return;
      sel.push('dir', dir);
      const ptype = get('ptype');
      if (ptype !== undefined && ptype !== 'main') sel.push('ptype', ptype);
    } else {
      const proto = get('proto');
      const spi = get('spi');
      if (proto === undefined || spi === undefined) return;
      sel.push('proto', proto, 'spi', num(spi));
    }
    if (ifId !== undefined) sel.push('if_id', num(ifId));
    if (src !== undefined && dst !== undefined) out.push({ selector: sel, ifId: ifId === undefined ? undefined : Number(num(ifId)) });
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('src ')) {
      flush();
      cur = { words: line.trim().split(/\s+/) };
    } else if (cur !== undefined && /^\s/.test(line)) {
      // Only the block's own lines: a `tmpl src ... dst ...` line must not override the selector.
      const words = line.trim().split(/\s+/);
      if (words[0] === 'tmpl') continue;
      cur.words.push(...words.filter((_w, i) => !(words[i] === 'src' || words[i] === 'dst' || words[i - 1] === 'src' || words[i - 1] === 'dst')));
    }
  }
  flush();
  return out;
}

/** if_ids of the xfrm interfaces with the agent's prefix in the host namespace. */
async function ourIfIds(runner: Runner, env: HostEnv): Promise<Set<number>> {
  const r = await runner.run([...ipIn(env.hostNetns), '-d', '-j', 'link', 'show', 'type', 'xfrm']);
  const rows = (r.stdout.trim() === '' ? [] : JSON.parse(r.stdout)) as Array<{ ifname: string; linkinfo?: { info_data?: { if_id?: number | string } } }>;
  return new Set(rows.filter((l) => l.ifname.startsWith(env.prefix)).flatMap((l) => {
    const v = l.linkinfo?.info_data?.if_id;
    return v === undefined ? [] : [Number(typeof v === 'string' ? num(v) : v)];
  }));
}

/** Stray xfrm policies and states of ours in the host namespace that no kept journal lists. */
export async function findXfrmOrphans(runner: Runner, env: HostEnv, known: readonly OwnedObject[]): Promise<OwnedObject[]> {
  const onHost = (netns: string | undefined): boolean => netns === undefined || netns === env.hostNetns;
  const key = (sel: readonly string[]): string => {
    const pick = (k: string): string => {
      const i = sel.indexOf(k);
      return i >= 0 ? (sel[i + 1] ?? '') : '';
    };
    return ['src', 'dst', 'dir', 'proto'].map(pick).join(' ');
  };
  const knownKeys = new Set(known.flatMap((o) => ((o.type === 'xfrm-policy' || o.type === 'xfrm-state') && onHost(o.netns) ? [`${o.type} ${key(o.selector)}`] : [])));
  const ids = env.hostNetns === undefined ? await ourIfIds(runner, env) : undefined;
  const ours = (e: XfrmEntry): boolean => ids === undefined || (e.ifId !== undefined && ids.has(e.ifId));
  const netns = env.hostNetns;
  const out: OwnedObject[] = [];
  for (const kind of ['policy', 'state'] as const) {
    const r = await runner.run([...ipIn(env.hostNetns), 'xfrm', kind, 'list']);
    for (const e of parseXfrm(r.stdout, kind)) {
      const type = kind === 'policy' ? ('xfrm-policy' as const) : ('xfrm-state' as const);
      if (!ours(e) || knownKeys.has(`${type} ${key(e.selector)}`)) continue;
      out.push({ type, selector: e.selector, ...(netns === undefined ? {} : { netns }) });
    }
  }
  return out;
}

function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

/** Files named *.pid below dir (a few levels), read as PIDs. */
function pidFiles(dir: string, depth = 3): number[] {
  if (depth < 0) return [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return pidFiles(p, depth - 1);
    if (!e.isFile() || !e.name.endsWith('.pid')) return [];
    try {
      const n = Number(readFileSync(p, 'utf8').trim());
      return Number.isInteger(n) && n > 1 ? [n] : [];
    } catch {
      return [];
    }
  });
}

function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** Daemons tied to orphaned namespaces or orphaned files of ours (see the header); never this process. */
export function findOrphanDaemons(orphans: readonly OwnedObject[], procRoot = '/proc'): OwnedObject[] {
  const paths = orphans.flatMap((o) => (o.type === 'path' ? [resolve(o.path)] : []));
  const nsInodes = new Map<number, string>();
  for (const o of orphans) {
    if (o.type !== 'netns') continue;
    const ino = netnsInode(o.name);
    if (ino !== undefined) nsInodes.set(ino, o.name);
  }
  if (paths.length === 0 && nsInodes.size === 0) return [];
  const candidates = new Set<number>(paths.flatMap((p) => pidFiles(p)));
  for (const e of readdirSync(procRoot)) if (/^\d+$/.test(e)) candidates.add(Number(e));
  const out: OwnedObject[] = [];
  for (const pid of candidates) {
    if (pid === process.pid || pid <= 1) continue;
    let why: string | undefined;
    try {
      const nsLink = readlinkSync(`${procRoot}/${pid}/ns/net`);
      const ino = Number(/\[(\d+)\]/.exec(nsLink)?.[1]);
      if (nsInodes.has(ino)) why = `in orphaned namespace ${nsInodes.get(ino)}`;
      if (why === undefined && paths.length > 0) {
        const argv = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
        const cwd = (() => {
          try {
            return readlinkSync(`${procRoot}/${pid}/cwd`);
          } catch {
            return '';
          }
        })();
        const hit = paths.find((p) => argv.some((a) => a.split('=').some((part) => inside(part, p))) || (cwd !== '' && inside(cwd, p)));
        if (hit !== undefined) why = `using orphaned ${hit}`;
      }
    } catch {
      continue;
    }
    if (why === undefined) continue;
    const startTime = processStartTime(pid);
    if (startTime === undefined) continue;
    out.push({ type: 'process', pid, startTime, what: `orphan daemon ${why}` });
  }
  return out;
}
