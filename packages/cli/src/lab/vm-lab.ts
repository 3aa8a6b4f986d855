// The VM lab (`seconet lab up --vm`): the lab's hosts are QEMU guests, each with its own stock
// distribution kernel and network stack, installed the way operators install real hosts. Each
// guest boots the machine's kernel with the machine's root read-only over virtio-9p under a
// tmpfs overlay (the full-kernel lab's initramfs: node, the built repository and every tool are
// there without an image) and has two NICs, as on a real testbed:
//   eth0  the experiment underlay, 198.18.0.i/24: a tap per guest, moved into the lab's
//         namespace `snvm<id>` and joined there on one bridge, so only the guests share it;
//   eth1  management: QEMU user networking (10.0.2.15 in every guest, no route out) with host
//         forwards on the machine's 127.0.0.1 to the guest's sshd and the agent's gRPC port.
// The guest runs sshd from its boot script; the lab then applies the project's seconet_agent
// Ansible role over SSH (ansible/site.yml, install method `path`, certificates from the lab's
// PKI, the same `seconet certs` code). The guests' init is a shell script, not systemd, so the
// role starts the agent as a daemon (seconet_agent_daemon) instead of installing the unit. The
// controller, Redis and the API run on the machine as in the namespace lab and reach the agents
// over gRPC with mutual TLS on their forwarded management ports; the controller restarts an agent
// that stops answering over SSH with the role's start command (its recovery). QEMU processes are
// detached (they outlive `lab up`), recorded by PID and start time, and stopped by `lab down`.
// KVM where /dev/kvm is usable and the CPU exposes virtualisation; TCG (software emulation)
// otherwise: then every figure is a functional result, not comparable with real hardware.

import { execFileSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { buildInitramfs, findGuestKernel, guestScript, DEFAULT_GUEST_MODULES, type GuestKernel, type Runner } from '@seconet/agent';
import { SeconetError, sleep } from '@seconet/core';
import type { LabHostRecord, LabState, ProcessRecord } from './lab-state.js';
import { isOurs, procStartTime, startDetached, tailFile } from './processes.js';

export const VM_NETNS_PREFIX = 'snvm';
/** QEMU's command line of a VM lab guest (its -name). */
export const QEMU_CMD = /qemu-system-x86_64.* -name seconet-vm-/;
/** The agent's gRPC port inside every guest (forwarded from a loopback port of the machine). */
export const GUEST_AGENT_PORT = 7443;
/** The guests' management address on QEMU's user network. */
export const GUEST_MGMT_ADDRESS = '10.0.2.15';
export const DEFAULT_VM_MEMORY_MIB = 768;
/** The full-kernel lab's modules plus br_netfilter: iptables and nftables filters on the bridge network need bridged traffic through netfilter. */
export const VM_GUEST_MODULES = [...DEFAULT_GUEST_MODULES, 'br_netfilter'] as const;

export type VmAccel = 'auto' | 'kvm' | 'tcg';
export type VmHostKind = 'vm-kvm' | 'vm-tcg';

/** What a VM lab records besides the namespace lab's fields. */
export interface VmRecord {
  readonly hostKind: VmHostKind;
  readonly netns: string;
  readonly dir: string;
  readonly kernelRelease: string;
  readonly memoryMiB: number;
  readonly clientKey: string;
  readonly knownHosts: string;
  /** Seconds from the first QEMU start until every guest answered SSH. */
  readonly bootSeconds?: number;
  /** Seconds the Ansible role took on all guests. */
  readonly provisionSeconds?: number;
}

export interface VmHostFields {
  readonly qemu?: ProcessRecord | undefined;
  readonly sshPort?: number | undefined;
  readonly underlayAddress?: string | undefined;
  readonly consoleLog?: string | undefined;
  readonly kernelRelease?: string | undefined;
}

export interface VmLabOptions {
  readonly memoryMiB?: number;
  readonly accel?: VmAccel;
  /** How long the guests may take to boot and answer SSH (default 240 s). */
  readonly bootTimeoutMs?: number;
  /** How long the Ansible role may take on all guests (default 1800 s). */
  readonly provisionTimeoutMs?: number;
}

/** The repository (or release) root this CLI runs from: the guests see it through their shared root. */
export function seconetRoot(): string {
  return fileURLToPath(new URL('../../../../', import.meta.url)).replace(/\/$/, '');
}

/** Why KVM cannot be used here, or undefined when it can. */
export function kvmUnusable(cpuinfo = safeRead('/proc/cpuinfo')): string | undefined {
  if (!existsSync('/dev/kvm')) return 'there is no /dev/kvm';
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return '/dev/kvm is not readable and writable by this user';
  }
  if (!/^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo)) return 'the CPU does not expose vmx or svm (nested virtualisation is off)';
  return undefined;
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

