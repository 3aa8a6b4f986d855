// The OpenFlow filter on the scope's OVS bridge (userspace datapath in this lab), and its
// refusal on networks without OVS.

import t from 'tap';
import { OvsFilter, parseDump, scopeCookie } from '../src/filters/ovs.js';
import { mgmtSocket } from '../src/ovs/switch.js';
import { crossHostScenario, filterScenario } from './filter-fixture.js';
import type { DriverContext, NetworkView } from '../src/driver.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const driver = new OvsFilter();

async function flows(ctx: DriverContext, view: NetworkView): Promise<string> {
  const mgmt = `unix:${mgmtSocket(view.ovsdb!, view.bridge!)}`;
  const r = await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', '--no-stats', mgmt], { netns: ctx.env.hostNetns });
  return r.stdout;
}

t.test('ovs filter on the ovs network', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await filterScenario(t, driver, 'ovs', {
    async snapshot(ctx, view) {
      return (await flows(ctx, view)).split('\n').sort().join('\n');
    },
    async remains(ctx, view) {
      try {
        // parseDump restores the leading zeros ovs-ofctl drops (a cookie may start with 0).
        return parseDump(await flows(ctx, view)).some((f) => f.cookie.startsWith(`0x${scopeCookie(ctx.env.prefix, ctx.scope)}`));
      } catch {
        return false; // the bridge (and its management socket) is gone
      }
    },
    undoWithNetwork: true,
  });
});

t.test(`${driver.kind} between two hosts on ovs`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'ovs');
});
