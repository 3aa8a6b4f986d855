// Userspace tunnel daemons killed with SIGKILL (the agent and its daemons dying at once) do
// not clean up after themselves: charon leaves its policy-routing rules (and table 220 routes
// while its TUN device lives), wireguard-go leaves its control socket in /var/run/wireguard.
// These tests kill the daemons by the PIDs in the journal, replay the journal's teardown and
// look at the host namespace and the filesystem: nothing of the tunnel may be left. The undo
// argv of the object types involved (ip rules, xfrm policies and states) is unit-tested with
// FakeRunner, the xfrm policy removal also for real (this kernel takes policies, not ESP SAs).

import t, { type Test } from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTunnelSecrets } from '@seconet/core';
import pino from 'pino';
import { ipsecTunnel, charonPeerObjects, charonRuleObjects, CHARON_ROUTING_TABLE } from '../src/tunnels/ipsec.js';
import { wireguardDevice, wireguardSocket, wireguardTunnel } from '../src/tunnels/wireguard.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { processStartTime, removeObject, teardownObjects, wireguardSocketName } from '../src/journal/undo.js';
import type { OwnedObject } from '../src/journal/objects.js';
import { findOrphans } from '../src/reconciler/orphans.js';
import { FakeRunner } from '../src/testing.js';
import { ExecRunner } from '../src/runner/runner.js';
import { labPrefix, randomLabId } from '../src/lab/topology.js';
import type { HostEnv } from '../src/host-env.js';
import type { NetworkView } from '../src/driver.js';
import { links, filesLeft, makeRig, pingEventually, specFor, type HostRig, type Rig } from './tunnel-harness.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function envFor(prefix: string, hostNetns: string | undefined, dir = '/nonexistent'): HostEnv {
  return { name: 'h1', prefix, hostNetns, stateDir: join(dir, 'state'), runDir: join(dir, 'run'), bpffs: join(dir, 'bpf'), underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
}

/** SIGKILLs every journalled daemon of every host and waits until each is gone. */
async function killDaemons(t: Test, rig: Rig): Promise<Array<Extract<OwnedObject, { type: 'process' }>>> {
  const procs = rig.hosts.flatMap((h) => h.journal.objects().flatMap((o) => (o.type === 'process' ? [o] : [])));
  t.ok(procs.length >= rig.hosts.length, `one daemon per host journalled (${procs.map((p) => p.what).join(', ')})`);
  for (const p of procs) if (processStartTime(p.pid) === p.startTime) process.kill(p.pid, 'SIGKILL');
  for (let i = 0; i < 200 && procs.some((p) => processStartTime(p.pid) === p.startTime); i++) await sleep(10);
  for (const p of procs) t.not(processStartTime(p.pid), p.startTime, `${p.what} (pid ${p.pid}) is dead`);
  return procs;
}

async function rules(rig: Rig, h: HostRig, family: 4 | 6): Promise<Array<{ priority: number; table: string }>> {
  const r = await rig.runner.run(['ip', `-${family}`, '-n', h.host.netns, '-j', 'rule', 'show']);
  return JSON.parse(r.stdout || '[]') as Array<{ priority: number; table: string }>;
}

async function table220(rig: Rig, h: HostRig): Promise<string[]> {
  // A table with no routes does not exist for `ip route show table` (it fails): empty.
  const r = await rig.runner.run(['ip', '-n', h.host.netns, '-j', 'route', 'show', 'table', String(CHARON_ROUTING_TABLE)]).catch((e: { stderr?: string }) => {
    if (/FIB table does not exist/.test(e.stderr ?? '')) return { stdout: '[]' };
    throw e;
  });
  return (JSON.parse(r.stdout || '[]') as Array<{ dst: string }>).map((x) => x.dst);
}

const charonRule = (rs: ReadonlyArray<{ priority: number; table: string }>): boolean => rs.some((r) => r.priority === CHARON_ROUTING_TABLE && r.table === String(CHARON_ROUTING_TABLE));