/** KVM or TCG for `accel`; throws when KVM is asked for and unusable. */
export function chooseAccel(accel: VmAccel, probe: () => string | undefined = () => kvmUnusable()): VmHostKind {
  if (accel === 'tcg') return 'vm-tcg';
  const unusable = probe();
  if (unusable === undefined) return 'vm-kvm';
  if (accel === 'kvm') throw new SeconetError('UNSUPPORTED', `--accel kvm: KVM is not usable here (${unusable}); use --accel tcg (or auto) for software emulation, whose timings are functional only`, { field: 'accel' });
  return 'vm-tcg';
}

function memAvailableMiB(meminfo = safeRead('/proc/meminfo')): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo);
  return m ? Math.floor(Number(m[1]) / 1024) : undefined;
}

function toolPath(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Checks everything a VM lab needs before anything is started; one message naming cause and fix. */
export function checkVmLabPrerequisites(hosts: number, o: VmLabOptions): { kernel: GuestKernel; hostKind: VmHostKind; memoryMiB: number } {
  if (!Number.isInteger(hosts) || hosts < 2 || hosts > 4) throw new SeconetError('INVALID_ARGUMENT', `--hosts ${hosts}: a VM lab has 2 to 4 hosts`, { field: 'hosts' });
  const memoryMiB = o.memoryMiB ?? DEFAULT_VM_MEMORY_MIB;
  if (!Number.isInteger(memoryMiB) || memoryMiB < 512 || memoryMiB > 8192) throw new SeconetError('INVALID_ARGUMENT', `--memory ${memoryMiB}: use 512 to 8192 MiB per guest (the agent runs Node.js)`, { field: 'memory' });
  const need: Array<[string, string]> = [
    ['/usr/bin/qemu-system-x86_64', 'apt-get install qemu-system-x86'],
    ['/bin/busybox', 'apt-get install busybox-static'],
    ['/usr/sbin/sshd', 'apt-get install openssh-server'],
    ['/usr/bin/ssh', 'apt-get install openssh-client'],
    ['/usr/bin/ssh-keygen', 'apt-get install openssh-client'],
    ['/usr/bin/ansible-playbook', 'apt-get install ansible'],
    ['/usr/sbin/start-stop-daemon', 'apt-get install dpkg'],
  ];
  for (const [p, fix] of need) if (!toolPath(p)) throw new SeconetError('MISSING_TOOL', `the VM lab needs ${p}: ${fix} (or run scripts/setup.sh)`, { field: 'vm' });
  const kernel = findGuestKernel();
  const hostKind = chooseAccel(o.accel ?? 'auto');
  const avail = memAvailableMiB();
  const want = hosts * (memoryMiB + 128) + 512;
  if (avail !== undefined && avail < want) {
    throw new SeconetError('UNAVAILABLE', `too little memory for ${hosts} guests of ${memoryMiB} MiB: about ${want} MiB needed, ${avail} MiB available; use fewer --hosts or a smaller --memory (at least 512)`, { field: 'memory' });
  }
  const entry = join(seconetRoot(), 'packages', 'cli', 'dist', 'main.js');
  if (!existsSync(entry)) throw new SeconetError('MISSING_TOOL', `${entry} is missing: run "npm run build" (the guests run the built agent, they compile no TypeScript)`, { field: 'vm' });
  return { kernel, hostKind, memoryMiB };
}

export function vmQemuArgv(o: {
  name: string; hostKind: VmHostKind; memoryMiB: number; kernel: GuestKernel; initrd: string; share: string; consoleLog: string;
  tap: string; underlayMac: string; mgmtMac: string; sshPort: number; agentPort: number;
}): string[] {
  const accel = o.hostKind === 'vm-kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,tb-size=128', '-cpu', 'max'];
  return [
    '/usr/bin/qemu-system-x86_64',
    '-name', o.name,
    ...accel,
    '-m', String(o.memoryMiB),
    '-smp', '1',
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-kernel', o.kernel.vmlinuz,
    '-initrd', o.initrd,
    '-append', `console=ttyS0 panic=-1 loglevel=4 no_timer_check snshare=${o.share}`,
    '-chardev', `file,id=con,path=${o.consoleLog}`, '-serial', 'chardev:con',
    '-fsdev', 'local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap', '-device', 'virtio-9p-pci,fsdev=rootfs,mount_tag=snroot',
    '-fsdev', `local,id=share,path=${o.share},security_model=none,multidevs=remap`, '-device', 'virtio-9p-pci,fsdev=share,mount_tag=snshare',
    // eth0: the underlay; the tap is moved into the lab's namespace once QEMU made it.
    '-netdev', `tap,id=u0,ifname=${o.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=u0,mac=${o.underlayMac}`,
    // eth1: management; restrict=on keeps the guest off the machine and the outside, the forwards still work.
    '-netdev', `user,id=m0,restrict=on,hostfwd=tcp:127.0.0.1:${o.sshPort}-:22,hostfwd=tcp:127.0.0.1:${o.agentPort}-:${GUEST_AGENT_PORT}`,
    '-device', `virtio-net-pci,netdev=m0,mac=${o.mgmtMac}`,
  ];
}

