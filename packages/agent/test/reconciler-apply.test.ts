import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerCidr, SeconetError } from '@seconet/core';
import type { DriverContext, FilterDriver, TunnelDriver } from '../src/driver.js';
import { Journal } from '../src/journal/file-journal.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { listLinks, listNetns } from '../src/netns/ip-batch.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { CommandError } from '../src/runner/errors.js';
import { ExecRunner } from '../src/runner/runner.js';
import { NETWORK_DRIVERS } from '../src/solutions/index.js';
import { TUNNEL_DRIVERS } from '../src/tunnels/index.js';
import { hostEnvFor, ping, silentLogger } from './helpers/two-hosts.js';
import { applyRequest, tunnelSpec } from './helpers/requests.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const root = process.getuid?.() === 0;
const runner = new ExecRunner();
const log = silentLogger();

t.before(() => {
  if (root) execFileSync('/usr/bin/make', ['-s', '-C', fileURLToPath(new URL('../bpf', import.meta.url)), 'redirect.o']);
});

async function lab(t: { teardown(fn: () => unknown): void }, hosts = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'seconet-rec-'));
  const topo = await createLab(runner, randomLabId(), hosts);
  const envs = topo.hosts.map((h) => hostEnvFor(h, dir));
  const recs = await Promise.all(envs.map((env) => createReconciler({ env, runner, log })));
  t.teardown(async () => {
    for (const [i, r] of recs.entries()) {
      await r.gc({ requestId: 'cleanup', keepScopes: [] }).catch(() => undefined);
      await runner.run(['umount', envs[i]!.bpffs]).catch(() => undefined);
    }
    await destroyLab(runner, topo);
    rmSync(dir, { recursive: true, force: true });
  });
  return { topo, envs, recs, dir };
}

async function owned(prefix: string, hostNetns: string): Promise<string[]> {
  const ns = [...(await listNetns(runner))].filter((n) => n.startsWith(prefix));
  const links = [...(await listLinks(runner, hostNetns)).keys()].filter((n) => n.startsWith(prefix));
  return [...ns, ...links].sort();
}

/** Kernel state that must not change on a no-op Apply: host links and every container's addresses and routes. */
async function snapshot(hostNetns: string, netns: readonly string[]): Promise<string> {
  const parts = [(await runner.run(['ip', '-n', hostNetns, '-d', '-j', 'link', 'show'])).stdout, (await runner.run(['ip', '-n', hostNetns, '-j', 'route', 'show'])).stdout];
  for (const n of netns) {
    parts.push((await runner.run(['ip', '-n', n, '-j', 'addr', 'show'])).stdout);
    parts.push((await runner.run(['ip', '-n', n, '-j', 'route', 'show'])).stdout);
  }
  // Bridge timers count down and a new bridge's operstate settles on their own; everything else must stay the same.
  return parts.map((p) => JSON.stringify(JSON.parse(p), (k, v: unknown) => (k.endsWith('_timer') || k === 'operstate' ? undefined : v))).join('\n');
}

