// The VM lab's parts that need no guest: the accelerator choice and its refusal, the QEMU
// command line (two NICs: the tap underlay and the management network with loopback forwards),
// the guest script's sshd, the Ansible inventory (the role's documented variables in daemon
// mode), the controller's host kinds, and the report's emulation banner.
import t from 'tap';
import { guestScript } from '../packages/agent/src/fullkernel/guest-script.js';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentStartArgv, chooseAccel, kvmUnusable, newestInput, vmInventory, vmQemuArgv, AGENT_BUNDLE, GUEST_PATHS } from '../packages/cli/src/lab/vm-lab.js';
import type { LabState } from '../packages/cli/src/lab/lab-state.js';
import { runningLabMismatch } from '../packages/cli/src/commands/run.js';
import { parseControllerConfig } from '../packages/controller/src/config.js';
import { networkVariants } from '../packages/controller/src/engine/engine.js';
import { emulationBanner, networkVariantNote } from '../packages/controller/src/report/render.js';
import { reportFixture } from '../packages/controller/src/testing/report-fixture.js';

t.test('accelerator: KVM only where usable; --accel kvm refuses to fall back', async (t) => {
  t.match(kvmUnusable('flags\t\t: fpu sse2 hypervisor\n'), /vmx or svm|\/dev\/kvm/, 'no vmx/svm flag: KVM unusable, with the reason');
  t.equal(chooseAccel('auto', () => 'no /dev/kvm'), 'vm-tcg', 'auto falls back to TCG');
  t.equal(chooseAccel('auto', () => undefined), 'vm-kvm', 'auto takes KVM when usable');
  t.equal(chooseAccel('tcg', () => undefined), 'vm-tcg', 'tcg is honoured');
  t.throws(() => chooseAccel('kvm', () => 'there is no /dev/kvm'), /--accel kvm: KVM is not usable here \(there is no \/dev\/kvm\); use --accel tcg/, 'kvm refused with the cause and the fix');
});

t.test('QEMU argv: tap underlay first (eth0), user-network management with loopback forwards (eth1)', async (t) => {
  const argv = vmQemuArgv({
    name: 'seconet-vm-abc123-h1', hostKind: 'vm-tcg', memoryMiB: 768, kernel: { release: '6.1.0-57-amd64', vmlinuz: '/boot/vmlinuz-6.1.0-57-amd64', modulesDir: '/lib/modules/6.1.0-57-amd64' },
    initrd: '/x/initramfs.cpio', share: '/x/h1', consoleLog: '/x/console-h1.log', tap: 'snvmabc123h1', underlayMac: '52:54:00:5e:ab:01', mgmtMac: '52:54:00:5f:ab:01', sshPort: 30001, agentPort: 30002,
  });
  const s = argv.join(' ');
  t.match(s, /-accel tcg,tb-size=128 -cpu max/, 'TCG');
  t.match(s, /-m 768 /, 'memory');
  t.ok(s.indexOf('tap,id=u0,ifname=snvmabc123h1,script=no,downscript=no') < s.indexOf('user,id=m0'), 'the underlay NIC comes first (eth0)');
  t.match(s, /user,id=m0,restrict=on,hostfwd=tcp:127\.0\.0\.1:30001-:22,hostfwd=tcp:127\.0\.0\.1:30002-:7443/, 'management: restricted, forwards on the machine\'s loopback only');
  t.match(s, /-name seconet-vm-abc123-h1/, 'named, so lab down recognises its QEMU by command line');
  t.match(vmQemuArgv({ ...{ name: 'n', memoryMiB: 512, initrd: 'i', share: '/s', consoleLog: 'c', tap: 't', underlayMac: 'm', mgmtMac: 'm', sshPort: 1, agentPort: 2 }, hostKind: 'vm-kvm', kernel: { release: 'r', vmlinuz: 'v', modulesDir: 'd' } }).join(' '), /-accel kvm -cpu host/, 'KVM');
});

