import t from 'tap';
import { generateTunnelSecrets } from '@seconet/core';
import { tincDevice, tincTunnel } from '../src/tunnels/tinc.js';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const keys = generateTunnelSecrets('tinc', ['h1', 'h2', 'h3']);
const byIndex = (i: number): (typeof keys)[string] => keys[`h${i + 1}`]!;

t.test('tinc 1.0 (router mode, userspace) between two lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, tincTunnel, {
    expectVariant: 'userspace',
    secrets: (i) => ({ privateKey: byIndex(i).privateKey, preSharedKey: '' }),
    publicKey: (i) => byIndex(i).publicKey,
    device: (h) => tincDevice(h.host.prefix, h.journal.scope),
    secretsToHide: [byIndex(0).privateKey.split('\n')[3]!, byIndex(1).privateKey.split('\n')[3]!],
  });
});

t.test('tinc mesh of three lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await tunnelScenario(t, tincTunnel, {
    hosts: 3,
    expectVariant: 'userspace',
    secrets: (i) => ({ privateKey: byIndex(i).privateKey, preSharedKey: '' }),
    publicKey: (i) => byIndex(i).publicKey,
    device: (h) => tincDevice(h.host.prefix, h.journal.scope),
  });
});
