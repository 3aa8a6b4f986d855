// The BPF filter: bpf/filter.c as a tc clsact ingress program (prio 1) on every container's
// host-side veth, with its maps pinned under the agent's bpffs in the scope's directory. The
// program and maps are loaded once per scope with `bpftool prog load ... pinmaps` and attached
// by pin with one `tc -batch`; rule sets are written with one `bpftool batch` per change:
// the new generation's guarded networks and pairs, the flip of config[0] to that generation
// (atomic for every device), then deletion of the previous generation's entries.
//
// Finding users ask about, stated honestly: the allowed pairs live in a hash map, so the
// per-packet cost does not grow with the number of extra rules; `extraRules` only adds decoy
// entries (map size and load time), unlike the linear chains of iptables and nftables.
// Port-range rules (rule match "port") go to an LPM trie instead, one aligned range per prefix
// of (generation, source, destination, protocol, destination port); a generation that has any
// sets GEN_PORTS in config[0], and only then does the program look a TCP or UDP packet up
// there before the pair map (bpf/filter.c). A trie lookup walks the key's bits, so its cost
// depends on the prefixes stored, not linearly on their number.
//
// The journal holds the pins (program, maps, their directory), the clsact qdiscs this driver
// added and each device's prio-1 tc filter: on the bpf network the qdisc is the network's, so
// the filter must go on its own when only the filter changes (unpinning does not detach a
// program tc still holds). The generation and digest of the loaded rule set are a journal note,
// so an unchanged ensure costs three read-only calls.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, rmdir } from 'node:fs/promises';
import { endianness } from 'node:os';
import { fileURLToPath } from 'node:url';
import { SeconetError, ipToInt, objectName, parseCidr } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, EnsureResult, FilterDriver, NetworkView, ProbeContext } from '../driver.js';
import type { FilterSpec__Output } from '../gen/seconet/agent/v1/FilterSpec.js';
import type { OwnedObject } from '../journal/objects.js';
import { scopeDirName } from '../names.js';
import { kernelDatapath } from '../ovs/switch.js';
import type { Runner } from '../runner/runner.js';
import { ensureBpffs } from '../solutions/bpffs.js';
import { errorText, toolVersion } from './probe-netns.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import { buildRuleSet, requireVisibleTraffic, type RuleSet } from './rule-set.js';

/** config[0]'s flag: the active generation has port-range rules (bpf/filter.c GEN_PORTS). */
export const GEN_PORTS = 0x80000000;
const PROTO_NUMBER: Readonly<Record<string, number>> = { tcp: 6, udp: 17 };

/** The compiled program (`npm run bpf`), next to the sources in the package's bpf/ folder. */
export const FILTER_OBJECT = fileURLToPath(new URL('../../bpf/filter.o', import.meta.url));
const NOTE = 'filter.bpf';
const IFACE_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export interface BpfPins {
  readonly dir: string;
  readonly prog: string;
  readonly allow: string;
  readonly guarded: string;
  readonly config: string;
  readonly ports: string;
}

export function bpfPins(bpffs: string, prefix: string, scope: string): BpfPins {
  const dir = `${bpffs}/${scopeDirName(prefix, scope)}/${objectName(prefix, 'f', [scope, 'bpf'])}`;
  return { dir, prog: `${dir}/prog`, allow: `${dir}/allow`, guarded: `${dir}/guarded`, config: `${dir}/config`, ports: `${dir}/ports` };
}

function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** A host-order u32 as the kernel stores it (little-endian hosts only; checked in ensure). */
function u32host(n: number): number[] {
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255];
}