t.test('guest script: management address and sshd with the share\'s keys', async (t) => {
  const s = guestScript({ share: '/x/h1', hostname: 'snvmabc123-h1', address: '198.18.0.1/24', modules: ['ipip'], pollSeconds: 0.5, management: { dev: 'eth1', address: '10.0.2.15/24', hostKey: '/x/h1/ssh_host_key', authorizedKeys: '/x/h1/authorized_keys' } });
  t.match(s, /ip addr add 10\.0\.2\.15\/24 dev eth1/, 'management address');
  t.match(s, /mount -t tmpfs -o mode=0700 tmpfs \/root\n/, 'root\'s home is the guest\'s own, not the machine\'s dotfiles');
  t.match(s, /'\/usr\/sbin\/sshd' '-f' '\/dev\/null'.*'HostKey=\/x\/h1\/ssh_host_key'.*'PasswordAuthentication=no'/, 'sshd: key login only, keys from the share');
  t.throws(() => guestScript({ share: '/x', hostname: 'h', address: '198.18.0.1/24', modules: [], pollSeconds: 1, management: { dev: 'eth1; reboot', address: '10.0.2.15/24', hostKey: 'k', authorizedKeys: 'a' } }), /management NIC/, 'a bad device name is refused');
});

t.test('inventory: the role\'s variables, path install, daemon mode, the agent bundle', async (t) => {
  const state = {
    hosts: [{ name: 'h1', netns: '', prefix: 'snab', address: '127.0.0.1:30002', sshPort: 30001, underlayAddress: '198.18.0.1', configFile: '/x' }],
  } as unknown as LabState;
  const vm = { hostKind: 'vm-tcg', netns: 'snvmabc123', dir: '/x', kernelRelease: 'r', memoryMiB: 768, clientKey: '/x/client_key', knownHosts: '/x/known_hosts' } as const;
  const entry = [`${GUEST_PATHS.root}/current/packages/agent/dist/server/main.bundle.mjs`];
  const inv = vmInventory(state, vm, { ca: '/p/ca.crt', agents: { h1: { cert: '/p/h1.crt', key: '/p/h1.key' } } }, entry) as { all: { children: { seconet_agents: { hosts: Record<string, Record<string, unknown>>; vars: Record<string, unknown> } } } };
  const g = inv.all.children.seconet_agents;
  t.same([g.hosts['h1']!['ansible_host'], g.hosts['h1']!['ansible_port'], g.hosts['h1']!['seconet_agent_underlay_address']], ['127.0.0.1', 30001, '198.18.0.1'], 'SSH on the forwarded port; the underlay address');
  t.match(String(g.hosts['h1']!['ansible_ssh_common_args']), /StrictHostKeyChecking=yes/, 'host keys are checked');
  t.same([g.vars['seconet_agent_manage_service'], g.vars['seconet_agent_daemon'], g.vars['seconet_agent_install_method'], g.vars['seconet_agent_install_packages']], [false, true, 'path', false], 'daemon mode, path install, no apt');
  t.same(g.vars['seconet_agent_daemon_entry'], entry, 'the bundled agent entry');
  const argv = agentStartArgv(entry);
  t.same(argv.slice(0, 6), ['start-stop-daemon', '--start', '--background', '--make-pidfile', '--pidfile', '/run/seconet/agent/agent.pid'], 'the recovery command is the role\'s daemon start');
  t.same(argv.slice(-3), [entry[0], '--config', '/etc/seconet/agent.yaml'], 'with the role\'s config path');
});

