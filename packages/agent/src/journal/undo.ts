// Removal of every object type the agent may own, without the driver that made it: teardown
// replays a scope's journal in reverse through here, and GC uses it for orphans. Every removal
// is idempotent ("already gone" is success), processes are killed only while /proc still
// shows the start time the journal recorded (a recycled PID is never touched), and paths are
// removed only inside the agent's own stateDir or runDir, plus one exception: wireguard-go's
// control socket, whose directory is fixed at build time (/var/run/wireguard/<dev>.sock,
// https://git.zx2c4.com/wireguard-go/tree/ipc/uapi_linux.go), is removed when its name carries
// the agent's prefix and it is a socket. Policy-routing rules and xfrm policies and states are
// removed by the selector the journal recorded, so a daemon killed with SIGKILL (which
// therefore did not clean up) leaves nothing behind either. Long runs of links, tc filters or
// namespaces are removed with one `ip -batch` / `tc -batch` (teardown of 200 containers is a
// handful of processes, not hundreds); a batch that fails falls back to one removal per object.

import { lstat, rm } from 'node:fs/promises';
import { normalize, resolve, sep } from 'node:path';
import { PREFIX_RE, sleep } from '@seconet/core';
import type { HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import type { ScopeJournal } from './journal.js';
import { describe, type OwnedObject } from './objects.js';

export interface UndoDeps {
  readonly runner: Runner;
  readonly env: HostEnv;
  readonly log?: { warn(obj: object, msg?: string): void; debug(obj: object, msg?: string): void } | undefined;
  /** SIGTERM-to-SIGKILL grace for processes (default 2000 ms). */
  readonly graceMs?: number;
  /** How long to wait for veths to vanish with their peer namespace before deleting them (default 3000 ms). */
  readonly impliedWaitMs?: number;
}

export { processStartTime } from '../runner/proc.js';
import { processStartTime } from '../runner/proc.js';

/** Whether a removal failed because the object is already gone. A command that could not start for any reason but a missing tool (refused, out of file descriptors) says nothing about the object. */
export function isGone(e: unknown): boolean {
  const err = e as { kind?: string; stderr?: string; message?: string; spawnError?: string };
  if (err?.spawnError !== undefined && err.spawnError !== 'ENOENT') return false;
  if (err?.kind === 'NotFound') return true;
  const text = `${err?.stderr ?? ''} ${err?.message ?? ''}`;
  return /Cannot find specified qdisc|Address not found|Cannot assign requested address|Bad rule \(does a matching rule exist|No such process|does not exist|No such file or directory|Cannot open network namespace|no such (bridge|port)/i.test(text);
}

async function gone<T>(p: Promise<T>, alsoGone?: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (isGone(e)) return;
    const err = e as { stderr?: string; message?: string };
    if (alsoGone !== undefined && alsoGone.test(`${err?.stderr ?? ''} ${err?.message ?? ''}`)) return;
    throw e;
  }
}

/** tc's answers when the filter, its chain, its qdisc or its device is already gone. */
const TC_FILTER_GONE = /Cannot find specified filter chain|Parent Qdisc doesn't exist|Filter with specified priority\/protocol not found|Specified filter handle not found|Cannot find device/i;
/** ovs-ofctl's answers when the bridge's switch is gone (the socket file may outlive ovs-vswitchd). */
const OVS_FLOWS_GONE = /Connection refused|failed to connect to socket|is not a bridge or a socket/i;

const IFACE_RE = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}$/;
const COOKIE_RE = /^0x[0-9a-f]{1,16}$/;

function tcArgs(ns: string | undefined): string[] {
  return ns === undefined ? ['tc'] : ['tc', '-n', ns];
}

/** The words after `tc filter del` (also a `tc -batch` line): argv only, checked, never through a shell. */
function tcFilterDel(o: Extract<OwnedObject, { type: 'tc-filter' }>): string[] {
  const int = (n: number, max: number): boolean => Number.isInteger(n) && n >= 0 && n <= max;
  if (!IFACE_RE.test(o.dev) || (o.direction !== 'ingress' && o.direction !== 'egress') || !int(o.prio, 0xffff) || !int(o.handle, 0xffffffff)) {
    throw new Error(`refusing to remove ${describe(o)}: not a valid tc filter record`);
  }
  return ['dev', o.dev, o.direction, 'prio', String(o.prio), 'handle', String(o.handle), 'bpf'];
}

/** Where wireguard-go puts its control sockets (/var/run is /run on Debian, not everywhere). */
export const WIREGUARD_SOCKET_DIRS = ['/var/run/wireguard', '/run/wireguard'] as const;

