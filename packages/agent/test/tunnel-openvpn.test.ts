import t from 'tap';
import { generateTunnelSecrets } from '@seconet/core';
import { openvpnDevice, openvpnPort, openvpnTunnel } from '../src/tunnels/openvpn.js';
import { isRoot, tunnelScenario } from './tunnel-harness.js';

const psk = generateTunnelSecrets('openvpn', ['h1', 'h2']).h1!.preSharedKey;

t.test('openvpn (userspace, static key, AES-256-CBC + HMAC-SHA1) between two lab hosts', { skip: isRoot ? false : 'needs root for network namespaces' }, async (t) => {
  await tunnelScenario(t, openvpnTunnel, {
    expectVariant: 'userspace',
    secrets: () => ({ privateKey: '', preSharedKey: psk }),
    device: (h) => openvpnDevice(h.host.prefix, h.journal.scope, h.host.index === 1 ? 'h2' : 'h1'),
    secretsToHide: [psk.split('\n')[4]!],
  });
});

t.test('openvpn across three lab hosts: one process and port per peer', { skip: isRoot ? false : 'needs root for network namespaces' }, async (t) => {
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