t.test('wireguard-go killed with SIGKILL: teardown leaves no socket, process or link', async (t) => {
  if (!requireRoot(t, 'network namespaces, daemons and /var/run/wireguard')) return;
  const rig = await makeRig(t, 'tun-crash');
  const [a, b] = rig.hosts as [HostRig, HostRig];
  const keys = generateTunnelSecrets('wireguard', ['h1', 'h2']);
  const specs = rig.hosts.map((_, i) =>
    specFor(rig, 'wireguard', i, {
      variant: 'VARIANT_USERSPACE',
      secrets: (j) => ({ privateKey: keys[`h${j + 1}`]!.privateKey, preSharedKey: '' }),
      publicKey: (j) => keys[`h${j + 1}`]!.publicKey,
    }),
  );
  const sockets = rig.hosts.map((h) => wireguardSocket(wireguardDevice(h.ctx.env.prefix, h.ctx.scope)));
  t.teardown(async () => {
    for (const h of rig.hosts) await teardownObjects({ runner: rig.runner, env: h.ctx.env, graceMs: 2000 }, h.journal);
    for (const s of sockets) rmSync(s, { force: true });
  });
  const baseline = await Promise.all(rig.hosts.map((h) => links(rig, h)));
  await Promise.all(rig.hosts.map((h, i) => wireguardTunnel.ensure(h.ctx, specs[i]!, h.view)));
  t.ok(await pingEventually(rig, a, b.containerGw, { src: a.containerGw }), 'the tunnel carries traffic');
  for (const [i, h] of rig.hosts.entries()) {
    t.ok(existsSync(sockets[i]!), `${h.host.name}: wireguard-go opened ${sockets[i]}`);
    t.ok(h.journal.objects().some((o) => o.type === 'path' && o.path === sockets[i]), `${h.host.name}: the socket is journalled`);
  }

  await killDaemons(t, rig);
  for (const [i, h] of rig.hosts.entries()) t.ok(existsSync(sockets[i]!), `${h.host.name}: the socket outlives the killed daemon (what teardown must clean)`);

  for (const h of rig.hosts) {
    const res = await teardownObjects({ runner: rig.runner, env: h.ctx.env, graceMs: 2000 }, h.journal);
    t.same(res.failed, [], `${h.host.name}: teardown removed everything`);
  }
  for (const [i, h] of rig.hosts.entries()) {
    t.notOk(existsSync(sockets[i]!), `${h.host.name}: no socket file left`);
    t.same(h.journal.objects(), [], `${h.host.name}: journal empty`);
    t.same((await links(rig, h)).sort(), [...baseline[i]!].sort(), `${h.host.name}: no tunnel link left`);
    t.same(await filesLeft(h.ctx.env.runDir), [], `${h.host.name}: runDir empty`);
  }
});

t.test('charon (kernel-libipsec) killed with SIGKILL: teardown leaves no rule, table 220 route, process or link', async (t) => {
  if (!requireRoot(t, 'network namespaces, daemons and /var/run/wireguard')) return;
  const rig = await makeRig(t, 'tun-crash');
  const [a, b] = rig.hosts as [HostRig, HostRig];
  const psk = generateTunnelSecrets('ipsec', ['h1', 'h2']).h1!.preSharedKey;
  const specs = rig.hosts.map((_, i) => specFor(rig, 'ipsec', i, { variant: 'VARIANT_USERSPACE', secrets: () => ({ privateKey: '', preSharedKey: psk }) }));
  t.teardown(async () => {
    for (const h of rig.hosts) await teardownObjects({ runner: rig.runner, env: h.ctx.env, graceMs: 2000 }, h.journal);
  });
  const baseline = await Promise.all(rig.hosts.map((h) => links(rig, h)));
  for (const h of rig.hosts) {
    t.notOk(charonRule(await rules(rig, h, 4)), `${h.host.name}: no rule to table 220 before`);
    t.same(await table220(rig, h), [], `${h.host.name}: table 220 empty before`);
  }
  await Promise.all(rig.hosts.map((h, i) => ipsecTunnel.ensure(h.ctx, specs[i]!, h.view)));
  t.ok(await pingEventually(rig, a, b.containerGw, { src: a.containerGw }), 'the tunnel carries traffic');
  for (const [i, h] of rig.hosts.entries()) {
    t.ok(charonRule(await rules(rig, h, 4)) && charonRule(await rules(rig, h, 6)), `${h.host.name}: charon added its IPv4 and IPv6 rules`);
    const routes = await table220(rig, h);
    const peer = rig.hosts[1 - i]!;
    t.ok(routes.includes(`198.19.${peer.host.index}.0/24`), `${h.host.name}: charon routed the peer's network in table 220 (${routes.join(', ')})`);
    const journalled = h.journal.objects();
    for (const o of [...charonRuleObjects(h.ctx.env), ...charonPeerObjects(h.ctx.env, specs[i]!, h.view, 'userspace', 0)]) {
      t.ok(journalled.some((j) => JSON.stringify(j) === JSON.stringify(o)), `${h.host.name}: journalled ${JSON.stringify(o)}`);
    }
  }

  await killDaemons(t, rig);
  for (const h of rig.hosts) t.ok(charonRule(await rules(rig, h, 4)), `${h.host.name}: the rule outlives the killed charon (what teardown must clean)`);

  for (const h of rig.hosts) {
    const res = await teardownObjects({ runner: rig.runner, env: h.ctx.env, graceMs: 2000 }, h.journal);
    t.same(res.failed, [], `${h.host.name}: teardown removed everything`);
  }
  for (const [i, h] of rig.hosts.entries()) {
    t.notOk(charonRule(await rules(rig, h, 4)), `${h.host.name}: no IPv4 rule to table 220 left`);
    t.notOk(charonRule(await rules(rig, h, 6)), `${h.host.name}: no IPv6 rule to table 220 left`);
    t.same((await rules(rig, h, 4)).map((r) => r.priority), [0, 32766, 32767], `${h.host.name}: only the kernel's own IPv4 rules`);
    t.same(await table220(rig, h), [], `${h.host.name}: table 220 empty`);
    t.same(h.journal.objects(), [], `${h.host.name}: journal empty`);
    t.same((await links(rig, h)).sort(), [...baseline[i]!].sort(), `${h.host.name}: no ipsec device left`);
    t.same(await filesLeft(h.ctx.env.runDir), [], `${h.host.name}: runDir empty`);
  }
});

