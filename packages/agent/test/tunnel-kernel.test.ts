// Kernel-only tunnel kinds (ipip, gre, geneve, WireGuard kernel, IPsec with xfrm): the exact
// commands with FakeRunner, and the real probe. On a kernel that has the feature the real
// two-host scenario runs; on the lab machine's kernel it is skipped with the probe's reason.
import t, { type Test } from 'tap';
import pino from 'pino';
import { readFile, rm } from 'node:fs/promises';
import { generateTunnelSecrets } from '@seconet/core';
import { FakeRunner } from '../src/testing.js';
import { ExecRunner } from '../src/runner/runner.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import type { DriverContext, NetworkView, TunnelDriver } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import type { TunnelSpec__Output } from '../src/gen/seconet/agent/v1/TunnelSpec.js';
import { TUNNEL_DRIVERS } from '../src/tunnels/index.js';
import { resetProbeCache } from '../src/tunnels/common.js';
import { ipipTunnel } from '../src/tunnels/ipip.js';
import { greTunnel } from '../src/tunnels/gre.js';
import { geneveTunnel } from '../src/tunnels/geneve.js';
import { vxlanTunnel } from '../src/tunnels/vxlan.js';
import { ipsecTunnel, ipsecXfrmDevice } from '../src/tunnels/ipsec.js';
import { wireguardTunnel, wireguardDevice } from '../src/tunnels/wireguard.js';
import { objectName } from '@seconet/core';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const view: NetworkView = { kind: 'routing', containerCidr: '198.19.1.0/24', gateway: '169.254.1.1', bridge: undefined, ovsdb: undefined, containers: [], mtu: 1400 };

