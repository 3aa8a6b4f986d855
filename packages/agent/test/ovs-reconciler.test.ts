// The ovs network and the OpenFlow filter through the reconciler (what Apply runs): apply with
// isolation, a no-op apply, a GC that keeps the scope (what a restarted agent runs at start)
// leaving the bridge's internal port alone, a changed rule count re-ensuring only the filter,
// Check noticing a lost bridge port, teardown (twice), and no daemon, bridge tap or run
// directory left behind.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { containerCidr } from '@seconet/core';
import { processStartTime } from '../src/journal/undo.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { listLinks } from '../src/netns/ip-batch.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { ExecRunner } from '../src/runner/runner.js';
import { ovsBridgeName } from '../src/solutions/ovs.js';
import { hostEnvFor, ping, silentLogger } from './helpers/two-hosts.js';
import { applyRequest } from './helpers/requests.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


t.test('ovs network + ovs filter through Apply, no-op Apply, filter change, Teardown', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const runner = new ExecRunner();
  const dir = mkdtempSync(join(tmpdir(), 'seconet-ovsrec-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const env = hostEnvFor(topo.hosts[0]!, dir);
  const rec = await createReconciler({ env, runner, log: silentLogger() });
  t.teardown(async () => {
    await rec.gc({ requestId: 'cleanup', keepScopes: [] }).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(dir, { recursive: true, force: true });
  });
  const hns = topo.hosts[0]!.netns;
  const cidr = containerCidr(1);
  const filter = (extraRules: number) => ({ kind: 'ovs', guarded: [cidr], allow: [{ src: '198.19.1.2', dst: '198.19.1.3' }], extraRules, ruleMatch: '' });
  const req = (extraRules: number) => applyRequest('cell-o', { network: 'ovs', containers: 4, filter: filter(extraRules) });

  const first = await rec.apply(req(10));
  t.same(first.timings!.map((x) => x.component), ['containers', 'network', 'filter']);
  t.equal(first.filterVariant, 'VARIANT_USERSPACE', 'the OpenFlow filter runs on the userspace datapath here');
  t.match(first.filterVersion, /Open vSwitch/);
  const [c1, c2, c3, c4] = first.containers!;
  t.ok(await ping(runner, c1!.netns!, c2!.address!), 'allowed c1 -> c2');
  t.ok(await ping(runner, c2!.netns!, c1!.address!), 'allowed c2 -> c1');
  t.notOk(await ping(runner, c3!.netns!, c4!.address!, { count: 2, timeoutS: 1 }), 'denied c3 -> c4');

  const again = await rec.apply(req(10));
  t.equal(again.changed, false, 'same state: no-op');
  t.same(await rec.check({ scope: 'cell-o' }), { inSync: true, drifts: [], known: true });
  const br = ovsBridgeName(env.prefix, 'cell-o');
  const kept = await rec.gc({ requestId: 'keep', keepScopes: ['cell-o'] });
  t.same(kept.removed, [], 'a GC that keeps the scope removes nothing of it (the bridge\'s internal port is its ovs-bridge)');
  t.ok((await listLinks(runner, hns)).has(br), 'the bridge\'s internal port is still there');
  t.ok(await ping(runner, c1!.netns!, c2!.address!), 'allowed c1 -> c2 after the GC');

  const more = await rec.apply(req(500));
  t.same(more.timings!.map((x) => x.component), ['filter'], 'a changed rule count re-ensures only the filter');
  t.notOk(await ping(runner, c4!.netns!, c3!.address!, { count: 2, timeoutS: 1 }), 'denied c4 -> c3 with 500 extra rules');
  t.ok(await ping(runner, c1!.netns!, c2!.address!), 'allowed c1 -> c2 with 500 extra rules');

  await runner.run(['ip', '-n', hns, 'link', 'del', br]);
  t.same((await rec.check({ scope: 'cell-o' })).drifts, [{ object: `link ${br}`, expected: 'present', observed: 'missing' }], 'Check reports a lost bridge port');

  const scopeDirs = readdirSync(env.runDir);
  t.equal(scopeDirs.length, 1, 'one scope directory holds the switch');
  const run = join(env.runDir, scopeDirs[0]!, 'ovs', 'run');
  const pids = ['ovsdb-server', 'ovs-vswitchd'].map((w) => Number(readFileSync(join(run, `${w}.pid`), 'utf8').trim()));
  const starts = pids.map((p) => processStartTime(p));
  t.ok(starts.every((s) => s !== undefined), 'both daemons run');

  const down = await rec.teardown({ requestId: 'td', scope: 'cell-o' });
  t.ok(down.removed!.some((r) => r.startsWith('process ')), 'teardown stops the daemons');
  t.same(pids.map((p, i) => processStartTime(p) === starts[i]), [false, false], 'no daemon left');
  const links = [...(await listLinks(runner, hns)).keys()];
  t.notOk(links.includes(ovsBridgeName(env.prefix, 'cell-o')), 'no bridge tap left');
  t.same(links.filter((l) => l.startsWith('ovs')), [], 'no datapath device (ovs-netdev) left');
  t.same(readdirSync(env.runDir), [], 'no run directory left');
  t.notOk(existsSync(join(run, 'db.sock')));
  await rec.teardown({ requestId: 'td2', scope: 'cell-o' });
  t.pass('teardown twice succeeds');
});