/** The interface name of `path` when it is exactly <dir>/<name>.sock with a dir above and a name carrying `prefix`. */
export function wireguardSocketName(path: string, prefix: string): string | undefined {
  if (normalize(path) !== path || !PREFIX_RE.test(prefix)) return undefined;
  const dir = WIREGUARD_SOCKET_DIRS.find((d) => path.startsWith(d + '/'));
  if (dir === undefined) return undefined;
  const file = path.slice(dir.length + 1);
  if (!file.endsWith('.sock')) return undefined;
  const name = file.slice(0, -'.sock'.length);
  return name.startsWith(prefix) && IFACE_RE.test(name) ? name : undefined;
}

async function removeWireguardSocket(path: string): Promise<void> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (st === undefined) return;
  if (!st.isSocket()) throw new Error(`refusing to remove ${path}: not a socket`);
  await rm(path, { force: true });
}

const ADDR_RE = /^[0-9a-fA-F:.]{2,39}(\/\d{1,3})?$/;
const U32_RE = /^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/;
const XFRM_WORDS: Readonly<Record<'xfrm-policy' | 'xfrm-state', Readonly<Record<string, RegExp>>>> = {
  'xfrm-policy': { src: ADDR_RE, dst: ADDR_RE, dir: /^(in|out|fwd)$/, if_id: U32_RE, ptype: /^(main|sub)$/ },
  'xfrm-state': { src: ADDR_RE, dst: ADDR_RE, proto: /^(esp|ah|comp)$/, spi: U32_RE, reqid: U32_RE },
};

/** The recorded selector, checked word by word (key value pairs of known keys only): argv only, never a shell, but still no option smuggling. */
function xfrmSelector(o: Extract<OwnedObject, { type: 'xfrm-policy' } | { type: 'xfrm-state' }>): readonly string[] {
  const words = XFRM_WORDS[o.type];
  const sel = o.selector;
  const ok = sel.length >= 4 && sel.length % 2 === 0 && sel.every((w, i) => (i % 2 === 0 ? Object.hasOwn(words, w) && sel.indexOf(w) === i : words[sel[i - 1]!]!.test(w)));
  if (!ok || !sel.includes('src') || !sel.includes('dst') || (o.type === 'xfrm-policy' && !sel.includes('dir'))) throw new Error(`refusing to remove ${describe(o)}: not a valid selector`);
  return sel;
}

/** `ip rule del` words; never the kernel's own rules (priority 0, tables local, main, default). */
function ipRuleDel(o: Extract<OwnedObject, { type: 'ip-rule' }>): string[] {
  const okPrio = Number.isInteger(o.priority) && o.priority > 0 && o.priority < 32766;
  const okTable = Number.isInteger(o.table) && o.table > 0 && o.table <= 0xffffffff && ![253, 254, 255].includes(o.table);
  if ((o.family !== 4 && o.family !== 6) || !okPrio || !okTable) throw new Error(`refusing to remove ${describe(o)}: not a rule of ours`);
  return [`-${o.family}`, 'rule', 'del', 'priority', String(o.priority), 'table', String(o.table)];
}

function nsOf(deps: UndoDeps, netns: string | undefined): string | undefined {
  return netns ?? deps.env.hostNetns;
}

function ipArgs(ns: string | undefined): string[] {
  return ns === undefined ? ['ip'] : ['ip', '-n', ns];
}

function inside(path: string, dirs: readonly string[]): boolean {
  const p = resolve(path);
  return dirs.some((d) => {
    const root = resolve(d);
    return p !== root && p.startsWith(root + sep);
  });
}


async function killProcess(deps: UndoDeps, pid: number, startTime: string): Promise<void> {
  if (processStartTime(pid) !== startTime) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + (deps.graceMs ?? 2000);
  while (Date.now() < deadline) {
    if (processStartTime(pid) !== startTime) return;
    await sleep(25);
  }
  if (processStartTime(pid) !== startTime) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 40 && processStartTime(pid) === startTime; i++) await sleep(25);
}

