// Hundreds of containers on one lab host through the reconciler (Apply / Teardown), with the
// container-namespace work carried by sn-nsconf: every namespace and host veth is there after
// Apply, sampled namespaces hold lo up, eth0 up with its address, MTU, no IPv6 link-local
// address, the default route (and, routed, the pinned gateway neighbour), containers reach each
// other; after Teardown nothing with the agent's prefix is left.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { nthHost } from '@seconet/core';
import type { ApplyRequest__Output } from '../src/gen/seconet/agent/v1/ApplyRequest.js';
import type { HostEnv } from '../src/host-env.js';
import { createLab, destroyLab, randomLabId } from '../src/lab/topology.js';
import { containerNetns, hostVeth } from '../src/names.js';
import { builtNsconf, containerBatches, listLinks, listNetns, NSCONF_BINARY, nsconfAccepts } from '../src/netns/ip-batch.js';
import { NEIGH_PER_NETNS } from '../src/netns/host-limits.js';
import { createReconciler } from '../src/reconciler/reconciler.js';
import { ExecRunner } from '../src/runner/runner.js';
import { FakeRunner } from '../src/testing.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';
import { ping, silentLogger } from './helpers/two-hosts.js';

const CIDR = '198.19.4.0/22';
const N = 300;

function request(scope: string, network: string, n: number, cidr = CIDR): ApplyRequest__Output {
  return {
    requestId: `scale-${scope}`,
    scope,
    state: { network, containerCidr: cidr, containers: Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}`, address: nthHost(cidr, i + 2) })), tunnel: null, filter: null, mtu: 1400 },
  };
}

t.test('sn-nsconf carries the container-side lines; anything else goes through ip', async (t) => {
  for (const l of [
    'link set dev lo up',
    'link set dev eth0 addrgenmode none',
    'link set dev eth0 mtu 1400 up',
    'addr replace 198.19.4.2/22 dev eth0',
    'route replace default via 198.19.4.1 dev eth0',
    'route replace default via 169.254.1.1 dev eth0 onlink',
    'neigh replace 169.254.1.1 lladdr 02:aa:bb:cc:dd:ee dev eth0 nud permanent',
  ]) {
    t.ok(nsconfAccepts(l), l);
  }
  for (const l of ['link add x type veth', 'addr add fd00::1/64 dev eth0', 'route replace default via 198.19.4.1 dev eth0 table 5', 'link set dev eth0 up; rm -rf /']) t.notOk(nsconfAccepts(l), l);

  const jobs = [
    { netns: 'snabc1', lines: ['link set dev lo up'] },
    { netns: 'snabc2', lines: [] },
    { netns: 'snabc3', lines: ['link set dev lo up', 'addr replace 198.19.4.4/22 dev eth0'] },
  ];
  const helper = new FakeRunner();
  await containerBatches({ runner: helper, env: { nsconf: '/opt/sn-nsconf' } }, jobs);
  t.same(helper.calls.map((c) => [c.argv.join(' '), c.stdin]), [['/opt/sn-nsconf', 'netns snabc1\nlink set dev lo up\nnetns snabc3\nlink set dev lo up\naddr replace 198.19.4.4/22 dev eth0\n']], 'one process for every namespace');
  const plain = new FakeRunner();
  await containerBatches({ runner: plain, env: { nsconf: undefined } }, jobs);
  t.same(plain.calls.map((c) => c.argv.join(' ')), ['ip -n snabc1 -batch -', 'ip -n snabc3 -batch -'], 'without the helper: one ip per namespace');
  const odd = new FakeRunner();
  await containerBatches({ runner: odd, env: { nsconf: '/opt/sn-nsconf' } }, [...jobs, { netns: 'snabc4', lines: ['link set dev eth0 promisc on'] }]);
  t.equal(odd.calls.length, 3, 'a line the helper does not know: every namespace through ip');
});

t.test(`${N} containers (bridge) and 60 (routing) set up and torn down with sn-nsconf`, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  if (!requireTool(t, 'ip', 'container namespaces')) return;
  if (!requireTool(t, NSCONF_BINARY, 'container-namespace setup (npm run native)')) return;
  const runner = new ExecRunner();
  const root = mkdtempSync(join(tmpdir(), 'seconet-scale-'));
  const topo = await createLab(runner, randomLabId(), 1);
  const host = topo.hosts[0]!;
  const env: HostEnv = {
    name: host.name, prefix: host.prefix, hostNetns: host.netns, stateDir: join(root, 'state'), runDir: join(root, 'run'), bpffs: join(root, 'bpf'),
    underlayDev: host.underlayDev, underlayAddress: host.underlayAddress, underlayMtu: 1500, nsconf: builtNsconf(),
  };
  const rec = await createReconciler({ env, runner, log: silentLogger() });
  t.teardown(async () => {
    await rec.gc({ requestId: 'scale-cleanup', keepScopes: [] }).catch(() => undefined);
    await destroyLab(runner, topo);
    rmSync(root, { recursive: true, force: true });
  });
  const mine = async (): Promise<string[]> => [...(await listNetns(runner))].filter((n) => n.startsWith(env.prefix));

  for (const [network, n] of [['bridge', N], ['routing', 60]] as const) {
    const scope = `scale${network}`;
    const t0 = performance.now();
    await rec.apply(request(scope, network, n));
    const setupMs = performance.now() - t0;
    t.equal((await mine()).length, n, `${network}: ${n} container namespaces after Apply (${Math.round(setupMs)} ms)`);
    // The kernel's neighbour table (shared by every namespace) holds what the containers need (host-limits.ts).
    const thresh3 = Number(readFileSync('/proc/sys/net/ipv4/neigh/default/gc_thresh3', 'utf8'));
    t.ok(thresh3 >= 1024 + NEIGH_PER_NETNS * n, `${network}: gc_thresh3 ${thresh3} holds ${NEIGH_PER_NETNS} neighbours per container`);
    const links = await listLinks(runner, env.hostNetns);
    const veths = Array.from({ length: n }, (_, i) => links.get(hostVeth(env.prefix, scope, `c${i + 1}`)));
    t.ok(veths.every((l) => l !== undefined && l.up && l.mtu === 1400), `${network}: ${n} host veths up with MTU 1400`);

    for (const i of [1, Math.ceil(n / 2), n]) {
      const ns = containerNetns(env.prefix, scope, `c${i}`);
      const rows = JSON.parse((await runner.run(['ip', '-n', ns, '-j', 'addr', 'show'])).stdout) as Array<{ ifname: string; flags: string[]; mtu: number; addr_info: Array<{ family: string; local: string; prefixlen: number }> }>;
      const modes = JSON.parse((await runner.run(['ip', '-n', ns, '-d', '-j', 'link', 'show', 'dev', 'eth0'])).stdout) as Array<{ inet6_addr_gen_mode?: string }>;
      const lo = rows.find((r) => r.ifname === 'lo');
      const eth = rows.find((r) => r.ifname === 'eth0');
      t.ok(lo?.flags.includes('UP'), `c${i}: lo up`);
      t.ok(eth?.flags.includes('UP'), `c${i}: eth0 up`);
      t.equal(eth?.mtu, 1400, `c${i}: eth0 MTU`);
      t.equal(modes[0]?.inet6_addr_gen_mode, 'none', `c${i}: IPv6 address generation off`);
      t.same(eth?.addr_info.map((a) => `${a.family} ${a.local}/${a.prefixlen}`), [`inet ${nthHost(CIDR, i + 1)}/${network === 'bridge' ? 22 : 32}`], `c${i}: only its IPv4 address`);
      const routes = JSON.parse((await runner.run(['ip', '-n', ns, '-j', 'route', 'show', 'default'])).stdout) as Array<{ gateway: string; dev: string }>;
      t.same(routes.map((r) => `${r.gateway} ${r.dev}`), [network === 'bridge' ? `${nthHost(CIDR, 1)} eth0` : '169.254.1.1 eth0'], `c${i}: default route`);
      if (network === 'routing') {
        const neigh = (await runner.run(['ip', '-n', ns, 'neigh', 'show', '169.254.1.1'])).stdout;
        t.match(neigh, /lladdr 02(:[0-9a-f]{2}){5} PERMANENT/, `c${i}: pinned gateway neighbour`);
      }
    }
    const first = containerNetns(env.prefix, scope, 'c1');
    // Three tries: the ARP request is one packet per bridge port on a CPU backlog a busy machine may overflow.
    t.ok(await ping(runner, first, nthHost(CIDR, n + 1), { count: 3, timeoutS: 3 }), `${network}: c1 reaches c${n}`);

    const t1 = performance.now();
    await rec.teardown({ requestId: `scale-${scope}-down`, scope });
    const downMs = performance.now() - t1;
    t.same(await mine(), [], `${network}: no namespace left after Teardown (${Math.round(downMs)} ms)`);
    const after = await listLinks(runner, env.hostNetns);
    t.same([...after.keys()].filter((k) => k.startsWith(env.prefix)), [], `${network}: no host link left`);
  }
});

t.test('a failing request names the namespace, the line and the kernel answer', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  if (!requireTool(t, NSCONF_BINARY, 'container-namespace setup (npm run native)')) return;
  const runner = new ExecRunner();
  const ns = `snzt${randomLabId()}`;
  await runner.run(['ip', 'netns', 'add', ns]);
  t.teardown(() => runner.run(['ip', 'netns', 'del', ns]).then(() => undefined));
  await t.rejects(
    containerBatches({ runner, env: { nsconf: NSCONF_BINARY } }, [{ netns: ns, lines: ['link set dev lo up', 'addr replace 198.19.4.2/22 dev eth0'] }]),
    { message: new RegExp(`line 3 \\(netns ${ns}\\) \`addr replace 198.19.4.2/22 dev eth0\`: Cannot find device "eth0"`) },
  );
  await t.rejects(containerBatches({ runner, env: { nsconf: NSCONF_BINARY } }, [{ netns: `${ns}x`, lines: ['link set dev lo up'] }]), { message: /cannot open \/run\/netns\/snzt\w+x: No such file or directory/ });
  await containerBatches({ runner, env: { nsconf: NSCONF_BINARY } }, [{ netns: ns, lines: ['link set dev lo up', 'addr replace 198.19.4.2/32 dev lo', 'route replace 198.19.8.0/24 dev lo'] }]);
  const route = (await runner.run(['ip', '-n', ns, 'route', 'show', '198.19.8.0/24'])).stdout;
  t.match(route, /198\.19\.8\.0\/24 dev lo scope link/, 'a route without a gateway is link-scoped, as with ip');
});
