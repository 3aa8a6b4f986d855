// The guest kernel and its initramfs. The guest boots a stock distribution kernel
// (linux-image-amd64) whose modules sit in the machine's own /lib/modules/<release>, and an
// initramfs that holds only busybox, the few modules needed to reach the root (virtio PCI,
// 9p, overlayfs) and an /init that mounts the machine's root read-only over virtio-9p under a
// tmpfs overlay, mounts the guest's job share at the same path it has on the machine, and
// hands over to the guest script there. Everything else (tunnel modules, tools, Node) comes
// from the shared root, so the image stays small and is rebuilt per lab in milliseconds.
// Modules are loaded with busybox insmod in modules.dep order: it reads plain .ko files only,
// which is what Debian 12 ships; compressed modules are refused with a clear error here (the
// guest loads every later module with the machine's kmod modprobe, which reads any format).

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SeconetError } from '@seconet/core';
import { cpioNewc, type CpioEntry } from './cpio.js';

export interface GuestKernel {
  readonly release: string;
  readonly vmlinuz: string;
  readonly modulesDir: string;
}

/** Modules the initramfs needs to mount the root: PCI transport, 9p over virtio, overlayfs. */
export const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'] as const;

/** 9p mount tags of the shared root and of a guest's job share. */
export const ROOT_TAG = 'snroot';
export const SHARE_TAG = 'snshare';

function moduleFile(modulesDir: string, rel: string): string | undefined {
  for (const ext of ['', '.xz', '.zst', '.gz']) {
    const f = join(modulesDir, rel.endsWith('.ko') ? rel + ext : rel);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/**
 * The newest installed kernel whose modules include 9p (the cloud flavour has none), or the
 * release asked for. Throws MISSING_TOOL naming the package to install.
 */
export function findGuestKernel(release?: string): GuestKernel {
  const releases = release !== undefined ? [release] : readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')).map((f) => f.slice('vmlinuz-'.length)).sort().reverse();
  const tried: string[] = [];
  for (const r of releases) {
    if (!/^[\w.+-]+$/.test(r)) continue;
    const vmlinuz = `/boot/vmlinuz-${r}`;
    const modulesDir = `/lib/modules/${r}`;
    const ok = existsSync(vmlinuz) && existsSync(join(modulesDir, 'modules.dep')) && moduleFile(modulesDir, 'kernel/fs/9p/9p.ko') !== undefined;
    if (ok) return { release: r, vmlinuz, modulesDir };
    tried.push(r);
  }
  throw new SeconetError(
    'MISSING_TOOL',
    `no guest kernel with 9p support found${tried.length ? ` (tried ${tried.join(', ')})` : ''}: apt-get install linux-image-amd64 (the standard flavour; the cloud flavour lacks 9p)`,
    { field: 'kernel' },
  );
}

/** modules.dep as module name -> { path, deps (paths, as listed) }. */
function readModulesDep(modulesDir: string): Map<string, { path: string; deps: string[] }> {
  const out = new Map<string, { path: string; deps: string[] }>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const [path, rest] = line.split(':');
    if (!path || rest === undefined) continue;
    const name = (path.split('/').pop() ?? '').replace(/\.ko(\.\w+)?$/, '');
    out.set(name.replace(/-/g, '_'), { path, deps: rest.trim().split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** Module paths (relative to modulesDir) in load order: every module after its dependencies. */
export function moduleLoadOrder(modulesDir: string, names: readonly string[]): string[] {
  const dep = readModulesDep(modulesDir);
  const byPath = new Map([...dep.values()].map((m) => [m.path, m]));
  const order: string[] = [];
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    const m = byPath.get(path);
    if (!m) throw new SeconetError('MISSING_TOOL', `module ${path} is not in ${modulesDir}/modules.dep`, { field: 'kernel' });
    // modprobe loads the last listed dependency first.
    for (const d of [...m.deps].reverse()) visit(d);
    order.push(path);
  };
  for (const n of names) {
    const m = dep.get(n.replace(/-/g, '_'));
    if (!m) throw new SeconetError('MISSING_TOOL', `module ${n} is not built for this kernel (${modulesDir}); it may be built in`, { field: 'kernel' });
    visit(m.path);
  }
  return order;
}

/** The initramfs /init: busybox only, root over 9p + tmpfs overlay, then the guest script. */
export function initScript(): string {
  const bb = '/bin/busybox';
  return [
    `#!${bb} sh`,
    `${bb} mount -t devtmpfs devtmpfs /dev`,
    `${bb} mount -t proc proc /proc`,
    `${bb} mount -t sysfs sysfs /sys`,
    `for m in $(${bb} cat /modules.order); do ${bb} insmod /$m || echo "snfk: insmod $m failed"; done`,
    'fail() { echo "snfk: $*"; echo o > /proc/sysrq-trigger; exec sleep 3600; }',
    `${bb} mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro ${ROOT_TAG} /lower || fail "mount of the shared root failed"`,
    `${bb} mount -t tmpfs -o mode=0755 tmpfs /rw || fail "tmpfs failed"`,
    `${bb} mkdir -p /rw/upper /rw/work`,
    `${bb} mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "overlay failed"`,
    // snshare comes from the kernel command line: the share's path on the machine.
    `case "$snshare" in /*) ;; *) fail "bad snshare";; esac`,
    `${bb} mkdir -p "/newroot$snshare"`,
    `${bb} mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ${SHARE_TAG} "/newroot$snshare" || fail "mount of the job share failed"`,
    `${bb} mount --move /dev /newroot/dev`,
    `${bb} mount --move /proc /newroot/proc`,
    `${bb} mount --move /sys /newroot/sys`,
    `exec ${bb} switch_root /newroot /bin/sh "$snshare/guest.sh"`,
    '',
  ].join('\n');
}

/** The initramfs archive for `kernel`. */
export function buildInitramfs(kernel: GuestKernel, busybox = '/bin/busybox'): Buffer {
  if (!existsSync(busybox)) throw new SeconetError('MISSING_TOOL', `${busybox} is missing: apt-get install busybox-static`, { field: 'busybox' });
  const order = moduleLoadOrder(kernel.modulesDir, ROOT_MODULES);
  const entries: CpioEntry[] = ['dev', 'proc', 'sys', 'lower', 'rw', 'newroot', 'bin', 'm'].map((d) => ({ type: 'dir', path: d }));
  entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1 });
  entries.push({ type: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 });
  entries.push({ type: 'symlink', path: 'bin/sh', target: 'busybox' });
  const files: string[] = [];
  for (const rel of order) {
    const f = moduleFile(kernel.modulesDir, rel);
    if (f === undefined) throw new SeconetError('MISSING_TOOL', `module file ${rel} is missing in ${kernel.modulesDir}`, { field: 'kernel' });
    if (!f.endsWith('.ko')) throw new SeconetError('MISSING_TOOL', `${f} is compressed; the initramfs loader (busybox insmod) needs plain .ko modules`, { field: 'kernel' });
    const name = `m/${rel.split('/').pop()!}`;
    entries.push({ type: 'file', path: name, data: readFileSync(f), mode: 0o644 });
    files.push(name);
  }
  entries.push({ type: 'file', path: 'modules.order', data: Buffer.from(files.join('\n') + '\n') });
  entries.push({ type: 'file', path: 'init', data: Buffer.from(initScript()), mode: 0o755 });
  return cpioNewc(entries);
}
