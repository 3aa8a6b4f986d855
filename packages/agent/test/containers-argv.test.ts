import t from 'tap';
import type { DriverContext } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { containerHandle, containerMac, ensureContainers, hostVethMac } from '../src/netns/containers.js';
import { FakeRunner } from '../src/testing.js';
import { bridgeDriver, bridgeName } from '../src/solutions/bridge.js';
import { routingDriver } from '../src/solutions/routing.js';
import { silentLogger } from './helpers/two-hosts.js';

const env: HostEnv = { name: 'h1', prefix: 'snab', hostNetns: 'snlbxh1', stateDir: '/tmp/x/state', runDir: '/tmp/x/run', bpffs: '/tmp/x/bpf', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const specs = [
  { name: 'c1', address: '198.19.1.2' },
  { name: 'c2', address: '198.19.1.3' },
];

function ctx(runner: FakeRunner): DriverContext {
  return { env, runner, journal: new MemoryJournal('s1'), log: silentLogger(), scope: 's1' };
}

function fresh(): FakeRunner {
  return new FakeRunner().on('netns list', { stdout: '' }).on('-j link show', { stdout: '[]' }).on('-j route show', { stdout: '[]' }).on('sysctl -n', { stdout: '0\n' });
}

t.test('ensureContainers: three batches plus one per container, journal first', async (t) => {
  const r = fresh();
  const c = ctx(r);
  const hs = await ensureContainers(c, specs, 1400);
  const [h1, h2] = hs;
  t.equal(h1!.iface, 'eth0');
  t.equal(h1!.mac, containerMac('snab', 's1', 'c1'));
  t.match(h1!.mac, /^02(:[0-9a-f]{2}){5}$/);
  const calls = r.calls.map((x) => ({ argv: x.argv.join(' '), stdin: x.stdin ?? '' }));
  t.same(calls.slice(2), [
    { argv: 'ip -batch -', stdin: `netns add ${h1!.netns}\nnetns add ${h2!.netns}\n` },
    {
      argv: 'ip -n snlbxh1 -batch -',
      stdin:
        `link add ${h1!.hostIface} address ${hostVethMac('snab', 's1', 'c1')} mtu 1400 type veth peer name eth0 address ${h1!.mac} mtu 1400 netns ${h1!.netns}\n` +
        `link add ${h2!.hostIface} address ${hostVethMac('snab', 's1', 'c2')} mtu 1400 type veth peer name eth0 address ${h2!.mac} mtu 1400 netns ${h2!.netns}\n` +
        `link set dev ${h1!.hostIface} addrgenmode none\nlink set dev ${h1!.hostIface} mtu 1400 up\nlink set dev ${h2!.hostIface} addrgenmode none\nlink set dev ${h2!.hostIface} mtu 1400 up\n`,
    },
    { argv: `ip -n ${h1!.netns} -batch -`, stdin: 'link set dev lo up\nlink set dev eth0 addrgenmode none\nlink set dev eth0 mtu 1400 up\n' },
    { argv: `ip -n ${h2!.netns} -batch -`, stdin: 'link set dev lo up\nlink set dev eth0 addrgenmode none\nlink set dev eth0 mtu 1400 up\n' },
  ]);
  t.same(c.journal.objects(), [
    { type: 'netns', name: h1!.netns },
    { type: 'netns', name: h2!.netns },
    { type: 'link', name: h1!.hostIface, peerNetns: h1!.netns },
    { type: 'link', name: h2!.hostIface, peerNetns: h2!.netns },
  ]);
  await t.rejects(ensureContainers(c, specs, 100), /MTU/);
  await t.rejects(ensureContainers(c, [{ name: 'c1', address: '198.19.1.2\nnetns del x' }], 1500), { code: 'INVALID_ARGUMENT', field: 'containers[0].address' });
  const lean = fresh();
  await ensureContainers(ctx(lean), specs, 1400, { containerSide: false });
  t.equal(lean.calls.filter((x) => x.argv.includes('-batch')).length, 2, 'containerSide false: only the namespace and host batches');
});

t.test('ensureContainers keeps what exists and recreates a veth left without its namespace', async (t) => {
  const h1 = containerHandle('snab', 's1', specs[0]!);
  const h2 = containerHandle('snab', 's1', specs[1]!);
  const r = new FakeRunner()
    .on('netns list', { stdout: `${h1.netns} (id: 3)\n` })
    .on('-j link show', { stdout: JSON.stringify([{ ifname: h1.hostIface, ifindex: 5, mtu: 1500, flags: ['UP'], linkinfo: { info_kind: 'veth' } }, { ifname: h2.hostIface, ifindex: 6, mtu: 1500 }]) });
  await ensureContainers(ctx(r), specs, 1500);
  const batches = r.calls.filter((x) => x.argv.includes('-batch')).map((x) => x.stdin ?? '');
  t.equal(batches[0], `netns add ${h2.netns}\n`);
  t.match(batches[1], new RegExp(`^link del dev ${h2.hostIface}\nlink add ${h2.hostIface} `));
  t.notMatch(batches[1], new RegExp(`link add ${h1.hostIface}`));
});

t.test('bridge: one host batch, one batch per container, forwarding on', async (t) => {
  const r = fresh();
  const c = ctx(r);
  const hs = specs.map((s) => containerHandle('snab', 's1', s));
  const { view, result } = await bridgeDriver.ensure(c, '198.19.1.0/24', hs, 1500);
  const br = bridgeName('snab', 's1');
  t.equal(view.bridge, br);
  t.equal(view.gateway, '198.19.1.1');
  t.equal(result.changed, true);
  t.same(r.lines().slice(1), [
    'ip -n snlbxh1 -batch -',
    '[snlbxh1] sysctl -n net.ipv4.ip_forward',
    '[snlbxh1] sysctl -q -w net.ipv4.ip_forward=1',
    `ip -n ${hs[0]!.netns} -batch -`,
    `ip -n ${hs[1]!.netns} -batch -`,
  ]);
  t.equal(r.calls[1]!.stdin, `link add ${br} type bridge\naddr replace 198.19.1.1/24 dev ${br}\nlink set dev ${br} up\nlink set dev ${hs[0]!.hostIface} master ${br} up\nlink set dev ${hs[1]!.hostIface} master ${br} up\n`);
  t.equal(r.calls[4]!.stdin, 'link set dev lo up\nlink set dev eth0 addrgenmode none\nlink set dev eth0 mtu 1500 up\naddr replace 198.19.1.2/24 dev eth0\nroute replace default via 198.19.1.1 dev eth0\n');
  t.same(c.journal.objects(), [{ type: 'link', name: br }, { type: 'sysctl', key: 'net.ipv4.ip_forward', previous: '0', restore: false }]);

  const wrong = fresh().on('-j link show', { stdout: JSON.stringify([{ ifname: br, ifindex: 3, mtu: 1500, linkinfo: { info_kind: 'vxlan' } }]) });
  await t.rejects(bridgeDriver.ensure(ctx(wrong), '198.19.1.0/24', hs, 1500), /not a bridge/);
});

t.test('routing: /32 host routes, proxy-ARP sysctls in one call, pinned gateway neighbour', async (t) => {
  const r = fresh();
  const hs = specs.map((s) => containerHandle('snab', 's1', s));
  const { view } = await routingDriver.ensure(ctx(r), '198.19.1.0/24', hs, 1500);
  t.equal(view.gateway, '169.254.1.1');
  t.equal(view.bridge, undefined);
  t.same(r.lines().slice(1, 3), ['ip -n snlbxh1 -batch -', `[snlbxh1] sysctl -q -w net.ipv4.conf.${hs[0]!.hostIface}.proxy_arp=1 net.ipv4.neigh.${hs[0]!.hostIface}.proxy_delay=0 net.ipv4.conf.${hs[1]!.hostIface}.proxy_arp=1 net.ipv4.neigh.${hs[1]!.hostIface}.proxy_delay=0`]);
  t.equal(r.calls[1]!.stdin, `route replace 198.19.1.2/32 dev ${hs[0]!.hostIface} scope link\nroute replace 198.19.1.3/32 dev ${hs[1]!.hostIface} scope link\n`);
  const c1 = r.calls.find((x) => x.argv.includes(hs[0]!.netns))!;
  t.equal(c1.stdin, `link set dev lo up\nlink set dev eth0 addrgenmode none\nlink set dev eth0 mtu 1500 up\naddr replace 198.19.1.2/32 dev eth0\nneigh replace 169.254.1.1 lladdr ${hostVethMac('snab', 's1', 'c1')} dev eth0 nud permanent\nroute replace default via 169.254.1.1 dev eth0 onlink\n`);
});
