// Check looks inside the containers (address, default route, eth0 state, veth peer) and GC
// removes what names cannot find: stray IPsec policies in the host namespace and daemons tied
// to orphaned namespaces or files, by PID and start time, never by program name.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerCidr } from '@seconet/core';
import type { ContainerHandle } from '../src/driver.js';
import { processStartTime } from '../src/journal/undo.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { containerDrift } from '../src/reconciler/container-check.js';
import { parseXfrm } from '../src/reconciler/orphan-daemons.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { ExecRunner } from '../src/runner/runner.js';
import { hostEnvFor, silentLogger } from './helpers/two-hosts.js';
import { applyRequest } from './helpers/requests.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();
const log = silentLogger();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function lab(t: { teardown(fn: () => unknown): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-inside-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const env = hostEnvFor(topo.hosts[0]!, dir);
  const rec = await createReconciler({ env, runner, log });
  t.teardown(async () => {
    await rec.gc({ requestId: 'cleanup', keepScopes: [] }).catch(() => undefined);
    await runner.run(['umount', env.bpffs]).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(dir, { recursive: true, force: true });
  });
  return { topo, env, rec };
}

t.test('containerDrift: a veth peer that is not the scope veth is drift', async (t) => {
  const h: ContainerHandle = { spec: { name: 'c1', address: '198.18.64.2', cpus: [] } as unknown as ContainerHandle['spec'], netns: 'snxxc1', hostIface: 'snxxv1', iface: 'eth0', mac: '' };
  const link = { ifname: 'snxxv1', ifindex: 7, kind: 'veth', master: undefined, mtu: 1500, address: '', up: true };
  const good = [{ ifname: 'eth0', flags: ['UP'], link_index: 7, addr_info: [{ family: 'inet', local: '198.18.64.2' }] }];
  t.same(containerDrift(h, good, [{ dst: 'default', dev: 'eth0' }], link), []);
  t.match(containerDrift(h, [{ ...good[0]!, link_index: 9 }], [{ dst: 'default', dev: 'eth0' }], link), [{ object: /veth peer/, observed: 'ifindex 9' }]);
  t.match(containerDrift(h, good, [{ dst: 'default', dev: 'eth1' }], link), [{ object: /default route/, observed: 'dev eth1' }]);
  t.match(containerDrift(h, good, [{ dst: 'default', dev: 'eth0' }], undefined), [{ object: /veth peer snxxv1/, observed: 'missing' }]);
});

t.test('parseXfrm: selectors for removal, template lines ignored, if_id in decimal', async (t) => {
  const policies = 'src 198.18.2.0/24 dst 198.18.1.0/24 \n\tdir in priority 0 ptype main \n\ttmpl src 198.18.0.2 dst 198.18.0.1\n\t\tproto esp reqid 1 mode tunnel\nsrc 198.18.1.0/24 dst 198.18.2.0/24 \n\tdir out priority 0 ptype main \n\tif_id 0x4d\n';
  t.same(parseXfrm(policies, 'policy'), [
    { selector: ['src', '198.18.2.0/24', 'dst', '198.18.1.0/24', 'dir', 'in'], ifId: undefined },
    { selector: ['src', '198.18.1.0/24', 'dst', '198.18.2.0/24', 'dir', 'out', 'if_id', '77'], ifId: 77 },
  ]);
  const states = 'src 198.18.0.1 dst 198.18.0.2\n\tproto esp spi 0x00000100 reqid 1 mode tunnel\n\treplay-window 0 \n\taead rfc4106(gcm(aes)) 0x00 128\n\tif_id 0x5\n';
  t.same(parseXfrm(states, 'state'), [{ selector: ['src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'spi', '256', 'if_id', '5'], ifId: 5 }]);
});

t.test('Check reports drift inside a container: address, default route, eth0 down', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { rec } = await lab(t);
  const a = await rec.apply(applyRequest('cell-in', { network: 'bridge', containers: 2 }));
  t.same(await rec.check({ scope: 'cell-in' }), { inSync: true, drifts: [], known: true });
  const c = a.containers![0]!;
  await runner.run(['ip', '-n', c.netns!, 'route', 'del', 'default']);
  let d = await rec.check({ scope: 'cell-in' });
  t.equal(d.inSync, false);
  t.ok(d.drifts!.some((x) => /default route/.test(x.object!) && x.observed === 'missing'), 'the missing default route is reported');
  await rec.apply(applyRequest('cell-in', { network: 'bridge', containers: 2 }));
  t.equal((await rec.check({ scope: 'cell-in' })).inSync, true, 'Apply repairs it');
  await runner.run(['ip', '-n', c.netns!, 'addr', 'flush', 'dev', 'eth0']);
  d = await rec.check({ scope: 'cell-in' });
  t.ok(d.drifts!.some((x) => /address/.test(x.object!) && x.expected === c.address), 'the missing address is reported');
  await rec.apply(applyRequest('cell-in', { network: 'bridge', containers: 2 }));
  await runner.run(['ip', '-n', c.netns!, 'link', 'set', 'eth0', 'down']);
  d = await rec.check({ scope: 'cell-in' });
  t.ok(d.drifts!.some((x) => /eth0/.test(x.object!) && x.observed === 'down'), 'eth0 down is reported');
  await rec.apply(applyRequest('cell-in', { network: 'bridge', containers: 2 }));
  t.equal((await rec.check({ scope: 'cell-in' })).inSync, true);
});

t.test('GC removes stray IPsec policies and daemons tied to orphaned namespaces and files, not others', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, env, rec } = await lab(t);
  const hns = topo.hosts[0]!.netns;
  await rec.apply(applyRequest('keep', { network: 'bridge', cidr: containerCidr(3), containers: 2 }));
  await runner.run(['ip', '-n', hns, 'xfrm', 'policy', 'add', 'src', '198.18.1.0/24', 'dst', '198.18.2.0/24', 'dir', 'out', 'if_id', '77']);
  await runner.run(['ip', '-n', hns, 'xfrm', 'policy', 'add', 'src', '198.18.2.0/24', 'dst', '198.18.1.0/24', 'dir', 'in']);

  // A daemon inside an orphaned container namespace, one using an orphaned run directory (named
  // in its pid file and its command line), and one whose PID sits in that pid file but that does
  // not use the directory: only the first two are ours.
  const orphanNs = `${env.prefix}corph9`;
  await runner.run(['ip', 'netns', 'add', orphanNs]);
  t.teardown(() => runner.run(['ip', 'netns', 'del', orphanNs]).catch(() => undefined));
  const orphanDir = join(env.runDir, `${env.prefix}orphd`);
  mkdirSync(orphanDir, { recursive: true });
  writeFileSync(join(orphanDir, 'daemon.conf'), 'x\n');
  const inNs = spawn('/usr/bin/ip', ['netns', 'exec', orphanNs, '/usr/bin/sleep', '300'], { stdio: 'ignore', detached: true });
  const usesDir = spawn('/usr/bin/tail', ['-f', join(orphanDir, 'daemon.conf')], { stdio: 'ignore', detached: true });
  const stranger = spawn('/usr/bin/sleep', ['300'], { stdio: 'ignore', detached: true });
  const all = [inNs, usesDir, stranger];
  t.teardown(() => {
    for (const p of all) if (p.pid !== undefined && p.exitCode === null && p.signalCode === null) process.kill(p.pid, 'SIGKILL');
  });
  writeFileSync(join(orphanDir, 'daemon.pid'), `${usesDir.pid}\n`);
  writeFileSync(join(orphanDir, 'other.pid'), `${stranger.pid}\n`);
  await sleep(300);
  const strangerStart = processStartTime(stranger.pid!);

  const gc = await rec.gc({ requestId: 'gc-x', keepScopes: ['keep'] });
  t.same(gc.removedScopes, []);
  const policies = (await runner.run(['ip', '-n', hns, 'xfrm', 'policy', 'list'])).stdout;
  t.equal(policies.trim(), '', `the stray policies are gone (left: ${policies})`);
  t.ok(gc.removed!.some((r) => /xfrm/.test(r)), 'and reported');
  await sleep(200);
  t.equal(inNs.exitCode !== null || inNs.signalCode !== null || processStartTime(inNs.pid!) === undefined, true, 'the daemon in the orphaned namespace was killed');
  t.equal(usesDir.exitCode !== null || usesDir.signalCode !== null || processStartTime(usesDir.pid!) === undefined, true, 'the daemon using the orphaned directory was killed');
  t.equal(processStartTime(stranger.pid!), strangerStart, 'a process merely named in a pid file is left alone');
  t.same(rec.scopes(), ['keep']);
  t.same(await rec.gc({ requestId: 'gc-y', keepScopes: ['keep'] }), { removed: [], removedScopes: [] }, 'GC twice finds nothing');
});
