// The nftables filter in a real lab host, on a bridged and on a routed network.

import t from 'tap';
import { NftablesFilter, nftTable } from '../src/filters/nftables.js';
import { crossHostScenario, filterScenario } from './filter-fixture.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const driver = new NftablesFilter();
for (const network of ['bridge', 'routing']) {
  t.test(`nftables on ${network}`, async (t) => {
    if (!requireRoot(t, 'network namespaces')) return;
    await filterScenario(t, driver, network, {
      async snapshot(ctx) {
        return (await ctx.runner.run(['nft', 'list', 'table', 'inet', nftTable(ctx.env.prefix, ctx.scope)], { netns: ctx.env.hostNetns })).stdout;
      },
      async remains(ctx) {
        return (await ctx.runner.run(['nft', 'list', 'tables'], { netns: ctx.env.hostNetns })).stdout.includes(nftTable(ctx.env.prefix, ctx.scope));
      },
      bridgeNetfilter: true,
    });
  });
}

t.test('nftables probe loads a table in a throwaway namespace', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { ExecRunner } = await import('../src/runner/runner.js');
  const { silentLogger } = await import('./helpers/two-hosts.js');
  const env = { name: 'p', prefix: 'snpr', hostNetns: undefined, stateDir: '/nonexistent', runDir: '/nonexistent', bpffs: '/nonexistent', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const [cap] = await driver.probe({ env, runner: new ExecRunner(), log: silentLogger() });
  t.match(cap, { category: 'filter', kind: 'nftables', variant: 'kernel', available: true, version: /nftables v\d/ });
});

t.test(`${driver.kind} between two hosts on routing`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'routing');
});

t.test(`${driver.kind} between two hosts on ovs (cross-host traffic crosses netfilter)`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'ovs');
});