/** An IPv4 address in network byte order. */
function ipBytes(ip: string): number[] {
  const n = ipToInt(ip);
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

export function pairKey(gen: number, src: string, dst: string): number[] {
  return [...u32host(gen), ...ipBytes(src), ...ipBytes(dst)];
}

export function guardKey(gen: number, cidr: string): number[] {
  const c = parseCidr(cidr);
  return [...u32host(32 + c.prefix), ...u32host(gen), ...ipBytes(c.network)];
}

/** A port-range rule's LPM key: the range [lo, lo + width) is aligned to its power-of-two width. */
export function portKey(gen: number, src: string, dst: string, proto: string, lo: number, hi: number): number[] {
  const width = hi - lo + 1;
  const bits = Math.log2(width);
  const p = PROTO_NUMBER[proto];
  if (p === undefined || !Number.isInteger(bits) || lo % width !== 0) throw new SeconetError('INTERNAL', `port-range rule ${proto} ${lo}-${hi} is not an aligned power-of-two range`);
  return [...u32host(96 + 16 + 16 - bits), ...u32host(gen), ...ipBytes(src), ...ipBytes(dst), p, 0, (lo >>> 8) & 255, lo & 255];
}

export interface StaleKeys {
  readonly allow: number[][];
  readonly guarded: number[][];
  readonly ports: number[][];
}

/** `bpftool batch` lines that load generation `gen` of `rs`, activate it, then delete `stale` keys. */
export function renderBatch(pins: BpfPins, rs: RuleSet, gen: number, stale: StaleKeys = { allow: [], guarded: [], ports: [] }): string {
  const lines: string[] = [];
  for (const g of rs.guarded) lines.push(`map update pinned ${pins.guarded} key hex ${hex(guardKey(gen, g))} value hex 01`);
  let portRules = 0;
  for (const d of rs.decoys) {
    if (d.ports !== undefined && d.proto !== undefined) {
      lines.push(`map update pinned ${pins.ports} key hex ${hex(portKey(gen, d.src, d.dst, d.proto, d.ports.lo, d.ports.hi))} value hex 01`);
      portRules++;
    } else {
      lines.push(`map update pinned ${pins.allow} key hex ${hex(pairKey(gen, d.src, d.dst))} value hex 01`);
    }
  }
  for (const a of rs.allow) lines.push(`map update pinned ${pins.allow} key hex ${hex(pairKey(gen, a.src, a.dst))} value hex 01`);
  lines.push(`map update pinned ${pins.config} key hex 00 00 00 00 value hex ${hex(u32host((gen | (portRules > 0 ? GEN_PORTS : 0)) >>> 0))}`);
  for (const k of stale.allow) lines.push(`map delete pinned ${pins.allow} key hex ${hex(k)}`);
  for (const k of stale.guarded) lines.push(`map delete pinned ${pins.guarded} key hex ${hex(k)}`);
  for (const k of stale.ports) lines.push(`map delete pinned ${pins.ports} key hex ${hex(k)}`);
  return lines.join('\n') + '\n';
}

/** Key bytes from a `bpftool -j map dump` entry: raw hex bytes, or a BTF-formatted struct (port_key's u8/u16 fields by name, the rest u32). */
export function dumpKeyBytes(key: unknown): number[] {
  if (Array.isArray(key)) return key.map((b) => Number.parseInt(String(b), 16));
  if (key !== null && typeof key === 'object') {
    return Object.entries(key as Record<string, unknown>).flatMap(([name, v]) => {
      const n = Number(v);
      if (name === 'proto' || name === 'pad') return [n & 255];
      if (name === 'dport') return [n & 255, (n >>> 8) & 255];
      return u32host(n);
    });
  }
  throw new Error(`unexpected map key ${JSON.stringify(key)}`);
}

async function dumpKeys(runner: Runner, pin: string): Promise<number[][]> {
  const r = await runner.run(['bpftool', '-j', 'map', 'dump', 'pinned', pin], { timeoutMs: 60_000 });
  const rows = JSON.parse(r.stdout || '[]') as Array<{ key: unknown }>;
  return rows.map((row) => dumpKeyBytes(row.key));
}

async function activeGen(runner: Runner, pins: BpfPins): Promise<number> {
  const r = await runner.run(['bpftool', '-j', 'map', 'lookup', 'pinned', pins.config, 'key', 'hex', '00', '00', '00', '00']);
  const v = (JSON.parse(r.stdout) as { value: unknown }).value;
  const b = dumpKeyBytes(v);
  // Without the GEN_PORTS flag: the generation number itself.
  return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) & ~GEN_PORTS;
}

async function progId(runner: Runner, pin: string): Promise<number> {
  const r = await runner.run(['bpftool', '-j', 'prog', 'show', 'pinned', pin]);
  return (JSON.parse(r.stdout) as { id: number }).id;
}

/** Devices in `netns` whose tc ingress runs program `id`, from one `bpftool net show`. */
async function attachedDevices(runner: Runner, netns: string | undefined, id: number): Promise<Set<string>> {
  const r = await runner.run(['bpftool', '-j', 'net', 'show'], { netns });
  const parsed = JSON.parse(r.stdout || '[]') as Array<{ tc?: Array<{ devname: string; kind: string; id: number }> }>;
  const out = new Set<string>();
  for (const block of parsed) for (const e of block.tc ?? []) if (e.id === id && e.kind === 'clsact/ingress') out.add(e.devname);
  return out;
}

