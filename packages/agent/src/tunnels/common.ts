// What every tunnel driver shares: validation of the spec fields a driver uses, the choice of
// variant (kernel first, userspace where the kernel lacks the feature, or what the spec forces),
// `ip` invocations in the host namespace, peer routes, the per-scope run directory with 0600
// files, foreground daemons recorded in the journal with their start time, bounded polls, and
// probes that create a real object in a throwaway namespace. Drivers stay a page of
// kind-specific commands on top of this.

import { createHash } from 'node:crypto';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeconetError, cidrContains, pollUntil, invalid, parseCidr, requireCidr, requireIPv4, requirePort } from '@seconet/core';
import type { CapabilityReport, DriftReport, DriverContext, ProbeContext, VariantName } from '../driver.js';
import { hostWaitMs, type HostEnv } from '../host-env.js';
import type { Runner } from '../runner/runner.js';
import { withProbeNetns } from '../netns/probe-netns.js';
import { ipBatch as ipBatchIn, ipIn } from '../netns/ip-batch.js';
import type { OwnedObject } from '../journal/objects.js';
import { processStartTime, removeObject } from '../journal/undo.js';
import { isDeepStrictEqual } from 'node:util';
import { scopeDirName } from '../names.js';
import type { TunnelSpec__Output } from '../gen/seconet/agent/v1/TunnelSpec.js';
import type { TunnelPeer__Output } from '../gen/seconet/agent/v1/TunnelPeer.js';

export const FIELD = 'state.tunnel';

// ---------------------------------------------------------------------------------------------
// Validation

export interface Overlay {
  /** Address without prefix, e.g. 198.18.1.1. */
  readonly address: string;
  readonly prefix: number;
  /** As given, e.g. 198.18.1.1/24. */
  readonly cidr: string;
}

export function requireOverlay(spec: TunnelSpec__Output): Overlay {
  const c = requireCidr(`${FIELD}.overlayAddress`, spec.overlayAddress);
  if (c.prefix === 32 || c.prefix < 8) throw invalid(`${FIELD}.overlayAddress`, `${spec.overlayAddress}: give this host's tunnel address with the overlay's prefix length (e.g. 198.18.1.1/24)`);
  return { address: c.address, prefix: c.prefix, cidr: spec.overlayAddress };
}

/** For kinds with one shared overlay network (vxlan, wireguard, tinc, ipsec): every peer's overlay address lies in it. */
export function requirePeersInOverlay(spec: TunnelSpec__Output, overlay: Overlay): void {
  spec.peers.forEach((p, i) => {
    if (!cidrContains(overlay.cidr, p.overlayAddress) || p.overlayAddress === overlay.address) {
      throw invalid(`${FIELD}.peers[${i}].overlayAddress`, `${p.overlayAddress} must be another address inside this host's overlay network ${overlay.cidr}`);
    }
  });
}

/** Checks the fields every kind uses: local underlay address, peers' names, addresses and routes. */
export function validatePeers(spec: TunnelSpec__Output, needOverlay: boolean): void {
  requireIPv4(`${FIELD}.localAddress`, spec.localAddress);
  const names = new Set<string>();
  spec.peers.forEach((p, i) => {
    const f = `${FIELD}.peers[${i}]`;
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(p.name)) throw invalid(`${f}.name`, `${JSON.stringify(p.name)} is not a host name (lowercase letters, digits, dashes)`);
    if (names.has(p.name)) throw invalid(`${f}.name`, `peer ${p.name} is listed twice`);
    names.add(p.name);
    requireIPv4(`${f}.underlayAddress`, p.underlayAddress);
    if (p.underlayAddress === spec.localAddress) throw invalid(`${f}.underlayAddress`, `${p.underlayAddress} is this host's own address`);
    if (needOverlay) requireIPv4(`${f}.overlayAddress`, p.overlayAddress);
    p.routes.forEach((r, j) => requireCidr(`${f}.routes[${j}]`, r));
  });
}

export function specPort(spec: TunnelSpec__Output, fallback: number): number {
  return spec.port === 0 ? fallback : requirePort(`${FIELD}.port`, spec.port);
}

/** Route destinations normalised to network/prefix (`ip route` rejects host bits). */
export function routeDst(cidr: string): string {
  const c = parseCidr(cidr);
  return `${c.network}/${c.prefix}`;
}