/** Removes one object; succeeds when it is already gone. */
export async function removeObject(deps: UndoDeps, obj: OwnedObject): Promise<void> {
  const { runner } = deps;
  switch (obj.type) {
    case 'netns':
      return gone(runner.run(['ip', 'netns', 'del', obj.name]));
    case 'link':
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), 'link', 'del', 'dev', obj.name]));
    case 'route':
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), 'route', 'del', obj.dst, ...(obj.table ? ['table', String(obj.table)] : [])]));
    case 'addr':
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), 'addr', 'del', obj.cidr, 'dev', obj.dev]));
    case 'iptables-chain': {
      const bin = obj.binary ?? 'iptables';
      const ns = nsOf(deps, obj.netns);
      const o = ns === undefined ? {} : { netns: ns };
      for (const j of obj.jumps) {
        // A jump may have been added more than once (a crash between add and journal write): remove every copy.
        for (let i = 0; i < 16; i++) {
          try {
            await runner.run([bin, '-w', '5', '-t', obj.table, '-D', j.from, ...j.rule], o);
          } catch (e) {
            if (isGone(e)) break;
            throw e;
          }
        }
      }
      await gone(runner.run([bin, '-w', '5', '-t', obj.table, '-F', obj.chain], o));
      return gone(runner.run([bin, '-w', '5', '-t', obj.table, '-X', obj.chain], o));
    }
    case 'nft-table': {
      const ns = nsOf(deps, obj.netns);
      return gone(runner.run(['nft', 'delete', 'table', obj.family, obj.name], ns === undefined ? {} : { netns: ns }));
    }
    case 'bpf-pin':
      if (!inside(obj.path, [deps.env.bpffs])) throw new Error(`refusing to remove ${obj.path}: not inside ${deps.env.bpffs}`);
      await rm(obj.path, { recursive: true, force: true });
      return;
    case 'tc-clsact':
      return gone(runner.run([...tcArgs(nsOf(deps, obj.netns)), 'qdisc', 'del', 'dev', obj.dev, 'clsact']));
    case 'tc-filter':
      return gone(runner.run([...tcArgs(nsOf(deps, obj.netns)), 'filter', 'del', ...tcFilterDel(obj)]), TC_FILTER_GONE);
    case 'process':
      return killProcess(deps, obj.pid, obj.startTime);
    case 'path':
      if (wireguardSocketName(obj.path, deps.env.prefix) !== undefined) return removeWireguardSocket(obj.path);
      if (!inside(obj.path, [deps.env.stateDir, deps.env.runDir])) throw new Error(`refusing to remove ${obj.path}: not inside the agent's stateDir or runDir`);
      await rm(obj.path, { recursive: true, force: true });
      return;
    case 'ovs-bridge':
      return gone(runner.run(['ovs-vsctl', `--db=unix:${obj.db}`, '--timeout=5', '--if-exists', 'del-br', obj.name]));
    case 'ovs-port':
      return gone(runner.run(['ovs-vsctl', `--db=unix:${obj.db}`, '--timeout=5', '--if-exists', 'del-port', obj.bridge, obj.name]));
    case 'ovs-flows':
      if (!COOKIE_RE.test(obj.cookie) || !COOKIE_RE.test(obj.mask) || !obj.mgmt.startsWith('/')) throw new Error(`refusing to remove ${describe(obj)}: not a valid flow record`);
      return gone(runner.run(['ovs-ofctl', '-O', 'OpenFlow14', '--timeout=10', 'del-flows', `unix:${obj.mgmt}`, `cookie=${obj.cookie}/${obj.mask}`]), OVS_FLOWS_GONE);
    case 'xfrm-policy':
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), 'xfrm', 'policy', 'del', ...xfrmSelector(obj)]));
    case 'xfrm-state': {
      const sel = xfrmSelector(obj);
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), 'xfrm', 'state', sel.includes('spi') ? 'del' : 'deleteall', ...sel]));
    }
    case 'ip-rule':
      return gone(runner.run([...ipArgs(nsOf(deps, obj.netns)), ...ipRuleDel(obj)]));
    case 'sysctl': {
      if (!obj.restore) return;
      const ns = nsOf(deps, obj.netns);
      return gone(runner.run(['sysctl', '-q', '-w', `${obj.key}=${obj.previous}`], ns === undefined ? {} : { netns: ns }));
    }
  }
}

type Batchable = Extract<OwnedObject, { type: 'link' } | { type: 'netns' } | { type: 'tc-filter' }>;

function batchKey(deps: UndoDeps, o: OwnedObject): string | undefined {
  if (o.type === 'netns') return 'netns';
  if (o.type === 'link') return `link@${nsOf(deps, o.netns) ?? ''}`;
  if (o.type === 'tc-filter') return `tc-filter@${nsOf(deps, o.netns) ?? ''}`;
  return undefined;
}

function batchArgv(deps: UndoDeps, first: Batchable): string[] {
  if (first.type === 'netns') return ['ip', '-force', '-batch', '-'];
  if (first.type === 'tc-filter') return [...tcArgs(nsOf(deps, first.netns)), '-force', '-batch', '-'];
  return [...ipArgs(nsOf(deps, first.netns)), '-force', '-batch', '-'];
}

function batchLine(o: Batchable): string {
  if (o.type === 'netns') return `netns del ${o.name}`;
  if (o.type === 'tc-filter') return `filter del ${tcFilterDel(o).join(' ')}`;
  return `link del dev ${o.name}`;
}

/** Removes a run of links or tc filters in one namespace, or a run of namespaces, with one `ip -batch` / `tc -batch`. */
async function removeBatch(deps: UndoDeps, objs: readonly Batchable[]): Promise<void> {
  const argv = batchArgv(deps, objs[0]!);
  try {
    const lines = objs.map(batchLine);
    await deps.runner.run(argv, { stdin: lines.join('\n') + '\n', timeoutMs: 120_000 });
  } catch {
    // Some were already gone (or one failed): settle each on its own, idempotently.
    for (const o of objs) await removeObject(deps, o);
  }
}

