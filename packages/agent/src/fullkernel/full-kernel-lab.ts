// The full-kernel lab: N small QEMU guests booting the machine's stock distribution kernel
// (software emulation; KVM is not assumed), each with the machine's root read-only over
// virtio-9p under a tmpfs overlay, so every tool and the repository itself are there without
// building an image. The guests share one L2 segment, a QEMU multicast socket netdev bound to
// the loopback of a network namespace this module creates (`snfk<id>`), so no traffic and no
// multicast membership ever touches the machine's root namespace; guest i is 198.18.0.i/24 on
// its eth0. Each guest gets a job share (a temp directory mounted at the same path inside it)
// through which GuestRunner runs commands. Guests are stopped by the PID the runner spawned,
// and the namespace and temp directory are removed on destroy and on any boot failure. A lab
// whose creating process died (a crashed test) is found by its directory (owner and QEMU PIDs
// with their /proc start times) and removed by the next boot.
// Emulated guests are for functional checks only: their timings say nothing about speed.

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeconetError, pollUntil, sleep } from '@seconet/core';
import type { RunLogger, Runner, Spawned } from '../runner/runner.js';
import { ExecRunner } from '../runner/runner.js';
import { findTool } from '../runner/tools.js';
import { processStartTime } from '../journal/undo.js';
import { GuestRunner } from './guest-runner.js';
import { guestScript } from './guest-script.js';
import { ROOT_TAG, SHARE_TAG, buildInitramfs, findGuestKernel, type GuestKernel } from './initramfs.js';

export const FULLKERNEL_NETNS_PREFIX = 'snfk';

/** Modules every guest loads after boot: the underlay NIC and the kernel-only building blocks. */
export const DEFAULT_GUEST_MODULES = [
  'virtio_net', 'dummy', 'ipip', 'ip_gre', 'geneve', 'wireguard', 'esp4', 'xfrm_interface', 'xfrm_user', 'openvswitch', 'vport-vxlan', 'vport-gre', 'tun',
] as const;

export interface FullKernelLabOptions {
  /** Number of guests (default 2, at most 8). */
  readonly guests?: number;
  /** Guest memory (default 256 MiB). */
  readonly memoryMiB?: number;
  /** QEMU's translation-block cache (default 128 MiB; QEMU's own default is far larger). */
  readonly tbSizeMiB?: number;
  /** Modules loaded in each guest after boot (default DEFAULT_GUEST_MODULES). */
  readonly modules?: readonly string[];
  /** Kernel release under /boot and /lib/modules (default: the newest with 9p). */
  readonly kernelRelease?: string;
  /** How long all guests may take to boot (default 120 s). */
  readonly bootTimeoutMs?: number;
  /** Runner on the machine (namespace, QEMU); default an ExecRunner. */
  readonly runner?: Runner;
  readonly log?: RunLogger;
}

export interface FullKernelGuest {
  readonly index: number;
  readonly name: string;
  /** Underlay address on the guest's eth0 (no prefix). */
  readonly address: string;
  /** Job share: same path on the machine and in the guest; driver run directories go below it. */
  readonly share: string;
  readonly consoleLog: string;
  /** QEMU's PID on the machine. */
  readonly pid: number;
  /** The guest's kernel release, as it reported it. */
  readonly release: string;
  readonly runner: GuestRunner;
}

export interface FullKernelLab {
  readonly id: string;
  readonly netns: string;
  readonly dir: string;
  readonly kernel: GuestKernel;
  readonly guests: readonly FullKernelGuest[];
  /** Seconds from the first QEMU start until every guest answered. */
  readonly bootSeconds: number;
  /**
   * How much slower than an unloaded emulated guest these guests are (>= 1): bootSeconds over
   * REFERENCE_BOOT_SECONDS. Every guest runner scales its deadlines by it; tests scale theirs.
   */
  readonly timeScale: number;
  /** Stops every guest by PID, removes the namespace and the temp directory. Idempotent. */
  destroy(): Promise<void>;
}

/** Why the lab cannot run here (not root, QEMU, busybox or a 9p-capable kernel missing), or undefined. */
export function fullKernelLabMissing(kernelRelease?: string): string | undefined {
  if (process.getuid?.() !== 0) return 'the full-kernel lab needs root (network namespaces, QEMU in them)';
  if (findTool('qemu-system-x86_64') === null) return 'qemu-system-x86_64 is not installed: apt-get install qemu-system-x86';
  if (!existsSync('/bin/busybox')) return '/bin/busybox is missing: apt-get install busybox-static';
  try {
    findGuestKernel(kernelRelease);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}


/** Boot time (first QEMU start until every guest answered) of two guests on an unloaded machine, in seconds. */
export const REFERENCE_BOOT_SECONDS = 12;

/** The factor guest deadlines are multiplied by: measured boot over the reference, at least 1, at most 20. */
export function timeScaleFor(bootSeconds: number, reference = REFERENCE_BOOT_SECONDS): number {
  if (!Number.isFinite(bootSeconds) || bootSeconds <= 0) return 1;
  return Math.min(20, Math.max(1, Math.round((bootSeconds / reference) * 10) / 10));
}

interface PidRecord {
  readonly pid: number;
  readonly startTime: string;
}

async function readPidRecord(path: string): Promise<PidRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(path, 'utf8')) as PidRecord;
    return Number.isInteger(r.pid) && typeof r.startTime === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

