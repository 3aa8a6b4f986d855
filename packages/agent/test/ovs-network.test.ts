// The `ovs` network solution in real lab hosts: per-scope ovsdb-server and ovs-vswitchd with
// the userspace datapath, containers on the bridge ping each other and the gateway, TCP
// carries data (iperf3), traffic between two hosts is routed through the bridge's internal
// port, ensure twice is a no-op, and teardown leaves no daemon and no run directory.

import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { processStartTime } from '../src/journal/undo.js';
import { ovsBridgeName, bridgeTransaction, ovsDriver } from '../src/solutions/ovs.js';
import { ovsPaths, vsctl } from '../src/ovs/switch.js';
import { ExecRunner } from '../src/runner/runner.js';
import { listNetns } from '../src/netns/ip-batch.js';
import { OvsFilter } from '../src/filters/ovs.js';
import { ping, setupLab, silentLogger } from './helpers/two-hosts.js';
import { requireRoot } from '../../../test/helpers/requirements.js';


t.test('bridge and ports are one ovs-vsctl transaction, marked with the owner prefix', async (t) => {
  t.same(bridgeTransaction('sn01', 'sn01sabc', ['sn01vaaa', 'sn01vbbb'], ['sn01vold'], 'netdev'), [
    '--', '--may-exist', 'add-br', 'sn01sabc', '--', 'set', 'bridge', 'sn01sabc', 'datapath_type=netdev', 'external_ids:seconet-owner=sn01',
    '--', '--if-exists', 'del-port', 'sn01sabc', 'sn01vold',
    '--', '--may-exist', 'add-port', 'sn01sabc', 'sn01vaaa', '--', 'set', 'port', 'sn01vaaa', 'external_ids:seconet-owner=sn01',
    '--', '--may-exist', 'add-port', 'sn01sabc', 'sn01vbbb', '--', 'set', 'port', 'sn01vbbb', 'external_ids:seconet-owner=sn01',
  ]);
});

t.test('probe runs a throwaway switch with one flow and leaves nothing', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const runner = new ExecRunner();
  const root = mkdtempSync(join(tmpdir(), 'seconet-ovsprobe-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const env = { name: 'h', prefix: 'snpr', hostNetns: undefined, stateDir: root, runDir: root, bpffs: join(root, 'bpf'), underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
  const before = await listNetns(runner);
  const [net] = await ovsDriver.probe({ env, runner, log: silentLogger() });
  t.match(net, { category: 'network', kind: 'ovs', variant: 'userspace', available: true, version: /Open vSwitch/ });
  const [flt] = await new OvsFilter().probe({ env, runner, log: silentLogger() });
  t.match(flt, { category: 'filter', kind: 'ovs', available: true });
  t.same(readdirSync(root), [], 'probe run directory removed');
  t.same([...(await listNetns(runner))].filter((n) => !before.has(n) && n.startsWith('snpr')), [], 'probe namespace removed');
});

t.test('ovs network on one host: ping, TCP, idempotence, teardown', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const lab = await setupLab({ hosts: 1, containers: 2, network: 'ovs', scope: 'ovs1', mtu: 1400 });
  t.teardown(lab.cleanup);
  const h = lab.hosts[0]!;
  const view = h.view!;
  const [c1, c2] = view.containers;
  t.equal(view.kind, 'ovs');
  t.equal(view.bridge, ovsBridgeName(h.env.prefix, 'ovs1'));
  t.equal(view.gateway, '198.19.1.1');
  t.ok(view.ovsdb !== undefined && existsSync(view.ovsdb), 'ovsdb socket exists');

  t.ok(await ping(lab.runner, c1!.netns, c2!.spec.address, { count: 2 }), 'c1 -> c2');
  t.ok(await ping(lab.runner, c2!.netns, c1!.spec.address, { count: 2 }), 'c2 -> c1');
  t.ok(await ping(lab.runner, c1!.netns, view.gateway, { count: 2 }), 'c1 -> gateway (bridge internal port)');

  const paths = ovsPaths(h.env, 'ovs1');
  const owner = await vsctl(lab.runner, paths, ['get', 'bridge', view.bridge!, 'external_ids:seconet-owner']);
  t.equal(owner.trim().replace(/"/g, ''), h.env.prefix, 'bridge carries the owner mark');
  t.equal((await vsctl(lab.runner, paths, ['get', 'bridge', view.bridge!, 'datapath_type'])).trim(), 'netdev');

  const server = lab.runner.spawn(['iperf3', '-s', '-1', '-B', c2!.spec.address, '-p', '5201'], { netns: c2!.netns });
  t.teardown(() => server.stop(500));
  await new Promise((r) => setTimeout(r, 400));
  const client = await lab.runner.run(['iperf3', '-c', c2!.spec.address, '-p', '5201', '-t', '1', '-J'], { netns: c1!.netns, timeoutMs: 30_000 });
  const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  t.ok(bps > 0, `TCP through OVS: ${(bps / 1e6).toFixed(0)} Mbit/s`);

  // The agent stopped between spawning the daemons and journaling them: the next ensure adopts them.
  const started = h.journal.objects().filter((o) => o.type === 'process');
  await h.journal.forgetAll(started);
  await ovsDriver.ensure(h.ctx, h.cidr, h.containers, 1400);
  t.same(h.journal.objects().filter((o) => o.type === 'process'), started, 'running daemons adopted from their pidfiles, none started twice');
  t.ok(await ping(lab.runner, c1!.netns, c2!.spec.address), 'c1 -> c2 after adoption');

  const again = await ovsDriver.ensure(h.ctx, h.cidr, h.containers, 1400);
  t.equal(again.result.changed, false, 'ensure twice is a no-op');
  t.same(await ovsDriver.check(h.ctx, view), []);

  const procs = h.journal.objects().filter((o) => o.type === 'process');
  t.same(procs.map((p) => (p.type === 'process' ? p.what : '')).sort(), ['ovs-vswitchd', 'ovsdb-server']);
  await lab.cleanup();
  for (const p of procs) if (p.type === 'process') t.not(processStartTime(p.pid), p.startTime, `${p.what} is gone after teardown`);
  t.notOk(existsSync(paths.root), 'run directory removed');
});

t.test('ovs network on two hosts: container traffic routed between hosts', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const lab = await setupLab({ hosts: 2, containers: 1, network: 'ovs', scope: 'ovs2', underlayRoutes: true });
  t.teardown(lab.cleanup);
  const [h1, h2] = lab.hosts;
  t.ok(await ping(lab.runner, h1!.containers[0]!.netns, h2!.containers[0]!.spec.address, { count: 2 }), 'h1/c1 -> h2/c1');
  t.ok(await ping(lab.runner, h2!.containers[0]!.netns, h1!.containers[0]!.spec.address, { count: 2 }), 'h2/c1 -> h1/c1');
  const sink = h2!.containers[0]!;
  const server = lab.runner.spawn(['iperf3', '-s', '-1', '-B', sink.spec.address, '-p', '5202'], { netns: sink.netns });
  t.teardown(() => server.stop(500));
  await new Promise((r) => setTimeout(r, 400));
  const client = await lab.runner.run(['iperf3', '-c', sink.spec.address, '-p', '5202', '-t', '1', '-J'], { netns: h1!.containers[0]!.netns, timeoutMs: 30_000 });
  const bps = (JSON.parse(client.stdout) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second;
  t.ok(bps > 0, `TCP between hosts through both OVS bridges: ${(bps / 1e6).toFixed(0)} Mbit/s`);
});