t.test('apply, no-op apply, drift repair, resize, restart, teardown twice', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs, recs } = await lab(t);
  const env = envs[0]!;
  const hns = topo.hosts[0]!.netns;
  let rec = recs[0]!;

  const first = await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 3 }));
  t.equal(first.changed, true);
  t.same(first.timings!.map((x) => x.component), ['containers', 'network']);
  t.ok(first.timings!.every((x) => typeof x.seconds === 'number' && x.seconds > 0), 'timings measured');
  t.equal(first.mtu, 1500, 'MTU = underlay MTU without a tunnel');
  t.equal(first.containers!.length, 3);
  const [c1, c2] = first.containers!;
  t.ok(await ping(runner, c1!.netns!, c2!.address!), 'containers reach each other');
  t.same(rec.scopes(), ['cell-a']);
  t.same(rec.containers('cell-a').map((c) => c.netns), first.containers!.map((c) => c.netns));

  const before = await snapshot(hns, first.containers!.map((c) => c.netns!));
  const again = await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 3 }));
  t.equal(again.changed, false, 'same state again is a no-op');
  t.same(again.timings, []);
  t.equal(await snapshot(hns, first.containers!.map((c) => c.netns!)), before, 'kernel state identical after the no-op Apply');
  t.same(await rec.check({ scope: 'cell-a' }), { inSync: true, drifts: [], known: true });

  await runner.run(['ip', '-n', hns, 'link', 'del', 'dev', c2!.interface!]);
  const drift = await rec.check({ scope: 'cell-a' });
  t.equal(drift.inSync, false);
  t.ok(drift.drifts!.some((d) => d.object === `link ${c2!.interface}`), 'the deleted veth is reported');
  const repaired = await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 3 }));
  t.equal(repaired.changed, true, 'drift makes the same state re-apply');
  t.equal((await rec.check({ scope: 'cell-a' })).inSync, true);
  t.ok(await ping(runner, c1!.netns!, c2!.address!), 'repaired container reachable');

  const grown = await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 5 }));
  t.equal(grown.changed, true);
  t.equal(grown.containers!.length, 5);
  t.equal((await owned(env.prefix, hns)).filter((n) => n.startsWith(`${env.prefix}c`)).length, 5, 'five container namespaces');
  t.ok(await ping(runner, grown.containers![4]!.netns!, c1!.address!), 'a new container reaches an old one');
  const shrunk = await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 2 }));
  t.equal(shrunk.containers!.length, 2);
  t.equal((await owned(env.prefix, hns)).filter((n) => n.startsWith(`${env.prefix}c`)).length, 2, 'removed containers are gone');

  await rec.close();
  await t.rejects(rec.apply(applyRequest('cell-a', { containers: 2 })), { code: 'UNAVAILABLE' }, 'a closed reconciler refuses Apply');
  rec = await createReconciler({ env, runner, log });
  recs[0] = rec;
  t.same(rec.scopes(), ['cell-a'], 'the journal survives a restart');
  t.equal(rec.containers('cell-a').length, 2);
  t.equal((await rec.apply(applyRequest('cell-a', { network: 'bridge', containers: 2 }))).changed, false, 'no-op after restart');

  const down = await rec.teardown({ requestId: 'td', scope: 'cell-a' });
  t.ok(down.removed!.length >= 5);
  t.same(await owned(env.prefix, hns), [], 'nothing with the prefix remains');
  t.same((await rec.teardown({ requestId: 'td2', scope: 'cell-a' })).removed, [], 'teardown twice succeeds');
  t.same(await rec.check({ scope: 'cell-a' }), { inSync: false, drifts: [], known: false });
  t.same(rec.scopes(), []);
});

t.test('concurrent Apply on one scope is CONFLICT', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { recs } = await lab(t);
  const rec = recs[0]!;
  const [a, b] = await Promise.allSettled([rec.apply(applyRequest('busy', { containers: 2 })), rec.apply(applyRequest('busy', { containers: 2 }))]);
  t.equal(a.status, 'fulfilled');
  t.equal(b.status, 'rejected');
  t.equal(((b as PromiseRejectedResult).reason as SeconetError).code, 'CONFLICT');
});

t.test('routing and bpf through the reconciler; kind change rebuilds', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs, recs } = await lab(t);
  const rec = recs[0]!;
  for (const network of ['routing', 'bpf', 'bridge']) {
    const r = await rec.apply(applyRequest('cell-k', { network, containers: 2 }));
    t.equal(r.changed, true, `${network} applied`);
    t.ok(await ping(runner, r.containers![0]!.netns!, r.containers![1]!.address!), `${network}: containers reach each other`);
    t.equal((await rec.check({ scope: 'cell-k' })).inSync, true, `${network}: in sync`);
  }
  await rec.teardown({ requestId: 'x', scope: 'cell-k' });
  t.same(await owned(envs[0]!.prefix, topo.hosts[0]!.netns), []);
});