/** Devices in `netns` that have a clsact qdisc, from one `tc -j qdisc show`. */
async function clsactDevices(runner: Runner, netns: string | undefined): Promise<Set<string>> {
  const r = await runner.run(['tc', '-j', 'qdisc', 'show'], { netns });
  const rows = JSON.parse(r.stdout || '[]') as Array<{ kind: string; dev: string }>;
  return new Set(rows.filter((q) => q.kind === 'clsact').map((q) => q.dev));
}

export const FILTER_PRIO = 1;
export const FILTER_HANDLE = 1;

/** `tc -batch` lines attaching the pinned program to each device's ingress at FILTER_PRIO. */
export function renderAttach(prog: string, devs: readonly string[]): string {
  return devs.flatMap((d) => [`qdisc replace dev ${d} clsact`, `filter replace dev ${d} ingress prio ${FILTER_PRIO} handle ${FILTER_HANDLE} bpf da object-pinned ${prog}`]).join('\n') + '\n';
}

/** The journal record of the filter's tc filter on `dev`. */
export function tcFilterObject(dev: string, netns: string | undefined): Extract<OwnedObject, { type: 'tc-filter' }> {
  return { type: 'tc-filter', dev, netns, direction: 'ingress', prio: FILTER_PRIO, handle: FILTER_HANDLE };
}

function missingObject(): SeconetError {
  return new SeconetError('MISSING_TOOL', `state.filter.kind: the BPF filter program ${FILTER_OBJECT} is not built: run \`npm run bpf\` (clang, libbpf-dev)`, { field: 'state.filter.kind' });
}

export class BpfFilter implements FilterDriver {
  readonly kind = 'bpf';

