// The nftables filter in a real lab host, on a bridged and on a routed network.

import t from 'tap';
import { NftablesFilter, nftTable } from '../src/filters/nftables.js';
import { filterScenario, isRoot } from './filter-fixture.js';

const driver = new NftablesFilter();
for (const network of ['bridge', 'routing']) {
  t.test(`nftables on ${network}`, { skip: isRoot ? false : 'needs root for network namespaces' }, async (t) => {
    await filterScenario(t, driver, network, {
      async snapshot(ctx) {
        return (await ctx.runner.run(['nft', 'list', 'table', 'inet', nftTable(ctx.env.prefix, ctx.scope)], { netns: ctx.env.hostNetns })).stdout;
      },
      async remains(ctx) {
        return (await ctx.runner.run(['nft', 'list', 'tables'], { netns: ctx.env.hostNetns })).stdout.includes(nftTable(ctx.env.prefix, ctx.scope));
      },
    });
  });
}
