// The iptables filter in a real lab host, on a bridged and on a routed network.

import t from 'tap';
import { IptablesFilter, iptablesChain } from '../src/filters/iptables.js';
import { crossHostScenario, filterScenario } from './filter-fixture.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const driver = new IptablesFilter();
for (const network of ['bridge', 'routing']) {
  t.test(`iptables on ${network}`, async (t) => {
    if (!requireRoot(t, 'network namespaces')) return;
    await filterScenario(t, driver, network, {
      async snapshot(ctx) {
        const r = await ctx.runner.run(['iptables-save', '-t', 'filter'], { netns: ctx.env.hostNetns });
        return r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n');
      },
      async remains(ctx) {
        const r = await ctx.runner.run(['iptables-save', '-t', 'filter'], { netns: ctx.env.hostNetns });
        return r.stdout.includes(iptablesChain(ctx.env.prefix, ctx.scope));
      },
      bridgeNetfilter: true,
    });
  });
}

t.test('iptables probe loads a chain in a throwaway namespace', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { ExecRunner } = await import('../src/runner/runner.js');
  const { silentLogger } = await import('./helpers/two-hosts.js');
  const env = { name: 'p', prefix: 'snpr', hostNetns: undefined, stateDir: '/nonexistent', runDir: '/nonexistent', bpffs: '/nonexistent', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const [cap] = await driver.probe({ env, runner: new ExecRunner(), log: silentLogger() });
  t.match(cap, { category: 'filter', kind: 'iptables', available: true, version: /iptables v\d.*\((nf_tables|legacy)\)/ });
});

t.test(`${driver.kind} between two hosts on routing`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'routing');
});

t.test(`${driver.kind} between two hosts on bpf (cross-host traffic crosses netfilter)`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'bpf');
});