t.test('controller config: hostKind is validated; the report bans comparisons of emulated figures', async (t) => {
  const agent = { name: 'h1', address: '127.0.0.1:1', tls: { ca: '/ca', cert: '/c', key: '/k' } };
  t.equal(parseControllerConfig({ agents: [{ ...agent, hostKind: 'vm-tcg' }] }).agents[0]!.hostKind, 'vm-tcg', 'vm-tcg accepted');
  t.throws(() => parseControllerConfig({ agents: [{ ...agent, hostKind: 'laptop' }] }), /agents\[0\]\.hostKind.*netns-lab, vm-kvm, vm-tcg, remote/, 'an unknown kind is refused with the choices');
  const data = reportFixture();
  t.equal(emulationBanner(data), '', 'no banner without emulated hosts');
  const tcg = { ...data, hosts: data.hosts.map((h) => ({ ...h, hostKind: 'vm-tcg' })) };
  t.match(emulationBanner(tcg), /Emulated CPUs \(QEMU TCG\).*not comparable with real hardware/, 'a banner over emulated hosts');
});

t.test('seconet run --vm: a running VM lab is used, a running namespace lab is refused with the fix', async (t) => {
  t.equal(runningLabMismatch('vm-tcg', true), undefined, 'a running TCG VM lab serves --vm');
  t.equal(runningLabMismatch('vm-kvm', true), undefined, 'a running KVM VM lab serves --vm');
  t.equal(runningLabMismatch('netns-lab', false), undefined, 'without --vm any running lab is used');
  t.match(runningLabMismatch('netns-lab', true)?.message, /--vm: the lab that is running is a namespace lab \(netns-lab\), not a VM lab; take it down first \(seconet lab down\), or run without --vm/, 'a namespace lab is refused, naming the fix');
});

t.test('host provenance: the datapath of each network solution, shown on the report\'s cells', async (t) => {
  const cap = (category: string, kind: string, variant: string, available = true) => ({ category, kind, variant, available, version: '', reason: '', engine: '' });
  t.same(networkVariants({ capabilities: [cap('network', 'ovs', 'VARIANT_KERNEL'), cap('network', 'bridge', 'VARIANT_KERNEL'), cap('network', 'bpf', 'VARIANT_USERSPACE', false), cap('tunnel', 'wireguard', 'VARIANT_KERNEL')] }), { ovs: 'kernel', bridge: 'kernel' }, 'available network solutions with their variant');
  t.same(networkVariants({ capabilities: [cap('network', 'ovs', 'VARIANT_KERNEL'), cap('network', 'ovs', 'VARIANT_USERSPACE')] }), { ovs: 'kernel+userspace' }, 'several variants joined');
  const data = reportFixture();
  const names = data.hosts.map((h) => h.name);
  t.equal(networkVariantNote(data, 'ovs', names), '', 'older host records: no note');
  const withOvs = { ...data, hosts: data.hosts.map((h) => ({ ...h, networkVariants: { ovs: 'kernel' } })) };
  t.equal(networkVariantNote(withOvs, 'ovs', names), ' <span class="meta" title="datapath">(kernel)</span>', 'the hosts\' datapath');
  t.equal(networkVariantNote(withOvs, 'bridge', names), '', 'nothing for a solution the hosts did not report');
});

t.test('the agent bundle is stale when any module it holds is newer, not only main.js', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'snbundle-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const at = (path: string, seconds: number): string => {
    const full = join(root, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, '//\n');
    utimesSync(full, seconds, seconds);
    return full;
  };
  at('package-lock.json', 1000);
  at('packages/agent/dist/server/main.js', 1000);
  const bundle = at(AGENT_BUNDLE, 2000);
  at(`${AGENT_BUNDLE}.123.tmp`, 9000);
  at('packages/core/dist/index.js', 1500);
  t.ok(newestInput(root, bundle) <= 2000 * 1000, 'older inputs: the bundle is fresh (its own temp file does not count)');
  at('packages/agent/dist/runner/runner.js', 3000);
  t.equal(newestInput(root, bundle), 3000 * 1000, 'a module main.js imports was rebuilt: the bundle is stale');
  at('packages/core/dist/errors.js', 4000);
  t.equal(newestInput(root, bundle), 4000 * 1000, 'core counts too');
});
