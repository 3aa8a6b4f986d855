import t from 'tap';
import { generateTunnelSecrets } from '@seconet/core';
import { ipsecTunnel } from '../src/tunnels/ipsec.js';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const psk = generateTunnelSecrets('ipsec', ['h1', 'h2', 'h3']).h1!.preSharedKey;

t.test('ipsec userspace (charon + kernel-libipsec, ESP in UDP) between two lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, ipsecTunnel, {
    variant: 'VARIANT_USERSPACE',
    expectVariant: 'userspace',
    secrets: () => ({ privateKey: '', preSharedKey: psk }),
    device: () => 'ipsec0',
    secretsToHide: [psk],
  });
});

t.test('ipsec userspace across three lab hosts (one IKE connection per peer)', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, ipsecTunnel, {
    hosts: 3,
    variant: 'VARIANT_USERSPACE',
    expectVariant: 'userspace',
    secrets: () => ({ privateKey: '', preSharedKey: psk }),
    device: () => 'ipsec0',
  });
});
