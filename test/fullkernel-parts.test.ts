// The full-kernel lab's parts without QEMU: the initramfs archive read back by GNU cpio, the
// module load order from the installed kernel's modules.dep, the QEMU command line, the guest
// script's input checks, and GuestRunner's transport against a stand-in for the guest loop
// (argv words arrive verbatim, never interpreted by the shell; stdin, exit codes, timeouts).
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpioNewc } from '../packages/agent/src/fullkernel/cpio.js';
import { ROOT_MODULES, buildInitramfs, findGuestKernel, initScript, moduleLoadOrder } from '../packages/agent/src/fullkernel/initramfs.js';
import { guestScript } from '../packages/agent/src/fullkernel/guest-script.js';
import { REFERENCE_BOOT_SECONDS, bootFullKernelLab, fullKernelLabMissing, qemuArgv, removeStaleFullKernelLabs, timeScaleFor } from '../packages/agent/src/fullkernel/full-kernel-lab.js';
import { processStartTime } from '../packages/agent/src/journal/undo.js';
import { randomBytes } from 'node:crypto';
import { GuestRunner } from '../packages/agent/src/fullkernel/guest-runner.js';
import { requireRoot, requireTool, requirement } from './helpers/requirements.js';

const tmp = mkdtempSync(join(tmpdir(), 'snfkparts-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

let kernel: ReturnType<typeof findGuestKernel> | undefined;
let noKernel: string | undefined;
try {
  kernel = findGuestKernel();
} catch (e) {
  noKernel = (e as Error).message;
}

t.test('cpio newc archive reads back with GNU cpio', async (t) => {
  if (!requireTool(t, 'cpio', 'reading the archive back (apt-get install cpio)')) return;
  const f = join(tmp, 'a.cpio');
  writeFileSync(f, cpioNewc([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/hello', data: Buffer.from('hi there\n'), mode: 0o755 },
    { type: 'file', path: 'odd', data: Buffer.from('12345') },
    { type: 'symlink', path: 'bin/sh', target: 'hello' },
    { type: 'chardev', path: 'console', major: 5, minor: 1 },
  ]));
  const list = execFileSync('cpio', ['-itv', '-F', f], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  t.match(list, /^drwxr-xr-x .* bin$/m, 'directory');
  t.match(list, /^-rwxr-xr-x .* 9 .* bin\/hello$/m, 'file with mode and size');
  t.match(list, /^lrwxrwxrwx .* bin\/sh -> hello$/m, 'symlink');
  t.match(list, /^crw------- .* 5,\s+1 .* console$/m, 'character device 5:1');
  t.equal(execFileSync('cpio', ['-i', '--to-stdout', '-F', f, 'odd'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(), '12345', 'content survives the 4-byte padding');
  t.throws(() => cpioNewc([{ type: 'dir', path: '../x' }]), /bad path/, 'no path escapes the archive');
});

t.test('module load order and initramfs of the installed kernel', async (t) => {
  if (!requirement(t, noKernel === undefined ? undefined : `no 9p-capable kernel (apt-get install linux-image-amd64): ${noKernel}`)) return;
  const k = kernel!;
  const order = moduleLoadOrder(k.modulesDir, ROOT_MODULES).map((p) => p.split('/').pop()!.replace(/\.ko.*$/, ''));
  const before = (x: string, y: string): void => void t.ok(order.indexOf(x) >= 0 && order.indexOf(x) < order.indexOf(y), `${x} before ${y}`);
  before('virtio', 'virtio_pci');
  before('virtio_ring', 'virtio_pci');
  before('9pnet', '9pnet_virtio');
  before('netfs', 'fscache');
  before('fscache', '9p');
  t.ok(order.includes('overlay'), 'overlay');
  t.equal(new Set(order).size, order.length, 'each module once');
  t.throws(() => moduleLoadOrder(k.modulesDir, ['no_such_module_here']), { code: 'MISSING_TOOL' });
  const f = join(tmp, 'initrd.cpio');
  writeFileSync(f, buildInitramfs(k));
  const names = execFileSync('cpio', ['-it', '-F', f], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().split('\n');
  for (const n of ['init', 'bin/busybox', 'dev/console', 'modules.order', 'm/9p.ko', 'm/overlay.ko']) t.ok(names.includes(n), `initramfs holds ${n}`);
  t.equal(execFileSync('cpio', ['-i', '--to-stdout', '-F', f, 'init'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(), initScript(), '/init is the init script');
});

t.test('findGuestKernel names the package when nothing fits', async (t) => {
  t.throws(() => findGuestKernel('0.0.0-none'), { code: 'MISSING_TOOL', message: /linux-image-amd64/ });
});

t.test('QEMU command line: multicast on loopback, root read-only, bounded memory', async (t) => {
  const argv = qemuArgv({ kernel: { release: 'r', vmlinuz: '/boot/vmlinuz-r', modulesDir: '/lib/modules/r' }, initrd: '/x/i', share: '/tmp/s/g1', consoleLog: '/x/c', pidFile: '/x/p', memoryMiB: 256, tbSizeMiB: 128, mcast: '230.0.0.1:20000', mac: '52:54:00:fc:00:01' });
  const joined = argv.join(' ');
  t.equal(argv[0], 'qemu-system-x86_64');
  t.match(joined, /-netdev socket,id=u0,mcast=230\.0\.0\.1:20000,localaddr=127\.0\.0\.1/);
  t.match(joined, /local,id=rootfs,path=\/,security_model=none,readonly=on/);
  t.match(joined, /-accel tcg,tb-size=128 -m 256 /);
  t.match(joined, /snshare=\/tmp\/s\/g1/);
  t.match(joined, /-no-reboot/);
  t.match(joined, /-pidfile \/x\/p/);
  t.match(joined, /-append \S.* no_timer_check /, 'TCG guests skip the timer check that fails under load');
});

t.test('guest deadlines scale with the measured boot time', async (t) => {
  t.equal(timeScaleFor(REFERENCE_BOOT_SECONDS / 2), 1, 'never below 1');
  t.equal(timeScaleFor(REFERENCE_BOOT_SECONDS * 3), 3, 'a boot three times slower triples the deadlines');
  t.equal(timeScaleFor(REFERENCE_BOOT_SECONDS * 100), 20, 'bounded');
  t.equal(timeScaleFor(Number.NaN), 1);
  t.throws(() => new GuestRunner('/nonexistent', 'g', undefined, 5, 0.5), /timeScale 0.5/);
  t.equal(new GuestRunner('/nonexistent', 'g', undefined, 5, 2.5).scaled(1000), 2500);
});

t.test('guest script refuses names it would interpret', async (t) => {
  const base = { share: '/tmp/s', hostname: 'g1', address: '198.18.0.1/24', modules: ['ipip'], pollSeconds: 0.1 };
  t.match(guestScript(base), /\/sbin\/modprobe ipip /);
  t.match(guestScript(base), /S='\/tmp\/s'/);
  t.throws(() => guestScript({ ...base, hostname: 'g1;reboot' }));
  t.throws(() => guestScript({ ...base, modules: ['ipip $(reboot)'] }));
});

/** The guest's command loop, played on the machine by plain sh in a temp share. */
function fakeGuest(share: string): () => void {
  for (const d of ['req', 'run', 'res']) mkdirSync(join(share, d), { recursive: true });
  const timer = setInterval(() => {
    for (const f of readdirSync(join(share, 'req')).filter((x) => x.endsWith('.sh'))) {
      const n = f.slice(0, -3);
      renameSync(join(share, 'req', f), join(share, 'run', f));
      const out = openSync(join(share, 'res', `${n}.out`), 'w');
      const err = openSync(join(share, 'res', `${n}.err`), 'w');
      const p = spawn('/bin/sh', [join(share, 'run', f)], { stdio: ['ignore', out, err] });
      closeSync(out);
      closeSync(err);
      p.on('close', (code) => {
        writeFileSync(join(share, 'res', `${n}.rc.tmp`), `${code ?? 137}\n`);
        renameSync(join(share, 'res', `${n}.rc.tmp`), join(share, 'res', `${n}.rc`));
      });
    }
  }, 10);
  return () => clearInterval(timer);
}

t.test('GuestRunner transport', async (t) => {
  const share = join(tmp, 'share');
  const stop = fakeGuest(share);
  t.teardown(stop);
  const r = new GuestRunner(share, 'fake', undefined, 5);
  const canary = join(tmp, 'canary');
  const tricky = [`it's`, '$(touch ' + canary + ')', '`touch ' + canary + '`', 'a b', '; touch ' + canary, '$HOME', '"q"', ''];
  const res = await r.run(['printf', '%s\\n', ...tricky]);
  t.same(res.stdout.split('\n').slice(0, -1), tricky, 'every argv word arrives verbatim');
  t.notOk(existsSync(canary), 'nothing in argv was executed by the shell');
  t.equal((await r.run(['cat'], { stdin: 'line 1\nline 2\n' })).stdout, 'line 1\nline 2\n', 'stdin reaches the command');
  t.equal((await r.run(['env'], { env: { SNFK_X: 'v w' } })).stdout.includes('SNFK_X=v w\n'), true, 'environment');
  t.equal((await r.run(['pwd'], { cwd: tmp })).stdout.trim(), tmp, 'cwd');
  await t.rejects(r.run(['ls', join(tmp, 'no-such-file')]), { name: 'CommandError', kind: 'NotFound', exitCode: 2 }, 'failure mapped by classify');
  t.equal((await r.run(['sh', '-c', 'exit 3'], { okCodes: [0, 3] })).exitCode, 3, 'okCodes');
  const t0 = Date.now();
  await t.rejects(r.run(['sleep', '30'], { timeoutMs: 300 }), { name: 'CommandError', kind: 'TimedOut' }, 'timeout');
  t.ok(Date.now() - t0 < 5000, 'timeout returns promptly');
  const slow = new GuestRunner(share, 'fake', undefined, 5, 3);
  const t1 = Date.now();
  await t.rejects(slow.run(['sleep', '30'], { timeoutMs: 300 }), { kind: 'TimedOut', message: /timed out after 900 ms in guest fake \(time scale 3\.0\)/ }, 'a slower guest gets a scaled deadline, and the message says which');
  t.ok(Date.now() - t1 >= 850, 'the scaled deadline is kept');
  t.throws(() => r.spawn(['sleep', '1']), { name: 'CommandError', kind: 'NotSupported' }, 'spawn is refused');
  await t.rejects(r.run(['ip', 'link'], { netns: 'x;y' }), /bad netns/, 'namespace names are checked');
  const pid = await r.start(['sleep', '30']);
  t.ok(existsSync(`/proc/${pid}`), 'start returns the PID of a running process');
  await r.stop(pid, 1000);
  let gone = false;
  for (let i = 0; i < 50 && !gone; i++) {
    gone = processStartTime(pid) === undefined;
    if (!gone) await new Promise((res) => setTimeout(res, 20));
  }
  t.ok(gone, 'stop ends it');
  t.same(readdirSync(join(share, 'req')), [], 'request files are cleaned up');
  t.same(readdirSync(join(share, 'res')), [], 'result files are cleaned up');
});

t.test('a lab left by a dead process is removed; a live one is kept', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const ns = (): string => `snfk${randomBytes(3).toString('hex')}`;
  const stale = ns();
  const live = ns();
  const staleDir = join(tmpdir(), `${stale}-test`);
  const liveDir = join(tmpdir(), `${live}-test`);
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.teardown(() => {
    sleeper.kill('SIGKILL');
    for (const n of [stale, live]) spawn('ip', ['netns', 'del', n], { stdio: 'ignore' });
    rmSync(staleDir, { recursive: true, force: true });
    rmSync(liveDir, { recursive: true, force: true });
  });
  const gone = spawn('true');
  await new Promise((res) => gone.on('exit', res));
  for (const [n, dir, owner] of [[stale, staleDir, { pid: gone.pid, startTime: '1' }], [live, liveDir, { pid: process.pid, startTime: processStartTime(process.pid) }]] as const) {
    execFileSync('ip', ['netns', 'add', n]);
    mkdirSync(dir);
    writeFileSync(join(dir, 'owner.json'), JSON.stringify(owner));
  }
  let st: string | undefined;
  for (let i = 0; i < 100 && (st = processStartTime(sleeper.pid!)) === undefined; i++) await new Promise((res) => setTimeout(res, 10));
  writeFileSync(join(staleDir, 'qemu-g1.json'), JSON.stringify({ pid: sleeper.pid, startTime: st }));
  const youngDir = join(tmpdir(), `${ns()}-test`);
  mkdirSync(youngDir);
  t.teardown(() => rmSync(youngDir, { recursive: true, force: true }));
  const exited = new Promise((res) => sleeper.on('exit', res));
  const removed = await removeStaleFullKernelLabs();
  t.ok(existsSync(youngDir), 'a fresh directory without an owner record (a lab being created) is kept');
  t.ok(removed.includes(stale), 'the stale lab is reported');
  t.notOk(removed.includes(live), 'the live lab is not');
  await exited;
  t.equal(sleeper.signalCode, 'SIGKILL', "the stale lab's recorded process was killed by PID");
  t.notOk(existsSync(staleDir), 'its directory is gone');
  t.ok(existsSync(liveDir), 'the live lab keeps its directory');
  const nss = execFileSync('ip', ['netns', 'list']).toString();
  t.notMatch(nss, new RegExp(`^${stale}\\b`, 'm'), 'its namespace is gone');
  t.match(nss, new RegExp(`^${live}\\b`, 'm'), 'the live namespace stays');
});

t.test('a boot that times out leaves no QEMU, namespace or directory', async (t) => {
  if (!requirement(t, fullKernelLabMissing())) return;
  const err = await bootFullKernelLab({ guests: 1, bootTimeoutMs: 500 }).then(() => undefined, (e: Error) => e);
  t.match(err?.message, /^lab snfk[0-9a-f]{6}, guest g1 did not boot within 500 ms/, 'the error names the lab and the guest');
  const ns = /^lab (snfk[0-9a-f]{6})/.exec(err?.message ?? '')?.[1] ?? 'none';
  t.notMatch(execFileSync('ip', ['netns', 'list']).toString(), new RegExp(`^${ns}\\b`, 'm'), 'namespace removed');
  t.same(readdirSync(tmpdir()).filter((d) => d.startsWith(`${ns}-`)), [], 'directory removed');
  const qemus = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`/${ns}-`);
    } catch {
      return false;
    }
  });
  t.same(qemus, [], 'no QEMU of that lab runs');
});
