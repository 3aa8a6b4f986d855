import t from 'tap';
import { noneTunnel } from '../src/tunnels/none.js';
import { isRoot, tunnelScenario } from './tunnel-harness.js';

t.test('none: container networks routed over the underlay', { skip: isRoot ? false : 'needs root for network namespaces' }, async (t) => {
  t.equal(noneTunnel.overhead({} as never), 0);
  await tunnelScenario(t, noneTunnel, { expectVariant: 'kernel', noOverlay: true, device: (h) => h.host.underlayDev });
});