export interface TeardownResult {
  readonly removed: string[];
  readonly failed: Array<{ object: string; error: string }>;
}

/**
 * Removes a scope's objects in reverse creation order and forgets each one removed. An object
 * that cannot be removed stays in the journal (a later teardown or GC retries it); the others
 * are still removed.
 */
export async function teardownObjects(deps: UndoDeps, journal: ScopeJournal): Promise<TeardownResult> {
  return teardownSome(deps, journal, journal.objects());
}

/** Like teardownObjects, for a subset of the journal's objects (given in creation order). */
export async function teardownSome(deps: UndoDeps, journal: ScopeJournal, subset: readonly OwnedObject[]): Promise<TeardownResult> {
  const namespaces = new Set(subset.flatMap((o) => (o.type === 'netns' ? [o.name] : [])));
  const implied = subset.filter((o): o is Extract<OwnedObject, { type: 'link' }> => o.type === 'link' && o.peerNetns !== undefined && namespaces.has(o.peerNetns));
  const objs = [...subset].filter((o) => !implied.includes(o as Extract<OwnedObject, { type: 'link' }>)).reverse();
  const removed: string[] = [];
  const failed: Array<{ object: string; error: string }> = [];
  try {
    await removeSequence(deps, journal, objs, removed, failed);
  } finally {
    await settleImplied(deps, journal, implied, removed, failed);
  }
  return { removed, failed };
}

/**
 * Veths whose peer namespace was just deleted: the kernel removes them when it cleans the
 * namespace up (asynchronously, many namespaces per RCU grace period). Wait for that, then
 * remove explicitly whatever is still there (a namespace kept alive by a process inside).
 */
async function settleImplied(deps: UndoDeps, journal: ScopeJournal, links: ReadonlyArray<Extract<OwnedObject, { type: 'link' }>>, removed: string[], failed: Array<{ object: string; error: string }>): Promise<void> {
  if (links.length === 0) return;
  const byNs = new Map<string | undefined, Array<Extract<OwnedObject, { type: 'link' }>>>();
  for (const l of links) {
    const ns = nsOf(deps, l.netns);
    byNs.set(ns, [...(byNs.get(ns) ?? []), l]);
  }
  for (const [ns, group] of byNs) {
    let left = group;
    const deadline = Date.now() + (deps.impliedWaitMs ?? 3000);
    for (;;) {
      const present = await presentLinks(deps, ns);
      left = left.filter((l) => present === undefined || present.has(l.name));
      if (left.length === 0 || Date.now() > deadline) break;
      await sleep(30);
    }
    const gone = group.filter((l) => !left.includes(l));
    await journal.forgetAll(gone);
    removed.push(...gone.map(describe));
    if (left.length > 0) await removeSequence(deps, journal, [...left].reverse(), removed, failed);
  }
}

/** Link names of a namespace, or undefined when it cannot be listed (the namespace is gone). */
async function presentLinks(deps: UndoDeps, ns: string | undefined): Promise<Set<string> | undefined> {
  try {
    const r = await deps.runner.run([...ipArgs(ns), '-j', 'link', 'show']);
    return new Set((JSON.parse(r.stdout || '[]') as Array<{ ifname: string }>).map((l) => l.ifname));
  } catch {
    return undefined;
  }
}

async function removeSequence(deps: UndoDeps, journal: ScopeJournal, objs: readonly OwnedObject[], removed: string[], failed: Array<{ object: string; error: string }>): Promise<void> {
  let i = 0;
  while (i < objs.length) {
    const o = objs[i]!;
    const key = batchKey(deps, o);
    let run: OwnedObject[] = [o];
    if (key !== undefined) {
      let j = i + 1;
      while (j < objs.length && batchKey(deps, objs[j]!) === key) j++;
      run = objs.slice(i, j);
    }
    i += run.length;
    if (run.length > 1) {
      // removeBatch settles every object on its own when the batch fails, so this only throws
      // when one of them really could not be removed: retry each to find which.
      const ok = await removeBatch(deps, run as Batchable[]).then(
        () => true,
        () => false,
      );
      if (ok) {
        await journal.forgetAll(run);
        removed.push(...run.map(describe));
        continue;
      }
    }
    for (const x of run) {
      try {
        await removeObject(deps, x);
        await journal.forget(x);
        removed.push(describe(x));
      } catch (e) {
        const error = e instanceof Error ? e.message : String(e);
        failed.push({ object: describe(x), error });
        deps.log?.warn({ object: describe(x), err: error }, 'teardown: object not removed');
      }
    }
  }
}