async function recordPid(path: string, pid: number): Promise<void> {
  let startTime: string | undefined;
  await pollUntil(() => (startTime = processStartTime(pid)) !== undefined, 1000, 10);
  if (startTime !== undefined) await writeFile(path, JSON.stringify({ pid, startTime }), { mode: 0o600 });
}

const LAB_DIR_RE = new RegExp(`^(${FULLKERNEL_NETNS_PREFIX}[0-9a-f]{6})-`);

/**
 * Removes labs left by a process that died: their QEMUs (by recorded PID, only while the start
 * time still matches), namespaces and directories; also lab namespaces without a directory.
 * Labs whose owner still runs are left alone. Returns the namespaces removed.
 */
export async function removeStaleFullKernelLabs(runner: Runner = new ExecRunner()): Promise<string[]> {
  const removed: string[] = [];
  // Namespaces are listed before the directories are scanned: a lab created in between has a
  // young directory (kept) and a namespace this list does not name, so a parallel boot is safe.
  const list = await runner.run(['ip', 'netns', 'list']);
  const live = new Set<string>();
  for (const d of await readdir(tmpdir()).catch(() => [] as string[])) {
    const m = LAB_DIR_RE.exec(d);
    if (!m) continue;
    const dir = join(tmpdir(), d);
    const owner = await readPidRecord(join(dir, 'owner.json'));
    // A directory without an owner record may be a lab being created this instant.
    const young = owner === undefined && Date.now() - (await stat(dir).then((x) => x.mtimeMs, () => 0)) < 60_000;
    if (young || (owner && processStartTime(owner.pid) === owner.startTime)) {
      live.add(m[1]!);
      continue;
    }
    for (const f of (await readdir(dir).catch(() => [] as string[])).filter((x) => /^qemu-g\d+\.json$/.test(x))) {
      const q = await readPidRecord(join(dir, f));
      if (!q || processStartTime(q.pid) !== q.startTime) continue;
      try {
        process.kill(q.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await runner.run(['ip', 'netns', 'del', m[1]!]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    removed.push(m[1]!);
  }
  for (const ns of list.stdout.split('\n').map((l) => l.split(' ')[0] ?? '')) {
    if (!new RegExp(`^${FULLKERNEL_NETNS_PREFIX}[0-9a-f]{6}$`).test(ns) || live.has(ns) || removed.includes(ns)) continue;
    await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    removed.push(ns);
  }
  return removed;
}

async function tail(path: string, lines = 12): Promise<string> {
  return (await readFile(path, 'utf8').catch(() => '')).trim().split('\n').slice(-lines).join('\n');
}

export function qemuArgv(o: { kernel: GuestKernel; initrd: string; share: string; consoleLog: string; pidFile: string; memoryMiB: number; tbSizeMiB: number; mcast: string; mac: string }): string[] {
  return [
    'qemu-system-x86_64',
    '-accel', `tcg,tb-size=${o.tbSizeMiB}`,
    '-m', String(o.memoryMiB),
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-kernel', o.kernel.vmlinuz,
    '-initrd', o.initrd,
    // no_timer_check: under TCG the timer interrupt can arrive late; the kernel's check would
    // then fall back to a slow timer path (or panic) on a loaded machine.
    '-append', `console=ttyS0 panic=-1 loglevel=4 no_timer_check snshare=${o.share}`,
    '-chardev', `file,id=con,path=${o.consoleLog}`, '-serial', 'chardev:con',
    '-fsdev', 'local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap', '-device', `virtio-9p-pci,fsdev=rootfs,mount_tag=${ROOT_TAG}`,
    '-fsdev', `local,id=share,path=${o.share},security_model=none,multidevs=remap`, '-device', `virtio-9p-pci,fsdev=share,mount_tag=${SHARE_TAG}`,
    '-netdev', `socket,id=u0,mcast=${o.mcast},localaddr=127.0.0.1`, '-device', `virtio-net-pci,netdev=u0,mac=${o.mac}`,
    '-pidfile', o.pidFile,
  ];
}

/** Boots the guests and waits until each answers a command; on any failure removes everything and throws. */
export async function bootFullKernelLab(opts: FullKernelLabOptions = {}): Promise<FullKernelLab> {
  const n = opts.guests ?? 2;
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new SeconetError('INVALID_ARGUMENT', `guests: ${n}; use 1-8`, { field: 'guests' });
  const memoryMiB = opts.memoryMiB ?? 256;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 128 || memoryMiB > 2048) throw new SeconetError('INVALID_ARGUMENT', `memoryMiB: ${memoryMiB}; use 128-2048`, { field: 'memoryMiB' });
  const tbSizeMiB = opts.tbSizeMiB ?? 128;
  if (!Number.isInteger(tbSizeMiB) || tbSizeMiB < 16 || tbSizeMiB > 1024) throw new SeconetError('INVALID_ARGUMENT', `tbSizeMiB: ${tbSizeMiB}; use 16-1024`, { field: 'tbSizeMiB' });
  const missing = fullKernelLabMissing(opts.kernelRelease);
  if (missing) throw new SeconetError('MISSING_TOOL', missing, { field: 'kernel' });
  const kernel = findGuestKernel(opts.kernelRelease);
  const runner = opts.runner ?? new ExecRunner(opts.log);
  await removeStaleFullKernelLabs(runner);
  const id = randomBytes(3).toString('hex');
  const netns = `${FULLKERNEL_NETNS_PREFIX}${id}`;
  const dir = await mkdtemp(join(tmpdir(), `${netns}-`));
  await recordPid(join(dir, 'owner.json'), process.pid);
  const procs: Spawned[] = [];
  let nsMade = false;
  let destroyed = false;

  const destroy = async (): Promise<void> => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all(procs.map((p) => p.stop(3000).catch(() => undefined)));
    if (nsMade) await runner.run(['ip', 'netns', 'del', netns]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const initrd = join(dir, 'initramfs.cpio');
    await writeFile(initrd, buildInitramfs(kernel), { mode: 0o600 });
    await runner.run(['ip', 'netns', 'add', netns]);
    nsMade = true;
    await runner.run(['ip', '-n', netns, '-batch', '-'], { stdin: 'link set lo multicast on\nlink set lo up\nroute add 224.0.0.0/4 dev lo\n' });
    const port = 20000 + (randomBytes(2).readUInt16BE() % 20000);
    const mcast = `230.0.0.1:${port}`;
    const modules = opts.modules ?? DEFAULT_GUEST_MODULES;
    const started = performance.now();
    const pending = Array.from({ length: n }, (_, k) => k + 1).map(async (i) => {
      const name = `g${i}`;
      const share = join(dir, name);
      await mkdir(share, { mode: 0o700 });
      await writeFile(join(share, 'guest.sh'), guestScript({ share, hostname: `${netns}-${name}`, address: `198.18.0.${i}/24`, modules, pollSeconds: 0.1 }), { mode: 0o700 });
      const consoleLog = join(dir, `console-${name}.log`);
      const argv = qemuArgv({ kernel, initrd, share, consoleLog, pidFile: join(dir, `qemu-${name}.pid`), memoryMiB, tbSizeMiB, mcast, mac: `52:54:00:fc:${id.slice(0, 2)}:${i.toString(16).padStart(2, '0')}` });
      const p = runner.spawn(argv, { netns, logFile: join(dir, `qemu-${name}.log`) });
      procs.push(p);
      await recordPid(join(dir, `qemu-${name}.json`), p.pid);
      return { i, name, share, consoleLog, p };
    });
    const spawned = await Promise.all(pending);
    const timeoutMs = opts.bootTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    const ready: Array<{ s: (typeof spawned)[number]; release: string }> = [];
    for (const s of spawned) {
      let exited = false;
      void s.p.exited.then(() => (exited = true));
      while (!existsSync(join(s.share, 'ready'))) {
        if (exited) throw new SeconetError('COMMAND_FAILED', `lab ${netns}, guest ${s.name}: QEMU exited during boot: ${await tail(join(dir, `qemu-${s.name}.log`), 4)}\n${await tail(s.consoleLog)}`);
        if (Date.now() > deadline) throw new SeconetError('COMMAND_FAILED', `lab ${netns}, guest ${s.name} did not boot within ${timeoutMs} ms; console:\n${await tail(s.consoleLog)}`);
        await sleep(100);
      }
      ready.push({ s, release: (await readFile(join(s.share, 'release'), 'utf8')).trim() });
    }
    const bootSeconds = (performance.now() - started) / 1000;
    const timeScale = timeScaleFor(bootSeconds);
    const guests = ready.map(({ s, release }): FullKernelGuest => ({
      index: s.i, name: s.name, address: `198.18.0.${s.i}`, share: s.share, consoleLog: s.consoleLog, pid: s.p.pid, release, runner: new GuestRunner(s.share, s.name, opts.log, 15, timeScale),
    }));
    opts.log?.debug({ netns, bootSeconds, timeScale }, 'full-kernel lab booted');
    return { id, netns, dir, kernel, guests, bootSeconds, timeScale, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