function keygen(file: string): void {
  execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file, '-C', 'seconet-vm-lab']);
}

function sshBase(vm: VmRecord, port: number): string[] {
  return ['/usr/bin/ssh', '-i', vm.clientKey, '-p', String(port), '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${vm.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10', 'root@127.0.0.1'];
}

/** Runs argv in a guest over SSH (argv words are quoted for the remote shell). */
export async function sshGuest(runner: Runner, vm: VmRecord, port: number, argv: readonly string[], timeoutMs = 60_000): Promise<string> {
  const q = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return (await runner.run([...sshBase(vm, port), argv.map(q).join(' ')], { timeoutMs })).stdout;
}

/** The agent's daemon entry, bundled into one file (relative to the seconet root). */
export const AGENT_BUNDLE = 'packages/agent/dist/server/main.bundle.mjs';

/**
 * Bundles the built agent daemon (packages/agent/dist/server/main.js, plain JavaScript) into one
 * file next to it, unless an up-to-date bundle is there. Node in an emulated guest spends about
 * a minute resolving and reading the CLI's modules over 9p; one file loads in seconds. The bundle
 * sits at the same depth as the modules it replaces, so the agent finds its proto files, BPF
 * objects and package.json at the same relative paths. Returns the entry the guests run, or the
 * CLI's agent command when esbuild (a development dependency) is not installed.
 *
 * Fresh means newer than every module it holds: the agent's and core's built files and the
 * lockfile (tsc's incremental build leaves main.js alone when only a module it imports changed,
 * so comparing with main.js alone kept a stale agent in the guests).
 */
export async function ensureAgentBundle(root = seconetRoot()): Promise<string[]> {
  const entry = join(root, 'packages', 'agent', 'dist', 'server', 'main.js');
  const out = join(root, AGENT_BUNDLE);
  const fresh = existsSync(out) && statSync(out).mtimeMs >= newestInput(root, out);
  if (!fresh) {
    let esbuild: typeof import('esbuild');
    try {
      esbuild = await import('esbuild');
    } catch {
      return [`${GUEST_PATHS.root}/current/packages/cli/bin/seconet.js`, 'agent'];
    }
    const tmp = `${out}.${process.pid}.tmp`;
    await esbuild.build({
      entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: tmp, logLevel: 'silent',
      // Optional native add-ons stay outside; CommonJS dependencies get a require.
      external: ['*.node'], banner: { js: "import { createRequire as __seconetRequire } from 'node:module'; const require = __seconetRequire(import.meta.url);" },
    });
    renameSync(tmp, out);
  }
  return [`${GUEST_PATHS.root}/current/${AGENT_BUNDLE}`];
}