t.test('tunnel overhead sets the MTU; a failing component rolls the scope back; missing support is MISSING_TOOL', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs } = await lab(t);
  const env = envs[0]!;
  const hns = topo.hosts[0]!.netns;
  const fakeTunnel: TunnelDriver = {
    kind: 'fake',
    probe: async () => [],
    overhead: () => 80,
    ensure: async () => ({ changed: true, variant: 'userspace', version: 'fake 1.0' }),
    check: async () => [],
  };
  let mode: 'ok' | 'fail' | 'unsupported' = 'ok';
  const fakeFilter: FilterDriver = {
    kind: 'boom',
    probe: async () => [],
    async ensure(ctx: DriverContext) {
      const name = `${ctx.env.prefix}fboom`;
      await ctx.journal.record({ type: 'link', name });
      const links = await listLinks(ctx.runner, ctx.env.hostNetns);
      if (!links.has(name)) await ctx.runner.run(['ip', '-n', ctx.env.hostNetns!, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${ctx.env.prefix}fboom2`]);
      if (mode === 'fail') throw new Error('filter exploded');
      if (mode === 'unsupported') throw new CommandError('NotSupported', ['tc'], { exitCode: 2, signal: null, stderr: 'Unknown qdisc', stdout: '' });
      return { changed: true, variant: 'kernel', version: 'boom 2' };
    },
    check: async () => [],
  };
  const rec = await createReconciler({ env, runner, log, registries: { network: NETWORK_DRIVERS, tunnel: new Map([['fake', fakeTunnel]]), filter: new Map([['boom', fakeFilter]]) } });
  const tunnel = tunnelSpec('fake', env.underlayAddress, [{ name: 'h2', underlayAddress: '198.18.0.2', routes: [containerCidr(2)], index: 2 }]);
  const filter = { kind: 'boom', allow: [], extraRules: 0, guarded: [], ruleMatch: '' };
  const ok = await rec.apply(applyRequest('cell-t', { containers: 2, tunnel, filter }));
  t.equal(ok.mtu, 1420);
  t.equal(ok.tunnelVariant, 'VARIANT_USERSPACE');
  t.equal(ok.tunnelVersion, 'fake 1.0');
  t.equal(ok.filterVersion, 'boom 2');
  t.same(ok.timings!.map((x) => x.component), ['containers', 'network', 'tunnel', 'filter']);
  const eth0 = JSON.parse((await runner.run(['ip', '-n', ok.containers![0]!.netns!, '-j', 'link', 'show', 'eth0'])).stdout) as Array<{ mtu: number }>;
  t.equal(eth0[0]!.mtu, 1420, 'container eth0 carries the derived MTU');

  const onlyFilter = await rec.apply(applyRequest('cell-t', { containers: 2, tunnel, filter: { ...filter, extraRules: 10 } }));
  t.same(onlyFilter.timings!.map((x) => x.component), ['filter'], 'a changed filter re-ensures only the filter');
  t.equal(onlyFilter.tunnelVersion, 'fake 1.0', 'variants of untouched components are kept');
  await rec.teardown({ requestId: 'x', scope: 'cell-t' });

  mode = 'fail';
  await t.rejects(rec.apply(applyRequest('cell-f', { containers: 2, tunnel, filter })), { code: 'INTERNAL' });
  t.same(await owned(env.prefix, hns), [], 'rolled back: nothing of the failed Apply remains');
  t.same(rec.scopes(), []);
  t.equal((await rec.check({ scope: 'cell-f' })).known, false, 'no journal left');

  mode = 'unsupported';
  await t.rejects(rec.apply(applyRequest('cell-f', { containers: 2, filter })), { code: 'MISSING_TOOL' });
  t.same(await owned(env.prefix, hns), []);
  await t.rejects(rec.apply(applyRequest('cell-f', { containers: 2, mtu: 9999 })), { code: 'INVALID_ARGUMENT', field: 'state.mtu' });
});

t.test('GC removes scopes not kept and hand-made orphans with the prefix, keeps kept scopes', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs, recs } = await lab(t);
  const env = envs[0]!;
  const hns = topo.hosts[0]!.netns;
  const rec = recs[0]!;
  const kept = await rec.apply(applyRequest('keep', { network: 'routing', containers: 2 }));
  await rec.apply(applyRequest('drop', { network: 'bridge', cidr: containerCidr(2), containers: 2 }));
  const orphanNs = `${env.prefix}corphan1`;
  const orphanLink = `${env.prefix}vorph1`;
  const orphanTable = `${env.prefix}forph`;
  const orphanChain = `${env.prefix.toUpperCase()}FORPH`;
  await runner.run(['ip', 'netns', 'add', orphanNs]);
  await runner.run(['ip', '-n', hns, 'link', 'add', orphanLink, 'type', 'veth', 'peer', 'name', `${env.prefix}vorph2`]);
  await runner.run(['nft', 'add', 'table', 'inet', orphanTable], { netns: hns });
  await runner.run(['iptables', '-w', '5', '-N', orphanChain], { netns: hns });
  await runner.run(['iptables', '-w', '5', '-A', 'FORWARD', '-m', 'comment', '--comment', 'seconet orphan', '-j', orphanChain], { netns: hns });
  t.teardown(() => runner.run(['ip', 'netns', 'del', orphanNs]).catch(() => undefined));

  const gc = await rec.gc({ requestId: 'gc1', keepScopes: ['keep'] });
  t.same(gc.removedScopes, ['drop']);
  for (const o of [`netns ${orphanNs}`, `link ${orphanLink}`, `nft table inet ${orphanTable}`, `iptables filter/${orphanChain}`]) t.ok(gc.removed!.includes(o), `removed ${o}`);
  t.notOk((await listNetns(runner)).has(orphanNs));
  const save = (await runner.run(['iptables-save'], { netns: hns })).stdout;
  t.notMatch(save, orphanChain, 'orphan chain and its jump are gone');
  t.notMatch((await runner.run(['nft', 'list', 'tables'], { netns: hns })).stdout, orphanTable);
  t.same(rec.scopes(), ['keep']);
  t.ok(await ping(runner, kept.containers![0]!.netns!, kept.containers![1]!.address!), 'the kept scope still works');
  const left = await owned(env.prefix, hns);
  t.same(left, [...kept.containers!.map((c) => c.netns!), ...kept.containers!.map((c) => c.interface!)].sort(), 'only the kept scope remains');
  const again = await rec.gc({ requestId: 'gc2', keepScopes: ['keep'] });
  t.same(again, { removed: [], removedScopes: [] }, 'GC twice finds nothing');
});

t.test('a scope left half-applied by a crash is removed by GC at the next start; probe lists the solutions', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs, recs } = await lab(t);
  const env = envs[0]!;
  const hns = topo.hosts[0]!.netns;
  await recs[0]!.apply(applyRequest('crashed', { network: 'bridge', containers: 3 }));
  // Simulate a crash in the middle of a later Apply: the journal on disk says "applying".
  const files = new Journal(env.stateDir);
  files.load();
  await files.get('crashed')!.setStatus('applying');
  const after = await createReconciler({ env, runner, log });
  recs[0] = after;
  t.same(after.scopes(), [], 'a half-applied scope is not reported as applied');
  t.same(after.containers('crashed'), []);
  const gc = await after.gc({ requestId: 'start', keepScopes: ['crashed'] });
  t.same(gc.removedScopes, ['crashed'], 'kept but not applied: torn down');
  t.same(await owned(env.prefix, hns), []);
  const probes = await after.probe();
  for (const kind of ['bridge', 'routing', 'bpf']) t.ok(probes.some((p) => p.category === 'network' && p.kind === kind && p.available), `${kind} available`);
});

t.test('an applied scope with an overlapping container network is CONFLICT; a half-removed one is cleared', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { topo, envs, recs } = await lab(t);
  const env = envs[0]!;
  await recs[0]!.apply(applyRequest('first', { network: 'bridge', containers: 2 }));
  await t.rejects(recs[0]!.apply(applyRequest('second', { network: 'routing', cidr: '198.19.0.0/16', containers: [{ name: 'c1', address: '198.19.1.2' }] })), { code: 'CONFLICT', field: 'state.containerCidr' });
  t.same(recs[0]!.scopes(), ['first'], 'the refused Apply left nothing');
  const files = new Journal(env.stateDir);
  files.load();
  await files.get('first')!.setStatus('removing');
  const rec = await createReconciler({ env, runner, log });
  recs[0] = rec;
  const second = await rec.apply(applyRequest('second', { network: 'routing', containers: 2 }));
  t.equal(second.changed, true, 'the same network is free once the half-removed scope is gone');
  t.same(rec.scopes(), ['second']);
  t.ok(await ping(runner, second.containers![0]!.netns!, second.containers![1]!.address!));
  t.equal((await owned(env.prefix, topo.hosts[0]!.netns)).length, 4, 'only the new scope\'s two namespaces and two veths');
});

t.test('two hosts with tunnel none: containers reach across the underlay', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  t.ok(TUNNEL_DRIVERS.has('none'), 'tunnel kind none is registered');
  const { topo, recs } = await lab(t, 2);
  const [h1, h2] = topo.hosts;
  const res = [];
  for (const [i, h] of topo.hosts.entries()) {
    const other = topo.hosts[1 - i]!;
    const tunnel = tunnelSpec('none', h.underlayAddress, [{ name: other.name, underlayAddress: other.underlayAddress, routes: [containerCidr(other.index)], index: other.index }]);
    res.push(await recs[i]!.apply(applyRequest('cell-x', { network: 'bridge', cidr: containerCidr(h.index), containers: 2, tunnel })));
  }
  t.ok(h1 && h2);
  t.ok(await ping(runner, res[0]!.containers![0]!.netns!, res[1]!.containers![1]!.address!), 'h1 container -> h2 container');
  t.ok(await ping(runner, res[1]!.containers![0]!.netns!, res[0]!.containers![1]!.address!), 'h2 container -> h1 container');
});