function fakeCtx(t: Test): { ctx: DriverContext; runner: FakeRunner; journal: MemoryJournal } {
  resetProbeCache();
  const runner = new FakeRunner();
  runner.on('uname -r', { stdout: '6.1.0-test\n' });
  runner.on(/-d -j link show/, { fail: 'NotFound', stderr: 'Device "x" does not exist.' });
  const env: HostEnv = { name: 'h1', prefix: 'sn01', hostNetns: 'snhost1', stateDir: '/tmp/x', runDir: `/tmp/snkrun-${process.pid}-${Math.random().toString(36).slice(2)}`, bpffs: '/tmp/x', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  t.teardown(() => rm(env.runDir, { recursive: true, force: true }));
  const journal = new MemoryJournal('s1');
  return { ctx: { env, runner, journal, log: pino({ level: 'silent' }), scope: 's1' }, runner, journal };
}

function spec(kind: string, extra: Partial<TunnelSpec__Output> = {}): TunnelSpec__Output {
  return {
    kind, variant: 'VARIANT_UNSPECIFIED', cipher: '', localAddress: '198.18.0.1', overlayAddress: '198.18.1.1/24', port: 0, vni: 0,
    secrets: { privateKey: '', preSharedKey: '' },
    peers: [
      { name: 'h2', underlayAddress: '198.18.0.2', overlayAddress: '198.18.1.2', routes: ['198.19.2.0/24'], publicKey: '', index: 2 },
      { name: 'h3', underlayAddress: '198.18.0.3', overlayAddress: '198.18.1.3', routes: ['198.19.3.0/24', '198.19.30.0/24'], publicKey: '', index: 3 },
    ],
    ...extra,
  };
}

function batches(runner: FakeRunner): string[] {
  return runner.calls.filter((c) => c.argv.join(' ') === 'ip -n snhost1 -batch -').map((c) => c.stdin ?? '');
}

t.test('registry holds every kind', async (t) => {
  t.same([...TUNNEL_DRIVERS.keys()].sort(), ['geneve', 'gre', 'ipip', 'ipsec', 'none', 'openvpn', 'tinc', 'vxlan', 'wireguard']);
});

t.test('ipip: one device per peer, /32 with peer, routes onlink, in one batch', async (t) => {
  const { ctx, runner, journal } = fakeCtx(t);
  const r = await ipipTunnel.ensure(ctx, spec('ipip'), view);
  t.same(r, { changed: true, variant: 'kernel', version: '6.1.0-test' });
  const d2 = objectName('sn01', 'p', ['s1', 'ipip', 'h2']);
  const d3 = objectName('sn01', 'p', ['s1', 'ipip', 'h3']);
  t.same(batches(runner), [
    [
      `link add ${d2} type ipip local 198.18.0.1 remote 198.18.0.2 ttl 64`,
      `link set dev ${d2} mtu 1480 up`,
      `addr replace 198.18.1.1/32 peer 198.18.1.2/32 dev ${d2}`,
      `link add ${d3} type ipip local 198.18.0.1 remote 198.18.0.3 ttl 64`,
      `link set dev ${d3} mtu 1480 up`,
      `addr replace 198.18.1.1/32 peer 198.18.1.3/32 dev ${d3}`,
      `route replace 198.19.2.0/24 via 198.18.1.2 dev ${d2} onlink`,
      `route replace 198.19.3.0/24 via 198.18.1.3 dev ${d3} onlink`,
      `route replace 198.19.30.0/24 via 198.18.1.3 dev ${d3} onlink`,
      '',
    ].join('\n'),
  ]);
  t.same(journal.objects(), [
    { type: 'link', name: d2, netns: 'snhost1' },
    { type: 'link', name: d3, netns: 'snhost1' },
    { type: 'route', dst: '198.19.2.0/24', netns: 'snhost1' },
    { type: 'route', dst: '198.19.3.0/24', netns: 'snhost1' },
    { type: 'route', dst: '198.19.30.0/24', netns: 'snhost1' },
  ]);
  t.ok(runner.lines().some((l) => /^ip netns add sn01z\w+$/.test(l)), 'the probe uses a throwaway namespace');
  t.ok(runner.lines().some((l) => /^ip -n sn01z\w+ link add sn01probe type ipip local 198.18.0.1 remote 198.18.0.2$/.test(l)), 'the probe creates a real ipip link');
  t.equal(ipipTunnel.overhead(spec('ipip')), 20);
});

t.test('gre: keyed per scope, 28 bytes overhead', async (t) => {
  const { ctx, runner } = fakeCtx(t);
  await greTunnel.ensure(ctx, spec('gre', { vni: 77, peers: spec('gre').peers.slice(0, 1) }), view);
  const d2 = objectName('sn01', 'g', ['s1', 'gre', 'h2']);
  t.match(batches(runner)[0], new RegExp(`^link add ${d2} type gre local 198.18.0.1 remote 198.18.0.2 key 77 ttl 64\nlink set dev ${d2} mtu 1472 up\n`));
  t.equal(greTunnel.overhead(spec('gre')), 28);
});

t.test('geneve: VNI and port, 50 bytes overhead', async (t) => {
  const { ctx, runner } = fakeCtx(t);
  await geneveTunnel.ensure(ctx, spec('geneve', { vni: 4242, port: 6090, peers: spec('geneve').peers.slice(0, 1) }), view);
  const d2 = objectName('sn01', 'g', ['s1', 'geneve', 'h2']);
  t.match(batches(runner)[0], new RegExp(`^link add ${d2} type geneve id 4242 remote 198.18.0.2 ttl 64 dstport 6090\nlink set dev ${d2} mtu 1450 up\n`));
});

t.test('vxlan: FDB head-end replication to every peer', async (t) => {
  const { ctx, runner } = fakeCtx(t);
  await vxlanTunnel.ensure(ctx, spec('vxlan', { vni: 9 }), view);
  const fdb = runner.calls.find((c) => c.argv.join(' ') === 'bridge -n snhost1 -batch -');
  t.ok(fdb, 'fdb entries in one bridge -batch');
  t.match(fdb?.stdin, /fdb append 00:00:00:00:00:00 dev sn01x\w+ dst 198.18.0.2 self permanent\nfdb append 00:00:00:00:00:00 dev sn01x\w+ dst 198.18.0.3 self permanent\n/);
  t.match(batches(runner)[0], /^link add sn01x\w+ type vxlan id 9 local 198.18.0.1 dev eth0 dstport 4789 ttl 64\nlink set dev sn01x\w+ mtu 1450 up\naddr replace 198.18.1.1\/24 dev sn01x\w+\n$/);
});

t.test('forced variants that cannot work fail with MISSING_TOOL and the reason', async (t) => {
  const { ctx, runner } = fakeCtx(t);
  runner.on(/link add sn01probe type ipip/, { fail: 'NotSupported', stderr: 'Error: Unknown device type.' });
  await t.rejects(ipipTunnel.ensure(ctx, spec('ipip'), view), { code: 'MISSING_TOOL', message: /kernel lacks CONFIG_NET_IPIP \(ip link add type ipip: Error: Unknown device type\.\); use a full kernel/ });
  resetProbeCache();
  await t.rejects(greTunnel.ensure(ctx, spec('gre', { variant: 'VARIANT_USERSPACE' }), view), { code: 'MISSING_TOOL', field: 'state.tunnel.variant' });
  await t.rejects(ipipTunnel.ensure(ctx, spec('ipip', { overlayAddress: '198.18.1.1' }), view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.overlayAddress' });
  const bad = spec('ipip');
  bad.peers[1]!.routes = ['198.19.3.0/33'];
  await t.rejects(ipipTunnel.ensure(ctx, bad, view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.peers[1].routes[0]' });
  const outside = spec('vxlan');
  outside.peers[0]!.overlayAddress = '198.18.2.2';
  await t.rejects(vxlanTunnel.ensure(ctx, outside, view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.peers[0].overlayAddress' });
  const name = spec('ipip');
  name.peers[0]!.name = 'h2; rm -rf /';
  await t.rejects(ipipTunnel.ensure(ctx, name, view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.peers[0].name' });
});

t.test('ipsec kernel: charon with kernel-netlink, an xfrm interface, PSK only in a 0600 file', async (t) => {
  const { ctx, runner, journal } = fakeCtx(t);
  const psk = generateTunnelSecrets('ipsec', ['h1']).h1!.preSharedKey;
  const s = spec('ipsec', { variant: 'VARIANT_KERNEL', vni: 31, secrets: { privateKey: '', preSharedKey: psk }, peers: spec('ipsec').peers.slice(0, 1) });
  const r = await ipsecTunnel.ensure(ctx, s, view);
  t.equal(r.variant, 'kernel');
  const dev = ipsecXfrmDevice('sn01', 's1');
  const lines = runner.lines();
  t.ok(lines.includes(`ip -n snhost1 link add ${dev} type xfrm dev eth0 if_id 31`), 'xfrm interface bound to the if_id');
  t.ok(lines.some((l) => /^unshare --mount --propagation private sleep 30$/.test(l)), 'private mount namespace holder');
  t.ok(lines.some((l) => /^nsenter --mount=\/proc\/\d+\/ns\/mnt mount --bind \/tmp\/snkrun-[\w.-]+\/sn01d\w+\/ipsec\/run \/run$/.test(l)), 'its /run is the scope run directory');
  t.ok(lines.some((l) => /^nsenter --mount=\/proc\/\d+\/ns\/mnt --net=\/run\/netns\/snhost1 \/usr\/lib\/ipsec\/charon$/.test(l)), 'charon enters the host namespace');
  t.ok(lines.some((l) => /^swanctl --load-all --noprompt --file \/tmp\/snkrun-[\w.-]+\/sn01d\w+\/ipsec\/swanctl.conf --uri unix:\/\/\/tmp\/snkrun-[\w.-]+\/sn01d\w+\/ipsec\/run\/charon.vici$/.test(l)));
  t.notOk(lines.some((l) => l.includes(psk)), 'PSK never on a command line');
  t.equal(batches(runner).at(-1), `link set dev ${dev} mtu 1427 up\naddr replace 198.18.1.1/24 dev ${dev}\nroute replace 198.19.2.0/24 via 198.18.1.2 dev ${dev} onlink\n`);
  const confPath = journal.objects().flatMap((o) => (o.type === 'path' && o.path.endsWith('swanctl.conf') ? [o.path] : []))[0]!;
  const conf = await readFile(confPath, 'utf8');
  t.match(conf, /if_id_in = 31\n\s+if_id_out = 31/);
  t.match(conf, /encap = no/);
  t.match(conf, /local_ts = 198\.18\.1\.1\/32, 198\.19\.1\.0\/24/);
  t.match(conf, /remote_ts = 198\.18\.1\.2\/32, 198\.19\.2\.0\/24/);
  t.match(conf, /esp_proposals = aes256gcm16/);
  t.match(conf, new RegExp(`secret = 0x${psk}`));
  const strongswan = await readFile(confPath.replace(/swanctl\.conf$/, 'run/strongswan.conf'), 'utf8');
  t.match(strongswan, /load = [^\n]*kernel-netlink/);
  t.notMatch(strongswan, /kernel-libipsec/);
  const types = journal.objects().map((o) => o.type);
  t.ok(types.indexOf('link') < types.indexOf('process'), 'xfrm link journalled before charon starts');
  t.equal(ipsecTunnel.overhead(s), 73);
  t.equal(ipsecTunnel.overhead({ ...s, variant: 'VARIANT_USERSPACE' }), 100);
  await t.rejects(ipsecTunnel.ensure(ctx, { ...s, cipher: 'des' }, view), { code: 'INVALID_ARGUMENT', field: 'state.tunnel.cipher' });
});

// Real probes and, where this kernel has the feature, the real scenario.
const probeCtx = { env: { prefix: 'snkp' } as HostEnv, runner: new ExecRunner(), log: pino({ level: 'silent' }) };
const kernelKinds: Array<[TunnelDriver, RegExp]> = [
  [ipipTunnel, /kernel lacks CONFIG_NET_IPIP \(ip link add type ipip: .+\); use a full kernel \(e.g. the full-kernel lab\)$/],
  [greTunnel, /kernel lacks CONFIG_NET_IPGRE/],
  [geneveTunnel, /kernel lacks CONFIG_GENEVE/],
  [wireguardTunnel, /kernel lacks CONFIG_WIREGUARD/],
  [ipsecTunnel, /kernel lacks (CONFIG_XFRM_INTERFACE|ESP)/],
];
for (const [driver, reason] of kernelKinds) {
  t.test(`${driver.kind} kernel variant on this machine`, async (t) => {
    if (!requireRoot(t, 'network namespaces')) return;
    resetProbeCache();
    const caps = await driver.probe(probeCtx);
    const k = caps.find((c) => c.variant === 'kernel')!;
    t.equal(k.category, 'tunnel');
    if (!k.available) {
      t.match(k.reason, reason, `probe explains: ${k.reason}`);
      t.pass(`real ${driver.kind} kernel scenario`, { skip: k.reason });
      return;
    }
    t.equal(k.reason, '');
    const wg = generateTunnelSecrets(driver.kind === 'wireguard' ? 'wireguard' : 'ipsec', ['h1', 'h2']);
    await tunnelScenario(t, driver, {
      variant: 'VARIANT_KERNEL',
      expectVariant: 'kernel',
      secrets: (i) => ({ privateKey: wg[`h${i + 1}`]!.privateKey, preSharedKey: wg[`h${i + 1}`]!.preSharedKey }),
      publicKey: (i) => wg[`h${i + 1}`]!.publicKey,
      device: (h) =>
        driver.kind === 'wireguard' ? wireguardDevice(h.host.prefix, h.journal.scope)
        : driver.kind === 'ipsec' ? ipsecXfrmDevice(h.host.prefix, h.journal.scope)
        : objectName(h.host.prefix, driver.kind === 'ipip' ? 'p' : 'g', [h.journal.scope, driver.kind, h.host.index === 1 ? 'h2' : 'h1']),
    });
  });
}
