import t from 'tap';
import { vxlanDevice, vxlanTunnel } from '../src/tunnels/vxlan.js';
import { noneTunnel } from '../src/tunnels/none.js';
import { isRoot, tunnelScenario } from './tunnel-harness.js';

const skip = isRoot ? false : 'needs root for network namespaces';

t.test('vxlan (kernel) between two lab hosts', { skip }, async (t) => {
  const caps = await vxlanTunnel.probe({ env: { prefix: 'snzz' } as never, runner: new (await import('../src/runner/runner.js')).ExecRunner(), log: undefined as never });
  t.equal(caps.find((c) => c.variant === 'kernel')?.available, true, 'probe: kernel VXLAN works here');
  await tunnelScenario(t, vxlanTunnel, { expectVariant: 'kernel', device: (h) => vxlanDevice(h.host.prefix, h.journal.scope) });
});
