import t from 'tap';
import pino from 'pino';
import type { HostEnv } from '../src/host-env.js';
import { ExecRunner } from '../src/runner/runner.js';
import { vxlanDevice, vxlanTunnel } from '../src/tunnels/vxlan.js';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


t.test('vxlan (kernel) between two lab hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const caps = await vxlanTunnel.probe({ env: { prefix: 'snzz' } as HostEnv, runner: new ExecRunner(), log: pino({ level: 'silent' }) });
  t.equal(caps.find((c) => c.variant === 'kernel')?.available, true, 'probe: kernel VXLAN works here');
  t.equal(caps.find((c) => c.variant === 'userspace')?.available, false, 'no userspace VXLAN in this driver');
  await tunnelScenario(t, vxlanTunnel, { expectVariant: 'kernel', device: (h) => vxlanDevice(h.host.prefix, h.journal.scope) });
});
