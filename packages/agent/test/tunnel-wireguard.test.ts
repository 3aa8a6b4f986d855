import t from 'tap';
import pino from 'pino';
import { generateTunnelSecrets } from '@seconet/core';
import { wireguardDevice, wireguardTunnel } from '../src/tunnels/wireguard.js';
import { resetProbeCache } from '../src/tunnels/common.js';
import { FakeRunner } from '../src/testing.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import type { DriverContext, NetworkView } from '../src/driver.js';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const keys = generateTunnelSecrets('wireguard', ['h1', 'h2', 'h3']);
const byIndex = (i: number): (typeof keys)[string] => keys[`h${i + 1}`]!;

t.test('wireguard userspace (wireguard-go) between two lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, wireguardTunnel, {
    variant: 'VARIANT_USERSPACE',
    expectVariant: 'userspace',
    secrets: (i) => ({ privateKey: byIndex(i).privateKey, preSharedKey: '' }),
    publicKey: (i) => byIndex(i).publicKey,
    device: (h) => wireguardDevice(h.host.prefix, h.journal.scope),
    secretsToHide: [byIndex(0).privateKey, byIndex(1).privateKey],
  });
});

t.test('wireguard userspace across three lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, wireguardTunnel, {
    hosts: 3,
    variant: 'VARIANT_USERSPACE',
    expectVariant: 'userspace',
    secrets: (i) => ({ privateKey: byIndex(i).privateKey, preSharedKey: '' }),
    publicKey: (i) => byIndex(i).publicKey,
    device: (h) => wireguardDevice(h.host.prefix, h.journal.scope),
  });
});

t.test('wireguard kernel: exact commands (this kernel lacks CONFIG_WIREGUARD)', async (t) => {
  resetProbeCache();
  const runner = new FakeRunner();
  runner.on(/-d -j link show/, { fail: 'NotFound', stderr: 'Device "x" does not exist.' });
  const env = { name: 'h1', prefix: 'sn01', hostNetns: 'snhost1', stateDir: '/tmp/snwgstate', runDir: `/tmp/snwgrun-${process.pid}`, bpffs: '/tmp/x', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const journal = new MemoryJournal('s1');
  const ctx: DriverContext = { env, runner, journal, log: pino({ level: 'silent' }), scope: 's1' };
  t.teardown(async () => (await import('node:fs/promises')).rm(env.runDir, { recursive: true, force: true }));
  const view: NetworkView = { kind: 'routing', containerCidr: '198.19.1.0/24', gateway: '169.254.1.1', bridge: undefined, ovsdb: undefined, containers: [], mtu: 1440 };
  const spec = {
    kind: 'wireguard', variant: 'VARIANT_KERNEL' as const, cipher: '', localAddress: '198.18.0.1', overlayAddress: '198.18.1.1/24', port: 0, vni: 0,
    secrets: { privateKey: byIndex(0).privateKey, preSharedKey: '' },
    peers: [{ name: 'h2', underlayAddress: '198.18.0.2', overlayAddress: '198.18.1.2', routes: ['198.19.2.0/24'], publicKey: byIndex(1).publicKey, index: 2 }],
  };
  const r = await wireguardTunnel.ensure(ctx, spec, view);
  t.equal(r.variant, 'kernel');
  const dev = wireguardDevice('sn01', 's1');
  const lines = runner.lines();
  t.ok(lines.includes(`ip -n snhost1 link add dev ${dev} type wireguard`), 'creates the kernel device');
  const set = lines.find((l) => l.startsWith('[snhost1] wg set'));
  t.match(set, new RegExp(`^\\[snhost1\\] wg set ${dev} listen-port 51820 private-key /tmp/snwgrun-\\d+/sn01d\\w+/wireguard/private.key peer ${byIndex(1).publicKey.replace(/[+/]/g, '\\$&')} endpoint 198.18.0.2:51820 allowed-ips 198.18.1.2/32,198.19.2.0/24$`));
  t.notOk(lines.some((l) => l.includes(byIndex(0).privateKey)), 'private key never on a command line');
  const batch = runner.calls.find((c) => c.argv.join(' ') === 'ip -n snhost1 -batch -');
  t.equal(batch?.stdin, `link set dev ${dev} mtu 1440 up\naddr replace 198.18.1.1/24 dev ${dev}\nroute replace 198.19.2.0/24 via 198.18.1.2 dev ${dev}\n`);
  const objs = journal.objects().map((o) => o.type);
  t.ok(objs.indexOf('link') < objs.indexOf('route'), 'link journalled before routes');
  t.ok(lines.indexOf(`ip -n snhost1 link add dev ${dev} type wireguard`) > -1);
  await t.rejects(wireguardTunnel.ensure(ctx, { ...spec, secrets: { privateKey: 'nope', preSharedKey: '' } }, view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.secrets.privateKey' });
});
