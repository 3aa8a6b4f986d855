import t from 'tap';
import { generateTunnelSecrets } from '@seconet/core';
import { openvpnDevice, openvpnPort, openvpnTunnel } from '../src/tunnels/openvpn.js';
import { processStartTime, teardownObjects } from '../src/journal/undo.js';
import { links, makeRig, ping, pingEventually, specFor, tunnelScenario, type HostRig } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const psk = generateTunnelSecrets('openvpn', ['h1', 'h2']).h1!.preSharedKey;

t.test('openvpn (userspace, static key, AES-256-CBC + HMAC-SHA1) between two lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, openvpnTunnel, {
    expectVariant: 'userspace',
    secrets: () => ({ privateKey: '', preSharedKey: psk }),
    device: (h) => openvpnDevice(h.host.prefix, h.journal.scope, h.host.index === 1 ? 'h2' : 'h1'),
    secretsToHide: [psk.split('\n')[4]!],
  });
});

t.test('openvpn across three lab hosts: one process and port per peer', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, openvpnTunnel, {
    hosts: 3,
    expectVariant: 'userspace',
    secrets: () => ({ privateKey: '', preSharedKey: psk }),
    device: (h) => openvpnDevice(h.host.prefix, h.journal.scope, 'h2'),
  });
});

t.test('openvpn pair ports are symmetric and distinct per peer', async (t) => {
  t.equal(openvpnPort(1194, '198.18.1.1', '198.18.1.2'), openvpnPort(1194, '198.18.1.2', '198.18.1.1'));
  const ports = ['198.18.1.2', '198.18.1.3', '198.18.1.4', '198.18.1.200'].map((p) => openvpnPort(1194, '198.18.1.1', p));
  t.equal(new Set(ports).size, ports.length);
});

t.test('openvpn: a peer that leaves loses its process, device and routes', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const rig = await makeRig(t, 'tun-leave', 3);
  const [a, b, c] = rig.hosts as [HostRig, HostRig, HostRig];
  t.teardown(async () => {
    for (const h of rig.hosts) await teardownObjects({ runner: rig.runner, env: h.ctx.env }, h.journal);
  });
  const o = { secrets: () => ({ privateKey: '', preSharedKey: psk }) };
  const specs = rig.hosts.map((_, i) => specFor(rig, 'openvpn', i, o));
  await Promise.all(rig.hosts.map((h, i) => openvpnTunnel.ensure(h.ctx, specs[i]!, h.view)));
  t.ok(await pingEventually(rig, a, c.containerGw, { src: a.containerGw }), 'a reaches c');
  const devC = openvpnDevice(a.host.prefix, 'tun-leave', 'h3');
  const procC = a.journal.objects().find((x) => x.type === 'process' && x.what === `openvpn ${devC}`);
  t.ok(procC, 'a runs one openvpn for c');

  const onlyB = { ...specs[0]!, peers: specs[0]!.peers.filter((p) => p.name === 'h2') };
  const r = await openvpnTunnel.ensure(a.ctx, onlyB, a.view);
  t.equal(r.changed, true);
  t.notOk((await links(rig, a)).includes(devC), 'c device removed');
  if (procC?.type === 'process') t.not(processStartTime(procC.pid), procC.startTime, 'c process ended');
  t.notOk(a.journal.objects().some((x) => x.type === 'process' && x.what === `openvpn ${devC}`), 'c process forgotten');
  const routes = await rig.runner.run(['ip', '-n', a.host.netns, '-j', 'route', 'show']);
  t.notOk((JSON.parse(routes.stdout) as Array<{ dst: string }>).some((x) => x.dst === '198.19.3.0/24'), 'route to c removed');
  t.ok(await ping(rig, a, b.containerGw, { src: a.containerGw }), 'a still reaches b');
  t.same(await openvpnTunnel.check(a.ctx, onlyB, a.view), [], 'no drift');
});