/** Non-empty, printable, no whitespace or quotes: safe inside a config file line. */
export function requireKeyText(field: string, value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw invalid(field, `not a valid ${what} (the controller generates it with generateTunnelSecrets)`);
  return value;
}

export const WG_KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
export const HEX_RE = /^[0-9a-f]{32,1024}$/i;

// ---------------------------------------------------------------------------------------------
// Variants

export function wantedVariant(spec: TunnelSpec__Output): VariantName | undefined {
  if (spec.variant === 'VARIANT_KERNEL') return 'kernel';
  if (spec.variant === 'VARIANT_USERSPACE') return 'userspace';
  return undefined;
}

/** Picks the variant from the probe: the forced one or kernel first. Throws MISSING_TOOL with the probe's reason. */
export function chooseVariant(kind: string, spec: TunnelSpec__Output, reports: readonly CapabilityReport[]): CapabilityReport {
  const want = wantedVariant(spec);
  const candidates = reports.filter((r) => want === undefined || r.variant === want);
  const ok = candidates.find((r) => r.available && r.variant === 'kernel') ?? candidates.find((r) => r.available);
  if (ok) return ok;
  const reasons = candidates.map((r) => `${r.variant}: ${r.reason}`).join('; ');
  throw new SeconetError('MISSING_TOOL', `tunnel ${kind}${want ? ` (${want})` : ''} is not available on this host: ${reasons || 'no such variant'}`, {
    field: want ? `${FIELD}.variant` : `${FIELD}.kind`,
  });
}

// ---------------------------------------------------------------------------------------------
// Commands in the host namespace

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

// ---------------------------------------------------------------------------------------------
// Change detection: a digest of the desired state per driver, kept in the journal notes.

export function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

export function noteKey(kind: string, part: string): string {
  return `tunnel.${kind}.${part}`;
}

/** What a driver applied last: the digest of its desired state and the objects it made for it. */
export interface AppliedNote {
  readonly digest: string;
  readonly objects: readonly OwnedObject[];
}

export function appliedNote(ctx: DriverContext, kind: string): AppliedNote | undefined {
  const n = ctx.journal.note(noteKey(kind, 'applied')) as AppliedNote | undefined;
  return n && typeof n.digest === 'string' && Array.isArray(n.objects) ? n : undefined;
}

/** Removes what the previous apply made and the new one no longer wants (a peer left, a route moved). */
export async function dropStale(ctx: DriverContext, prev: AppliedNote | undefined, next: readonly OwnedObject[]): Promise<void> {
  if (!prev) return;
  const stale = prev.objects.filter((o) => !next.some((n) => isDeepStrictEqual(n, o))).reverse();
  for (const o of stale) {
    await removeObject({ runner: ctx.runner, env: ctx.env, log: ctx.log }, o);
    await ctx.journal.forget(o);
  }
}

// ---------------------------------------------------------------------------------------------
// Run directory, files, daemons

