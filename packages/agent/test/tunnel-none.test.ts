import t from 'tap';
import { noneTunnel } from '../src/tunnels/none.js';
import { tunnelScenario } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

t.test('none: container networks routed over the underlay', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  t.equal(noneTunnel.overhead({} as never), 0);
  await tunnelScenario(t, noneTunnel, { expectVariant: 'kernel', noOverlay: true, device: (h) => h.host.underlayDev });
});