/** The newest modification time among the bundle's inputs (the bundle itself and its temp files aside). */
export function newestInput(root: string, bundle: string): number {
  let newest = existsSync(join(root, 'package-lock.json')) ? statSync(join(root, 'package-lock.json')).mtimeMs : 0;
  for (const pkg of ['agent', 'core']) {
    const dist = join(root, 'packages', pkg, 'dist');
    if (!existsSync(dist)) continue;
    for (const e of readdirSync(dist, { recursive: true, withFileTypes: true })) {
      const path = join(e.parentPath, e.name);
      if (!e.isFile() || !/\.(js|mjs|json)$/.test(e.name) || path === bundle || path.startsWith(`${bundle}.`)) continue;
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/** start-stop-daemon's argv that (re)starts a guest's agent, as the role's daemon mode does. */
export function agentStartArgv(entry: readonly string[], paths = GUEST_PATHS): string[] {
  return [
    'start-stop-daemon', '--start', '--background', '--make-pidfile', '--pidfile', `${paths.runDir}/agent.pid`, '--output', `${paths.logDir}/agent.out`,
    '--exec', process.execPath, '--', ...entry, '--config', `${paths.configDir}/agent.yaml`,
  ];
}

/** The role's default paths inside a guest. */
export const GUEST_PATHS = { root: '/opt/seconet', configDir: '/etc/seconet', stateDir: '/var/lib/seconet/agent', runDir: '/run/seconet/agent', logDir: '/var/log/seconet' } as const;

/** The Ansible inventory for the guests: the role's documented variables, path install, daemon mode. */
export function vmInventory(state: LabState, vm: VmRecord, pki: { ca: string; agents: Record<string, { cert: string; key: string }> }, entry: readonly string[]): Record<string, unknown> {
  const hosts: Record<string, unknown> = {};
  for (const h of state.hosts) {
    hosts[h.name] = {
      ansible_host: '127.0.0.1',
      ansible_port: h.sshPort,
      ansible_user: 'root',
      ansible_ssh_private_key_file: vm.clientKey,
      ansible_ssh_common_args: `-o UserKnownHostsFile=${vm.knownHosts} -o StrictHostKeyChecking=yes`,
      ansible_python_interpreter: '/usr/bin/python3',
      // The lab logs in as root: site.yml's become would only add a sudo per task.
      ansible_become: false,
      seconet_agent_prefix: h.prefix,
      seconet_agent_underlay_address: h.underlayAddress,
      seconet_agent_tls_cert: pki.agents[h.name]!.cert,
      seconet_agent_tls_key: pki.agents[h.name]!.key,
    };
  }
  return {
    all: {
      children: {
        seconet_agents: {
          hosts,
          vars: {
            seconet_agent_listen: `0.0.0.0:${GUEST_AGENT_PORT}`,
            seconet_agent_install_method: 'path',
            seconet_agent_source_path: seconetRoot(),
            // The guest's root is the machine's: the packages are there already, and the guest has no route out.
            seconet_agent_install_packages: false,
            seconet_agent_manage_service: false,
            seconet_agent_daemon: true,
            seconet_agent_daemon_entry: entry,
            seconet_agent_node_binary: process.execPath,
            seconet_agent_tls_ca: pki.ca,
            seconet_agent_underlay_dev: 'eth0',
            seconet_agent_underlay_mtu: 1500,
            seconet_agent_root: GUEST_PATHS.root,
            seconet_agent_config_dir: GUEST_PATHS.configDir,
            seconet_agent_state_dir: GUEST_PATHS.stateDir,
            seconet_agent_run_dir: GUEST_PATHS.runDir,
            seconet_agent_log_dir: GUEST_PATHS.logDir,
          },
        },
      },
    },
  };
}

type Save = (next: LabState) => void;

/**
 * Boots the guests of a VM lab whose state (hosts with ports and prefixes, `vm` record) is
 * saved, waits for SSH on each, and records QEMU PIDs through `save` as soon as they exist, so a
 * failure at any step leaves a state `lab down` cleans. Throws with the console tail.
 */
export async function bootVmGuests(runner: Runner, get: () => LabState, save: Save, kernel: GuestKernel, o: VmLabOptions, say: (l: string) => void): Promise<void> {
  const state0 = get();
  const vm = state0.vm!;
  mkdirSync(vm.dir, { recursive: true, mode: 0o700 });
  keygen(vm.clientKey);
  const initrd = join(vm.dir, 'initramfs.cpio');
  writeFileSync(initrd, buildInitramfs(kernel), { mode: 0o600 });
  await runner.run(['ip', 'netns', 'add', vm.netns]);
  await runner.run(['ip', '-n', vm.netns, '-batch', '-'], { stdin: 'link set lo up\nlink add br0 type bridge\nlink set br0 up\n' });
  const started = performance.now();
  const known: string[] = [];
  for (const [k, h] of state0.hosts.entries()) {
    const i = k + 1;
    const share = join(vm.dir, h.name);
    mkdirSync(share, { recursive: true, mode: 0o700 });
    keygen(join(share, 'ssh_host_key'));
    const pub = readFileSync(join(share, 'ssh_host_key.pub'), 'utf8').trim().split(' ');
    known.push(`[127.0.0.1]:${h.sshPort} ${pub[0]} ${pub[1]}`);
    copyFileSync(`${vm.clientKey}.pub`, join(share, 'authorized_keys'));
    writeFileSync(join(share, 'guest.sh'), guestScript({
      share, hostname: `${vm.netns}-${h.name}`, address: `${h.underlayAddress}/24`, modules: VM_GUEST_MODULES, pollSeconds: 0.5,
      management: { dev: 'eth1', address: `${GUEST_MGMT_ADDRESS}/24`, hostKey: join(share, 'ssh_host_key'), authorizedKeys: join(share, 'authorized_keys') },
    }), { mode: 0o700 });
    const consoleLog = join(vm.dir, `console-${h.name}.log`);
    const tap = `${vm.netns}${h.name}`;
    const agentPort = Number(h.address.split(':')[1]);
    const hex = i.toString(16).padStart(2, '0');
    const argv = vmQemuArgv({
      name: `seconet-vm-${state0.id}-${h.name}`, hostKind: vm.hostKind, memoryMiB: vm.memoryMiB, kernel, initrd, share, consoleLog, tap,
      underlayMac: `52:54:00:5e:${state0.id.slice(0, 2)}:${hex}`, mgmtMac: `52:54:00:5f:${state0.id.slice(0, 2)}:${hex}`, sshPort: h.sshPort!, agentPort,
    });
    const qemu = startDetached(runner, argv, join(vm.dir, `qemu-${h.name}.log`));
    const cur = get();
    save({ ...cur, hosts: cur.hosts.map((x) => (x.name === h.name ? { ...x, qemu, consoleLog } : x)) });
    // QEMU makes the tap in the machine's namespace; it goes into the lab's namespace at once.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await runner.run(['ip', 'link', 'show', 'dev', tap], { okCodes: [0, 1] });
      if (r.exitCode === 0) break;
      if (!isOurs(qemu, /qemu-system/)) throw guestFailed(h.name, 'QEMU exited at start', join(vm.dir, `qemu-${h.name}.log`), consoleLog);
      if (Date.now() > deadline) throw guestFailed(h.name, 'QEMU made no tap device within 20 s', join(vm.dir, `qemu-${h.name}.log`), consoleLog);
      await sleep(100);
    }
    await runner.run(['ip', 'link', 'set', 'dev', tap, 'netns', vm.netns]);
    await runner.run(['ip', '-n', vm.netns, 'link', 'set', 'dev', tap, 'master', 'br0', 'up']);
  }
  writeFileSync(vm.knownHosts, `${known.join('\n')}\n`, { mode: 0o600 });
  say(`booting ${state0.hosts.length} guests (${vm.hostKind === 'vm-tcg' ? 'TCG: software emulation' : 'KVM'}, kernel ${kernel.release}, ${vm.memoryMiB} MiB each)`);
  const timeoutMs = o.bootTimeoutMs ?? 240_000;
  const deadline = Date.now() + timeoutMs;
  for (const h of get().hosts) {
    const share = join(vm.dir, h.name);
    for (;;) {
      if (existsSync(join(share, 'ready'))) break;
      if (!isOurs(h.qemu!, /qemu-system/)) throw guestFailed(h.name, 'QEMU exited during boot', join(vm.dir, `qemu-${h.name}.log`), h.consoleLog!);
      if (Date.now() > deadline) throw guestFailed(h.name, `did not boot within ${Math.round(timeoutMs / 1000)} s (raise --boot-timeout on a slow machine)`, join(vm.dir, `qemu-${h.name}.log`), h.consoleLog!);
      await sleep(250);
    }
    const release = readFileSync(join(share, 'release'), 'utf8').trim();
    let lastErr = '';
    for (;;) {
      const r = await runner.run([...sshBase(vm, h.sshPort!), 'true'], { okCodes: [0, 255], timeoutMs: 30_000 }).catch((e: unknown) => ({ exitCode: -1, stderr: (e as Error).message }));
      if (r.exitCode === 0) break;
      lastErr = r.stderr.trim();
      if (Date.now() > deadline) throw guestFailed(h.name, `sshd did not answer on 127.0.0.1:${h.sshPort} within ${Math.round(timeoutMs / 1000)} s (${lastErr}; ${tailFile(join(share, 'sshd.log'), 3)})`, join(vm.dir, `qemu-${h.name}.log`), h.consoleLog!);
      await sleep(1000);
    }
    const cur = get();
    save({ ...cur, hosts: cur.hosts.map((x) => (x.name === h.name ? { ...x, kernelRelease: release } : x)) });
  }
  const cur = get();
  save({ ...cur, vm: { ...cur.vm!, bootSeconds: Math.round((performance.now() - started) / 100) / 10 } });
}

function guestFailed(name: string, what: string, qemuLog: string, consoleLog: string): SeconetError {
  return new SeconetError('UNAVAILABLE', `guest ${name}: ${what}; QEMU: ${tailFile(qemuLog, 3)}\nconsole tail:\n${tailFile(consoleLog, 12)}`, { field: 'vm' });
}

/** Applies the seconet_agent role to every guest over SSH (ansible/site.yml); throws with the log tail. */
export async function provisionVmGuests(runner: Runner, state: LabState, pki: { ca: string; agents: Record<string, { cert: string; key: string }> }, entry: readonly string[], o: VmLabOptions, say: (l: string) => void): Promise<number> {
  const vm = state.vm!;
  const inventory = join(vm.dir, 'inventory.yml');
  writeFileSync(inventory, toYaml(vmInventory(state, vm, pki, entry)), { mode: 0o600 });
  const root = seconetRoot();
  const log = join(vm.dir, 'ansible.log');
  say(`installing the agents with the seconet_agent role over SSH (ansible-playbook ${join(root, 'ansible', 'site.yml')})`);
  const started = performance.now();
  const timeoutMs = o.provisionTimeoutMs ?? 1_800_000;
  try {
    const r = await runner.run(['/usr/bin/ansible-playbook', '-i', inventory, join(root, 'ansible', 'site.yml')], {
      timeoutMs,
      env: {
        ANSIBLE_CONFIG: join(root, 'ansible', 'ansible.cfg'),
        ANSIBLE_ROLES_PATH: join(root, 'ansible', 'roles'),
        // Facts are not used with these variables; gathering them costs a minute on emulated guests.
        ANSIBLE_GATHERING: 'explicit',
        ANSIBLE_PIPELINING: 'True',
        // Files go through the SSH connection itself: no sftp-server per file.
        ANSIBLE_SSH_TRANSFER_METHOD: 'piped',
        ANSIBLE_NOCOLOR: '1',
        ANSIBLE_RETRY_FILES_ENABLED: 'False',
        ANSIBLE_LOCAL_TEMP: join(vm.dir, 'ansible-tmp'),
        ANSIBLE_LOG_PATH: log,
      },
    });
    writeFileSync(join(vm.dir, 'ansible.out'), r.stdout);
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    writeFileSync(join(vm.dir, 'ansible.out'), out);
    throw new SeconetError('UNAVAILABLE', `the seconet_agent role failed on the guests: ${(e as Error).message.split('\n')[0]}; last lines of ${join(vm.dir, 'ansible.out')}:\n${out.trim().split('\n').slice(-15).join('\n')}`, { field: 'vm', cause: e });
  }
  return Math.round((performance.now() - started) / 100) / 10;
}

/** The controller's SSH recovery for a guest's agent: the role's daemon start over the forwarded SSH port. */
export function vmRecovery(vm: VmRecord, h: LabHostRecord, entry: readonly string[]): Record<string, unknown> {
  return {
    ssh: { host: '127.0.0.1', port: h.sshPort, user: 'root', identityFile: vm.clientKey, knownHostsFile: vm.knownHosts, timeoutMs: 30_000 },
    restartCommand: agentStartArgv(entry),
    logFile: `${GUEST_PATHS.logDir}/agent.log`,
    afterMs: 10_000,
    // The agent starts in ~10-20 s on an emulated CPU: a second restart under it only delays it.
    startGraceMs: 60_000,
  };
}

/** Stops the guests by recorded PID (only while PID, start time and command line match). */
export async function stopVmGuests(state: LabState): Promise<string[]> {
  const stopped: string[] = [];
  await Promise.all(state.hosts.map(async (h) => {
    if (h.qemu === undefined || procStartTime(h.qemu.pid) !== h.qemu.startTime || !isOurs(h.qemu, QEMU_CMD)) return;
    try {
      process.kill(h.qemu.pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 100 && isOurs(h.qemu, QEMU_CMD); i++) await sleep(50);
    stopped.push(`guest ${h.name} ${h.qemu.pid}`);
  }));
  return stopped;
}