/** The scope's run directory for this driver (created 0700, recorded before creation). */
export async function scopeRunDir(ctx: DriverContext, kind: string): Promise<string> {
  const base = join(ctx.env.runDir, scopeDirName(ctx.env.prefix, ctx.scope));
  const dir = join(base, kind);
  await ctx.journal.record({ type: 'path', path: base });
  await mkdir(base, { recursive: true, mode: 0o700 });
  await ctx.journal.record({ type: 'path', path: dir });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** Writes a file with mode 0600, recorded before it is written. Returns true when the content changed. */
export async function writePrivateFile(ctx: DriverContext, path: string, content: string): Promise<boolean> {
  await ctx.journal.record({ type: 'path', path });
  const old = await readFile(path, 'utf8').catch(() => undefined);
  if (old === content) return false;
  await writeFile(path, content, { mode: 0o600 });
  return true;
}

export interface DaemonNote {
  readonly pid: number;
  readonly startTime: string;
  readonly digest: string;
}

export function daemonAlive(n: DaemonNote | undefined): boolean {
  return n !== undefined && processStartTime(n.pid) === n.startTime;
}


export interface StartDaemonOptions {
  readonly what: string;
  readonly logFile: string;
  readonly env?: Record<string, string>;
  /** Run outside the host namespace (the argv enters it itself, e.g. nsenter). */
  readonly noNetns?: boolean;
  readonly secrets?: readonly string[];
}

/**
 * Starts a foreground daemon, detached, and records it as {type:'process', pid, startTime}.
 * The journal entry is written right after spawn (a PID does not exist before), before the
 * daemon can create anything; the objects it creates are recorded by the caller before it
 * waits for them.
 */
export async function startDaemon(ctx: DriverContext, argv: readonly string[], o: StartDaemonOptions): Promise<DaemonNote & { exited: Promise<unknown>; alive: () => boolean }> {
  await ctx.journal.record({ type: 'path', path: o.logFile });
  const p = ctx.runner.spawn(argv, {
    ...(o.noNetns ? {} : nsOpt(ctx.env)),
    detached: true,
    logFile: o.logFile,
    ...(o.env ? { env: o.env } : {}),
    ...(o.secrets ? { secrets: o.secrets } : {}),
  });
  if (p.pid <= 0) throw new SeconetError('COMMAND_FAILED', `${o.what} did not start (see ${o.logFile})`);
  let startTime: string | undefined;
  await pollUntil(() => (startTime = p.startTime()) !== undefined, hostWaitMs(ctx.env, 1000), 5);
  if (startTime === undefined) {
    const tail = await readFile(o.logFile, 'utf8').catch(() => '');
    throw new SeconetError('COMMAND_FAILED', `${o.what} exited at once: ${tail.trim().split('\n').slice(-3).join(' | ')}`);
  }
  await ctx.journal.record({ type: 'process', pid: p.pid, startTime, what: o.what });
  return { pid: p.pid, startTime, digest: '', exited: p.exited, alive: () => p.alive() };
}

/** Stops a daemon this driver recorded (config changed, peer left) and forgets its journal entry. */
export async function stopDaemon(ctx: DriverContext, n: DaemonNote): Promise<void> {
  if (processStartTime(n.pid) === n.startTime) {
    try {
      process.kill(n.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
    const gone = await pollUntil(() => processStartTime(n.pid) !== n.startTime, hostWaitMs(ctx.env, 3000));
    if (!gone) {
      try {
        process.kill(n.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await pollUntil(() => processStartTime(n.pid) !== n.startTime, hostWaitMs(ctx.env, 1000));
    }
  }
  const entries = ctx.journal.objects().filter((o) => o.type === 'process' && o.pid === n.pid && o.startTime === n.startTime);
  await ctx.journal.forgetAll(entries);
}

export interface DaemonWant {
  /** Journal note key of this daemon (one per daemon: per host, or per peer for openvpn). */
  readonly key: string;
  /** Digest of everything the daemon was started with; a different one restarts it. */
  readonly digest: string;
  readonly argv: readonly string[];
  readonly opts: StartDaemonOptions;
  /** The device the daemon creates (recorded before the daemon starts, waited for after). */
  readonly device?: string;
}

/**
 * Keeps one daemon running with the wanted configuration: reused while alive with the same
 * digest, else the old one is stopped and a new one started (and its device awaited).
 * Returns whether it (re)started.
 */
export async function ensureDaemon(ctx: DriverContext, w: DaemonWant): Promise<boolean> {
  const prev = ctx.journal.note(w.key) as DaemonNote | undefined;
  if (prev && prev.digest === w.digest && daemonAlive(prev) && (w.device === undefined || (await readLink(ctx, w.device)) !== undefined)) return false;
  if (prev) await stopDaemon(ctx, prev);
  if (w.device !== undefined) {
    await ctx.journal.record({ type: 'link', name: w.device, netns: ctx.env.hostNetns });
    if (await readLink(ctx, w.device)) await ctx.runner.run([...ipArgv(ctx.env), 'link', 'del', 'dev', w.device]).catch(() => undefined);
  }
  const d = await startDaemon(ctx, w.argv, w.opts);
  await ctx.journal.setNote(w.key, { pid: d.pid, startTime: d.startTime, digest: w.digest } satisfies DaemonNote);
  if (w.device !== undefined) await waitForLink(ctx, w.device, w.opts.what, w.opts.logFile);
  return true;
}

export async function logTail(path: string, lines = 5): Promise<string> {
  const t = await readFile(path, 'utf8').catch(() => '');
  return t.trim().split('\n').slice(-lines).join(' | ');
}

/** Waits for a device a daemon creates; throws naming the daemon's log on timeout. */
export async function waitForLink(ctx: DriverContext, name: string, what: string, logFile: string, waitMs = 10_000): Promise<void> {
  const timeoutMs = hostWaitMs(ctx.env, waitMs);
  const ok = await pollUntil(async () => (await readLink(ctx, name)) !== undefined, timeoutMs, 25);
  if (!ok) throw new SeconetError('COMMAND_FAILED', `${what} did not create ${name} within ${timeoutMs} ms: ${await logTail(logFile)}`);
}

// ---------------------------------------------------------------------------------------------
// Drift

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

export function daemonDrift(n: DaemonNote | undefined, what: string): DriftReport[] {
  if (n === undefined) return [{ object: what, expected: 'running', observed: 'never started' }];
  return daemonAlive(n) ? [] : [{ object: `${what} (pid ${n.pid})`, expected: 'running', observed: 'not running' }];
}

// ---------------------------------------------------------------------------------------------
// Probes

const probeCache = new Map<string, Promise<CapabilityReport[]>>();

/** Probes once per process and kind; later calls get the same answer. */
export function cachedProbe(kind: string, fn: () => Promise<CapabilityReport[]>): Promise<CapabilityReport[]> {
  let p = probeCache.get(kind);
  if (!p) {
    p = fn();
    probeCache.set(kind, p);
    p.catch(() => probeCache.delete(kind));
  }
  return p;
}

/** For tests: forget cached probe results. */
export function resetProbeCache(): void {
  probeCache.clear();
}

export function report(kind: string, variant: VariantName, available: boolean, version: string, reason: string): CapabilityReport {
  return { category: 'tunnel', kind, variant, available, version, reason: available ? '' : reason };
}

/** The kernel release (`uname -r`), or `unknown (<why>)` when it could not be read. */
export async function kernelRelease(ctx: ProbeContext): Promise<string> {
  try {
    return (await ctx.runner.run(['uname', '-r'], { timeoutMs: 10_000 })).stdout.trim();
  } catch (e) {
    return `unknown (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Why a probe command failed: its kind (NotSupported = the kernel refused the feature) and its last line of stderr. */
export interface ProbeFailure {
  readonly kind: string;
  readonly message: string;
}

export function probeFailure(e: unknown): ProbeFailure {
  const err = e as { kind?: string; stderr?: string; message?: string };
  const text = (err.stderr || err.message || String(e)).trim().split('\n').slice(-1)[0] || 'failed';
  return { kind: err.kind ?? 'Failed', message: text };
}

/**
 * Creates `ip link add <name> type <type> ...` in a throwaway namespace and deletes it.
 * Returns undefined on success, or why it failed.
 */
export async function probeLinkType(ctx: ProbeContext, type: string, extra: readonly string[]): Promise<ProbeFailure | undefined> {
  return withProbeNetns(ctx, async (ns) => {
    const name = `${ctx.env.prefix}probe`;
    try {
      await ctx.runner.run(['ip', '-n', ns, 'link', 'add', name, 'type', type, ...extra]);
      await ctx.runner.run(['ip', '-n', ns, 'link', 'del', name]);
      return undefined;
    } catch (e) {
      return probeFailure(e);
    }
  });
}

/** Creates and deletes a TUN device in a throwaway namespace: userspace daemons need /dev/net/tun. Undefined on success, else why not. */
export async function probeTun(ctx: ProbeContext): Promise<string | undefined> {
  return withProbeNetns(ctx, async (ns) => {
    const name = `${ctx.env.prefix}probe`;
    try {
      await ctx.runner.run(['ip', '-n', ns, 'tuntap', 'add', 'dev', name, 'mode', 'tun']);
      await ctx.runner.run(['ip', '-n', ns, 'link', 'del', name]);
      return undefined;
    } catch (e) {
      return probeFailure(e).message;
    }
  });
}

/**
 * Probe result for a kernel link type: available, or the reason with what to do. "Kernel
 * lacks" only when the kernel refused the type; any other failure (a timeout, a refused
 * command) is reported as what it was.
 */
export async function kernelLinkReport(ctx: ProbeContext, kind: string, type: string, config: string, extra: readonly string[], remedy = 'use a full kernel or the userspace variant'): Promise<CapabilityReport> {
  const release = await kernelRelease(ctx);
  const err = await probeLinkType(ctx, type, extra);
  if (err === undefined) return report(kind, 'kernel', true, release, '');
  if (err.kind === 'NotSupported') return report(kind, 'kernel', false, release, `kernel lacks ${config} (ip link add type ${type}: ${err.message}); ${remedy}`);
  return report(kind, 'kernel', false, release, `the probe for ${config} failed (${err.kind}) without an answer from the kernel: ip link add type ${type}: ${err.message}`);
}

