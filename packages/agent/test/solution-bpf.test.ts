import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { teardownObjects } from '../src/journal/undo.js';
import { bpfDriver, mapUpdateLine, readRedirectStats, redirectPins, REDIRECT_OBJECT } from '../src/solutions/bpf.js';
import { isBpffsMounted } from '../src/solutions/bpffs.js';
import { ping, setupLab } from './helpers/two-hosts.js';
import { requireRoot } from '../../../test/helpers/requirements.js';

const root = process.getuid?.() === 0;

t.before(() => {
  if (!root) return;
  const dir = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'bpf');
  execFileSync('/usr/bin/make', ['-s', '-C', dir, 'redirect.o']);
});

t.test('bpf: same-host traffic is redirected by the tc program, other traffic is routed', async (t) => {
  if (!requireRoot(t, 'network namespaces, tc and bpffs')) return;
  const lab = await setupLab({ hosts: 2, containers: [3, 1], network: 'bpf', underlayRoutes: true });
  t.teardown(lab.cleanup);
  t.ok(existsSync(REDIRECT_OBJECT));
  const [h1, h2] = lab.hosts;
  const [a, b, c] = h1!.containers;
  const [d] = h2!.containers;
  t.ok(isBpffsMounted(h1!.env.bpffs), 'the agent mounted its bpffs');
  const pins = redirectPins(h1!.env, 'test');
  t.ok(existsSync(pins.prog) && existsSync(pins.map), 'program and map pinned under the scope directory');

  const tc = await lab.runner.run(['tc', '-n', h1!.host.netns, 'filter', 'show', 'dev', a!.hostIface, 'ingress']);
  t.match(tc.stdout, /pref 10 bpf .*direct-action.*name redirect_ingres/, 'redirect filter at prio 10');

  const before = await readRedirectStats(lab.runner, h1!.env, 'test');
  const r = await lab.runner.run(['ping', '-n', '-c', '3', '-i', '0.2', '-W', '2', b!.spec.address], { netns: a!.netns });
  t.match(r.stdout, /3 received/, 'same host through the redirect');
  t.match(r.stdout, /ttl=63/, 'one router hop (TTL decremented by the program)');
  const after = await readRedirectStats(lab.runner, h1!.env, 'test');
  t.ok(after.packets - before.packets >= 6, `redirect counter moved by ${after.packets - before.packets} (3 requests + 3 replies)`);

  t.ok(await ping(lab.runner, c!.netns, d!.spec.address), 'across hosts (not redirected, routed)');
  const afterX = await readRedirectStats(lab.runner, h1!.env, 'test');
  t.ok(afterX.packets - after.packets <= 1, 'cross-host packets are left to the stack (only the reply into c may be redirected)');

  t.same(await bpfDriver.check(h1!.ctx, h1!.view!), [], 'no drift');
  await lab.runner.run(['tc', '-n', h1!.host.netns, 'qdisc', 'del', 'dev', b!.hostIface, 'clsact']);
  const drift = await bpfDriver.check(h1!.ctx, h1!.view!);
  t.same(drift.map((x) => x.object), [`tc ingress ${b!.hostIface}`], 'a removed tc filter is drift');
  const again = await bpfDriver.ensure(h1!.ctx, h1!.cidr, h1!.containers, 1500);
  t.same(await bpfDriver.check(h1!.ctx, again.view), [], 'ensure repairs it');

  await teardownObjects({ runner: lab.runner, env: h1!.env }, h1!.journal);
  t.notOk(existsSync(pins.dir), 'pins removed at teardown');
  t.same(h1!.journal.objects(), []);
});

t.test('map entries: key in network order, ifindex little-endian, then destination and gateway MACs', async (t) => {
  t.equal(
    mapUpdateLine('/sys/fs/bpf/x/redirect_map', '198.19.1.2', 0x1234, '02:aa:bb:cc:dd:ee', '02:11:22:33:44:55'),
    'map update pinned /sys/fs/bpf/x/redirect_map key hex c6 13 01 02 value hex 34 12 00 00 02 aa bb cc dd ee 02 11 22 33 44 55',
  );
  t.equal(redirectPins({ bpffs: '/b', prefix: 'snab' }, 's1').dir.startsWith('/b/snabd'), true, 'one directory per scope under the agent bpffs');
});