  async probe(ctx: ProbeContext): Promise<CapabilityReport[]> {
    const version = await toolVersion(ctx, ['bpftool', 'version']);
    const base = { category: 'filter', kind: this.kind, variant: 'kernel', version } as const;
    if (version === '') return [{ ...base, available: false, reason: 'bpftool is not installed: apt-get install bpftool' }];
    if (!existsSync(FILTER_OBJECT)) return [{ ...base, available: false, reason: missingObject().message }];
    // A pin directory of its own per call: GetInfo and a per-kind cache can probe at the same
    // time, and one call's cleanup removed the other's program before it was attached.
    const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, `probe-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await ensureBpffs(ctx.runner, ctx.env);
      await mkdir(pins.dir, { recursive: true });
      await ctx.runner.run(['bpftool', 'prog', 'load', FILTER_OBJECT, pins.prog, 'type', 'classifier', 'pinmaps', pins.dir]);
      await withProbeNetns(ctx, async (netns) => {
        await ctx.runner.run(['ip', 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1'], { netns });
        await ctx.runner.run(['tc', '-batch', '-'], { netns, stdin: renderAttach(pins.prog, ['p0']) });
      });
      return [{ ...base, available: true, reason: '' }];
    } catch (e) {
      return [{ ...base, available: false, reason: `loading and attaching the filter program failed: ${errorText(e)}` }];
    } finally {
      await rm(pins.dir, { recursive: true, force: true });
      await rmdir(pins.dir.slice(0, pins.dir.lastIndexOf('/'))).catch(() => undefined);
    }
  }

  async ensure(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<EnsureResult> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    if (endianness() !== 'LE') throw new SeconetError('UNSUPPORTED', 'state.filter.kind: the BPF filter supports little-endian hosts only', { field: 'state.filter.kind' });
    if (!existsSync(FILTER_OBJECT)) throw missingObject();
    const devs = view.containers.map((c) => c.hostIface);
    for (const d of devs) if (!IFACE_RE.test(d)) throw new SeconetError('INTERNAL', `bad host interface name ${JSON.stringify(d)}`);
    const version = await toolVersion(ctx, ['bpftool', 'version']);
    const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, ctx.scope);
    let changed = false;

    await ensureBpffs(ctx.runner, ctx.env);
    if (!existsSync(pins.prog)) {
      // The scope directory is ours only when we make it (the bpf network may own it already).
      const scopeDir = pins.dir.slice(0, pins.dir.lastIndexOf('/'));
      await ctx.journal.recordAll([
        ...(existsSync(scopeDir) ? [] : [{ type: 'bpf-pin', path: scopeDir } as const]),
        { type: 'bpf-pin', path: pins.dir },
      ]);
      await ctx.journal.setNote(NOTE, undefined);
      await mkdir(pins.dir, { recursive: true, mode: 0o700 });
      await ctx.runner.run(['bpftool', 'prog', 'load', FILTER_OBJECT, pins.prog, 'type', 'classifier', 'pinmaps', pins.dir]);
      changed = true;
    }

    const note = ctx.journal.note(NOTE) as { gen: number; digest: string } | undefined;
    const gen = await activeGen(ctx.runner, pins);
    if (note === undefined || note.digest !== rs.digest || note.gen !== gen || gen === 0) {
      const next = gen + 1;
      const stale = {
        allow: (await dumpKeys(ctx.runner, pins.allow)).filter((k) => !sameGen(k, next)),
        guarded: (await dumpKeys(ctx.runner, pins.guarded)).filter((k) => !sameGen(k.slice(4), next)),
        ports: existsSync(pins.ports) ? (await dumpKeys(ctx.runner, pins.ports)).filter((k) => !sameGen(k.slice(4), next)) : [],
      };
      if (!existsSync(pins.ports) && rs.decoys.some((d) => d.ports !== undefined)) {
        throw new SeconetError('UNSUPPORTED', `state.filter.ruleMatch: the scope's BPF filter was loaded by an older program without the port-range map (${pins.ports}); tear the scope down and apply it again`, { field: 'state.filter.ruleMatch' });
      }
      await ctx.journal.setNote(NOTE, undefined);
      await ctx.runner.run(['bpftool', 'batch', 'file', '-'], { stdin: renderBatch(pins, rs, next, stale), timeoutMs: 120_000 });
      await ctx.journal.setNote(NOTE, { gen: next, digest: rs.digest });
      changed = true;
    }

    const id = await progId(ctx.runner, pins.prog);
    const attached = await attachedDevices(ctx.runner, ctx.env.hostNetns, id);
    const missing = devs.filter((d) => !attached.has(d));
    const filters = devs.map((d) => tcFilterObject(d, ctx.env.hostNetns));
    if (missing.length > 0) {
      // A clsact qdisc is ours only when we add it: the bpf network's redirect shares the one it made.
      const withClsact = await clsactDevices(ctx.runner, ctx.env.hostNetns);
      await ctx.journal.recordAll([...missing.filter((d) => !withClsact.has(d)).map((d) => ({ type: 'tc-clsact', dev: d, netns: ctx.env.hostNetns }) as const), ...filters]);
      await ctx.runner.run(['tc', '-batch', '-'], { netns: ctx.env.hostNetns, stdin: renderAttach(pins.prog, missing) });
      changed = true;
    } else {
      // Adopts filters attached by an agent that did not journal them; no journal write when they are recorded.
      await ctx.journal.recordAll(filters);
    }
    return { changed, variant: 'kernel', version };
  }

  async check(ctx: DriverContext, spec: FilterSpec__Output, view: NetworkView): Promise<DriftReport[]> {
    const rs = buildRuleSet(spec);
    requireVisibleTraffic(this.kind, view, rs, !kernelDatapath());
    const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, ctx.scope);
    if (!existsSync(pins.prog)) return [{ object: `bpf pin ${pins.prog}`, expected: 'present', observed: 'missing' }];
    const drifts: DriftReport[] = [];
    const note = ctx.journal.note(NOTE) as { gen: number; digest: string } | undefined;
    const gen = await activeGen(ctx.runner, pins);
    if (note === undefined || note.digest !== rs.digest || note.gen !== gen) {
      drifts.push({ object: `bpf map ${pins.allow}`, expected: `generation ${note?.gen ?? '?'} digest ${rs.digest.slice(0, 16)}`, observed: `generation ${gen} digest ${note?.digest.slice(0, 16) ?? 'unknown'}` });
    } else {
      const keys = await dumpKeys(ctx.runner, pins.allow);
      const portRules = rs.decoys.filter((d) => d.ports !== undefined).length;
      const want = rs.decoys.length - portRules + rs.allow.length;
      if (keys.length !== want) drifts.push({ object: `bpf map ${pins.allow}`, expected: `${want} entries`, observed: `${keys.length} entries` });
      const ports = existsSync(pins.ports) ? (await dumpKeys(ctx.runner, pins.ports)).length : 0;
      if (ports !== portRules) drifts.push({ object: `bpf map ${pins.ports}`, expected: `${portRules} entries`, observed: `${ports} entries` });
    }
    const attached = await attachedDevices(ctx.runner, ctx.env.hostNetns, await progId(ctx.runner, pins.prog));
    for (const c of view.containers) if (!attached.has(c.hostIface)) drifts.push({ object: `tc ingress ${c.hostIface}`, expected: 'filter attached', observed: 'missing' });
    return drifts;
  }
}

function sameGen(keyFromGen: readonly number[], gen: number): boolean {
  const g = u32host(gen);
  return keyFromGen[0] === g[0] && keyFromGen[1] === g[1] && keyFromGen[2] === g[2] && keyFromGen[3] === g[3];
}