t.test('xfrm policies charon would install in the kernel variant are removed by selector (real kernel)', async (t) => {
  if (!requireRoot(t, 'network namespaces, daemons and /var/run/wireguard')) return;
  const runner = new ExecRunner(pino({ level: 'silent' }));
  const prefix = labPrefix(randomLabId(), 1);
  const ns = `${prefix}crx${randomLabId()}`;
  await runner.run(['ip', 'netns', 'add', ns]);
  t.teardown(() => runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined));
  const env = envFor(prefix, ns);
  const spec = kernelSpec();
  const objs = charonPeerObjects(env, spec, VIEW, 'kernel', 42);
  const policies = objs.filter((o): o is Extract<OwnedObject, { type: 'xfrm-policy' }> => o.type === 'xfrm-policy');
  t.equal(policies.length, 2 * 2 * 3, 'two local x two remote selectors, in/out/fwd');
  for (const p of policies) {
    const get = (k: string): string => p.selector[p.selector.indexOf(k) + 1]!;
    await runner.run(['ip', '-n', ns, 'xfrm', 'policy', 'add', ...p.selector, 'tmpl', 'src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'mode', 'tunnel']);
    t.ok(get('if_id') === '42', 'policy carries the if_id');
  }
  const r0 = (await runner.run(['ip', '-n', ns, 'xfrm', 'policy', 'list'])).stdout;
  t.equal((r0.match(/^src /gm) ?? []).length, 12, 'twelve policies installed');
  const journal = new MemoryJournal('x');
  await journal.recordAll(objs);
  const res = await teardownObjects({ runner, env }, journal);
  t.same(res.failed, [], 'every policy removed, every state selector settled');
  t.equal((await runner.run(['ip', '-n', ns, 'xfrm', 'policy', 'list'])).stdout.trim(), '', 'no xfrm policy left');
  await journal.recordAll(objs);
  t.same((await teardownObjects({ runner, env }, journal)).failed, [], 'a second teardown finds them gone and succeeds');
});

const VIEW: NetworkView = { kind: 'routing', containerCidr: '198.19.1.0/24', gateway: '198.19.1.1', bridge: undefined, ovsdb: undefined, containers: [], mtu: 1500 };

function kernelSpec(): Parameters<typeof charonPeerObjects>[1] {
  return {
    kind: 'ipsec',
    variant: 'VARIANT_KERNEL',
    cipher: '',
    localAddress: '198.18.0.1',
    overlayAddress: '198.18.1.1/24',
    peers: [{ name: 'h2', underlayAddress: '198.18.0.2', overlayAddress: '198.18.1.2', routes: ['198.19.2.0/24'], publicKey: '', index: 2 }],
    secrets: { privateKey: '', preSharedKey: '' },
    port: 0,
    vni: 0,
  };
}

t.test('undo argv: ip rules, xfrm policies and states (FakeRunner)', async (t) => {
  const runner = new FakeRunner();
  const env = envFor('snab', 'snlbabcdh1');
  const deps = { runner, env };
  for (const o of charonRuleObjects(env)) await removeObject(deps, o);
  await removeObject(deps, { type: 'route', dst: '198.19.2.0/24', table: 220, netns: undefined });
  const objs = charonPeerObjects(env, kernelSpec(), VIEW, 'kernel', 7);
  const state = objs.filter((o) => o.type === 'xfrm-state');
  for (const o of [objs[0]!, ...state]) await removeObject(deps, o);
  await removeObject(deps, { type: 'xfrm-state', selector: ['src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'spi', '0xc0ffee01'] });
  t.same(runner.lines(), [
    'ip -n snlbabcdh1 -4 rule del priority 220 table 220',
    'ip -n snlbabcdh1 -6 rule del priority 220 table 220',
    'ip -n snlbabcdh1 route del 198.19.2.0/24 table 220',
    'ip -n snlbabcdh1 xfrm policy del src 198.18.1.1/32 dst 198.18.1.2/32 dir out if_id 7',
    'ip -n snlbabcdh1 xfrm state deleteall src 198.18.0.1 dst 198.18.0.2 proto esp',
    'ip -n snlbabcdh1 xfrm state deleteall src 198.18.0.2 dst 198.18.0.1 proto esp',
    'ip -n snlbabcdh1 xfrm state del src 198.18.0.1 dst 198.18.0.2 proto esp spi 0xc0ffee01',
  ]);

  t.same(
    objs.filter((o) => o.type === 'xfrm-policy').map((o) => (o.type === 'xfrm-policy' ? o.selector.join(' ') : '')).sort(),
    [
      'src 198.18.1.1/32 dst 198.18.1.2/32 dir out if_id 7',
      'src 198.18.1.1/32 dst 198.19.2.0/24 dir out if_id 7',
      'src 198.18.1.2/32 dst 198.18.1.1/32 dir fwd if_id 7',
      'src 198.18.1.2/32 dst 198.18.1.1/32 dir in if_id 7',
      'src 198.18.1.2/32 dst 198.19.1.0/24 dir fwd if_id 7',
      'src 198.18.1.2/32 dst 198.19.1.0/24 dir in if_id 7',
      'src 198.19.1.0/24 dst 198.18.1.2/32 dir out if_id 7',
      'src 198.19.1.0/24 dst 198.19.2.0/24 dir out if_id 7',
      'src 198.19.2.0/24 dst 198.18.1.1/32 dir fwd if_id 7',
      'src 198.19.2.0/24 dst 198.18.1.1/32 dir in if_id 7',
      'src 198.19.2.0/24 dst 198.19.1.0/24 dir fwd if_id 7',
      'src 198.19.2.0/24 dst 198.19.1.0/24 dir in if_id 7',
    ].sort(),
    'kernel variant: every local x remote selector in three directions',
  );
  t.same(
    charonPeerObjects(envFor('snab', undefined), kernelSpec(), VIEW, 'userspace', 7),
    [
      { type: 'route', dst: '198.18.1.2/32', table: 220, netns: undefined },
      { type: 'route', dst: '198.19.2.0/24', table: 220, netns: undefined },
    ],
    'userspace variant: table 220 routes to the remote selectors',
  );

  const n = runner.calls.length;
  const bad: OwnedObject[] = [
    { type: 'ip-rule', family: 4, priority: 0, table: 255 },
    { type: 'ip-rule', family: 4, priority: 32766, table: 254 },
    { type: 'ip-rule', family: 4, priority: 100, table: 254 },
    { type: 'ip-rule', family: 5 as 4, priority: 220, table: 220 },
    { type: 'xfrm-policy', selector: ['src', '198.18.1.1/32', 'dst', '198.18.1.2/32'] },
    { type: 'xfrm-policy', selector: ['src', '198.18.1.1/32', 'dst', '198.18.1.2/32', 'dir', 'out', 'flush', 'x'] },
    { type: 'xfrm-policy', selector: ['src', '-all', 'dst', '198.18.1.2/32', 'dir', 'out'] },
    { type: 'xfrm-policy', selector: ['src', '198.18.1.1/32', 'dst', '198.18.1.2/32', 'dir', 'out', 'dir', 'in'] },
    { type: 'xfrm-state', selector: ['src', '198.18.0.1', 'proto', 'esp'] },
    { type: 'xfrm-state', selector: ['src', '198.18.0.1', 'dst', '198.18.0.2', 'proto', 'esp', 'spi', '0x1;rm'] },
  ];
  for (const o of bad) await t.rejects(removeObject(deps, o), /refusing/, `refused: ${JSON.stringify(o)}`);
  t.equal(runner.calls.length, n, 'nothing ran for a refused record');

  const gone = new FakeRunner()
    .on('rule del', { fail: 'NotFound', stderr: 'RTNETLINK answers: No such file or directory' })
    .on('policy del', { fail: 'NotFound', stderr: 'RTNETLINK answers: No such file or directory' });
  for (const o of [...charonRuleObjects(env), objs[0]!]) await removeObject({ runner: gone, env }, o);
  t.pass('already gone is success');
});

t.test('wireguard socket paths: exactly /var/run/wireguard or /run/wireguard, a name with the prefix', async (t) => {
  t.equal(wireguardSocketName('/var/run/wireguard/snabw1234567890.sock', 'snab'), 'snabw1234567890');
  t.equal(wireguardSocketName('/run/wireguard/snabwx.sock', 'snab'), 'snabwx');
  for (const p of [
    '/var/run/wireguard/sncdwx.sock',
    '/var/run/wireguard/wg0.sock',
    '/var/run/wireguard/snabwx',
    '/var/run/wireguard/snabw12345678901.sock',
    '/var/run/wireguard/../snabwx.sock',
    '/var/run/wireguard/sub/snabwx.sock',
    '/var/run/wireguard//snabwx.sock',
    '/tmp/wireguard/snabwx.sock',
    'var/run/wireguard/snabwx.sock',
    '/var/run/wireguard/snab wx.sock',
  ]) {
    t.equal(wireguardSocketName(p, 'snab'), undefined, `rejected: ${p}`);
  }
  t.equal(wireguardSocketName('/var/run/wireguard/snabwx.sock', 'sn'), undefined, 'a malformed prefix matches nothing');
  const runner = new FakeRunner();
  await t.rejects(removeObject({ runner, env: envFor('snab', undefined) }, { type: 'path', path: '/var/run/wireguard/sncdwx.sock' }), /refusing/, "another agent's socket is refused");
  await t.rejects(removeObject({ runner, env: envFor('snab', undefined) }, { type: 'path', path: '/var/run/wireguard/../passwd' }), /refusing/, 'a path escaping the directory is refused');
});

t.test('GC finds wireguard sockets with the prefix that no journal lists, and removes them', async (t) => {
  if (!requireRoot(t, 'network namespaces, daemons and /var/run/wireguard')) return;
  const prefix = labPrefix(randomLabId(), 3);
  const dir = mkdtempSync(join(tmpdir(), 'sncrash-'));
  const env = envFor(prefix, undefined, dir);
  for (const d of ['state', 'run', 'bpf']) mkdirSync(join(dir, d), { recursive: true });
  mkdirSync('/var/run/wireguard', { recursive: true, mode: 0o755 });
  const live = `${prefix}wlive${randomLabId().slice(0, 4)}`;
  const stray = `${prefix}wstray${randomLabId().slice(0, 4)}`;
  const plain = `${prefix}wfile${randomLabId().slice(0, 4)}`;
  const paths = [live, stray, plain].map(wireguardSocket);
  const servers = await Promise.all(
    [live, stray].map(
      (n) =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(wireguardSocket(n), () => resolve(s));
        }),
    ),
  );
  writeFileSync(paths[2]!, 'not a socket');
  t.teardown(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    for (const p of paths) rmSync(p, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  const runner = new FakeRunner();
  const known: OwnedObject[] = [{ type: 'link', name: live }];
  const orphans = await findOrphans({ runner, env }, known);
  const found = orphans.flatMap((o) => (o.type === 'path' && o.path.startsWith('/var/run/wireguard/') ? [o.path] : []));
  t.ok(found.includes(wireguardSocket(stray)), 'the stray socket is an orphan');
  t.notOk(found.includes(wireguardSocket(plain)), 'a regular file of that name is not taken for a socket');
  t.notOk(found.includes(wireguardSocket(live)), "a socket whose device a kept journal lists is not an orphan");
  t.same((await findOrphans({ runner, env }, [{ type: 'path', path: wireguardSocket(stray) }, ...known])).filter((o) => o.type === 'path' && o.path === wireguardSocket(stray)), [], 'a journalled socket is not an orphan');

  await removeObject({ runner, env }, { type: 'path', path: wireguardSocket(stray) });
  t.notOk(existsSync(wireguardSocket(stray)), 'undo removed the stray socket');
  await removeObject({ runner, env }, { type: 'path', path: wireguardSocket(stray) });
  t.pass('removing it twice succeeds');
  await t.rejects(removeObject({ runner, env }, { type: 'path', path: wireguardSocket(plain) }), /not a socket/, 'a regular file of that name is left alone');
  t.ok(existsSync(wireguardSocket(plain)), 'the regular file is still there');
  t.ok(existsSync(wireguardSocket(live)), 'the live socket is still there');
});
