// The BPF filter in a real lab host, on the bridge, routing and bpf networks: tc ingress (prio 1)
// on the containers' host-side veths, allowed pairs in a pinned hash map; on the bpf network it
// runs before the redirect program (prio 10), which must keep working for allowed pairs.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { BpfFilter, FILTER_OBJECT, bpfPins } from '../src/filters/bpf.js';
import { ExecRunner } from '../src/runner/runner.js';
import { crossHostScenario, filterScenario } from './filter-fixture.js';
import { isRoot, requireRoot } from '../../../test/helpers/requirements.js';

const driver = new BpfFilter();

t.before(async () => {
  if (isRoot && !existsSync(FILTER_OBJECT)) await new ExecRunner().run(['make', '-s', '-C', fileURLToPath(new URL('../bpf', import.meta.url))]);
});

for (const network of ['bridge', 'routing', 'bpf']) {
  t.test(`bpf on ${network}`, async (t) => {
    if (!requireRoot(t, 'network namespaces and BPF')) return;
    await filterScenario(t, driver, network, {
      async snapshot(ctx, view) {
        const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, ctx.scope);
        const dump = (await ctx.runner.run(['bpftool', '-j', 'map', 'dump', 'pinned', pins.allow])).stdout;
        const keys = (JSON.parse(dump) as Array<{ key: unknown }>).map((e) => JSON.stringify(e.key)).sort();
        const tc = await Promise.all(view.containers.map((c) => ctx.runner.run(['tc', 'filter', 'show', 'dev', c.hostIface, 'ingress'], { netns: ctx.env.hostNetns })));
        const cfg = (await ctx.runner.run(['bpftool', '-j', 'map', 'dump', 'pinned', pins.config])).stdout;
        return JSON.stringify({ n: keys.length, keys, cfg, tc: tc.map((r) => r.stdout) });
      },
      async remains(ctx, view) {
        const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, ctx.scope);
        if (existsSync(pins.dir)) return true;
        for (const c of view.containers) {
          const r = await ctx.runner.run(['tc', 'filter', 'show', 'dev', c.hostIface, 'ingress'], { netns: ctx.env.hostNetns }).catch(() => ({ stdout: '' }));
          if (r.stdout.includes('seconet_filter')) return true;
        }
        return false;
      },
      // On the bpf network the clsact qdisc is the network's (the journal has no per-filter tc object): the prio-1 filter goes with the veths.
      undoWithNetwork: network === 'bpf',
    });
  });
}

t.test('bpf probe loads and attaches the program in a throwaway namespace, also when probes run at once', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { silentLogger } = await import('./helpers/two-hosts.js');
  const runner = new ExecRunner();
  const root = mkdtempSync(join(tmpdir(), 'seconet-bpfprobe-'));
  const bpffs = join(root, 'bpf');
  t.teardown(async () => {
    await runner.run(['umount', bpffs]).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  });
  const env = { name: 'p', prefix: 'snpr', hostNetns: undefined, stateDir: root, runDir: root, bpffs, underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const [cap] = await driver.probe({ env, runner, log: silentLogger() });
  t.match(cap, { category: 'filter', kind: 'bpf', available: true, version: /bpftool v/ });
  // GetInfo and the per-kind cache probe at the same time in an agent; with one pin directory
  // per process the first probe's cleanup removed the program the other was attaching.
  const at = await Promise.all([0, 1, 2, 3].map(() => driver.probe({ env, runner, log: silentLogger() })));
  t.same(at.map(([c]) => c!.available ? 'available' : c!.reason), ['available', 'available', 'available', 'available'], 'four probes at once all load and attach');
  const { readdirSync } = await import('node:fs');
  t.same(readdirSync(bpffs).filter((n) => n.startsWith('snpr')), [], 'the probes leave no pins behind');
});

t.test(`${driver.kind} between two hosts on routing`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await crossHostScenario(t, driver, 'routing');
});
