// L4 policy complexity as the CNI studies define it: extra rules that differ by destination
// port range, in front of the allow rule, so the allowed flow matches only the last rule. Real
// filters on one lab host with four containers (c1 <-> c2 allowed): verdicts hold with 1000
// port-range rules, the kernel's read-back matches what the driver rendered (a second ensure
// changes nothing), and for iptables and OVS the packet counters show the allowed flow hit the
// allow rule and no port-range rule. The bpf filter keeps its port-range rules in an LPM trie:
// a TCP flow of the allowed pair on a port inside a rule's range and one outside every range
// both pass, a denied pair's does not, and the trie answers for the ranges it holds.
import t from 'tap';
import type { Test } from 'tap';
import type { DriverContext, FilterDriver, NetworkView } from '../src/driver.js';
import { mgmtSocket } from '../src/ovs/switch.js';
import type { FilterSpec__Output } from '../src/gen/seconet/agent/v1/FilterSpec.js';
import { IptablesFilter } from '../src/filters/iptables.js';
import { NftablesFilter } from '../src/filters/nftables.js';
import { OvsFilter } from '../src/filters/ovs.js';
import { BpfFilter, GEN_PORTS, bpfPins, dumpKeyBytes, portKey } from '../src/filters/bpf.js';
import { DECOY_PORTS, PORT_RULES_PER_PAIR, buildRuleSet, portDecoy } from '../src/filters/rule-set.js';
import { chainRules, iptablesChain } from '../src/filters/iptables.js';
import { flowLines } from '../src/filters/ovs.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { teardownObjects } from '../src/journal/undo.js';
import { ping, setupLab, silentLogger } from './helpers/two-hosts.js';
import { requireRoot, requireTool } from '../../../test/helpers/requirements.js';

const allow = [{ src: '198.19.1.2', dst: '198.19.1.3' }];
const base = { kind: 'x', guarded: ['198.19.1.0/24'], allow, extraRules: 4, ruleMatch: 'port' };

t.test('port-range rules: allowed pairs, unused destination ranges aligned to their width, distinct', async (t) => {
  const rs = buildRuleSet(base);
  t.same(rs.decoys.map((d) => [d.src, d.dst, d.proto, d.ports?.lo, d.ports?.hi]), [
    ['198.19.1.2', '198.19.1.3', 'tcp', 10240, 10241],
    ['198.19.1.3', '198.19.1.2', 'tcp', 10240, 10241],
    ['198.19.1.2', '198.19.1.3', 'udp', 10240, 10241],
    ['198.19.1.3', '198.19.1.2', 'udp', 10240, 10241],
  ]);
  t.same(chainRules('C', rs)[0], '-s 198.19.1.2/32 -d 198.19.1.3/32 -p tcp -m tcp --dport 10240:10241 -j ACCEPT');
  t.equal(flowLines(rs)[0], 'priority=30,tcp,nw_src=198.19.1.2,nw_dst=198.19.1.3,tp_dst=0x2800/0xfffe actions=NORMAL');
  const seen = new Set<string>();
  const two = [...allow, { src: allow[0]!.dst, dst: allow[0]!.src }];
  for (let i = 0; i < PORT_RULES_PER_PAIR * 2; i++) {
    const d = portDecoy(i, two);
    const w = d.ports!.hi - d.ports!.lo + 1;
    if (d.ports!.lo < DECOY_PORTS.lo || d.ports!.hi > DECOY_PORTS.hi || d.ports!.lo % w !== 0 || (w & (w - 1)) !== 0) t.fail(`rule ${i}: ${JSON.stringify(d)}`);
    seen.add(JSON.stringify(d));
  }
  t.equal(seen.size, PORT_RULES_PER_PAIR * 2, `${seen.size} distinct rules for one pair`);
  t.ok(PORT_RULES_PER_PAIR * 2 >= 90_000, 'one pair holds the published sweeps (up to 10,000 rules) many times over');
  t.not(buildRuleSet(base).digest, buildRuleSet({ ...base, ruleMatch: 'address' }).digest);
  t.equal(buildRuleSet({ ...base, ruleMatch: 'address' }).digest, buildRuleSet({ ...base, ruleMatch: '' }).digest, 'address is the default');
  t.throws(() => buildRuleSet({ ...base, ruleMatch: 'ports' }), { code: 'INVALID_ARGUMENT', field: 'state.filter.ruleMatch' });
  t.throws(() => buildRuleSet({ ...base, extraRules: PORT_RULES_PER_PAIR * 2 + 1 }), { code: 'INVALID_ARGUMENT', field: 'state.filter.extraRules', message: /do not fit 2 directed pairs/ });
  t.throws(() => buildRuleSet({ ...base, allow: [] }), { code: 'INVALID_ARGUMENT', field: 'state.filter.ruleMatch' });
});

async function scenario(t: Test, driver: FilterDriver, network: string, hit: (ctx: DriverContext, view: NetworkView) => Promise<{ allow: number; decoys: number }>): Promise<void> {
  const lab = await setupLab({ hosts: 1, containers: 4, network, scope: 'fpr' });
  t.teardown(lab.cleanup);
  const h = lab.hosts[0]!;
  const view = h.view!;
  const [c1, c2, c3, c4] = view.containers;
  const fj = new MemoryJournal('fpr');
  const ctx: DriverContext = { ...h.context('fpr', fj), log: silentLogger() };
  const spec: FilterSpec__Output = { kind: driver.kind, guarded: [h.cidr], allow: [{ src: c1!.spec.address, dst: c2!.spec.address }], extraRules: 1000, ruleMatch: 'port' };
  t.equal((await driver.ensure(ctx, spec, view)).changed, true, 'loaded 1000 port-range rules');
  const p = (a: typeof c1, b: typeof c1): Promise<boolean> => ping(lab.runner, a!.netns, b!.spec.address, { count: 3, timeoutS: 1 });
  t.ok(await p(c1, c2), 'allowed c1 -> c2 passes');
  t.ok(await p(c2, c1), 'allowed c2 -> c1 passes');
  t.notOk(await p(c3, c4), 'denied c3 -> c4 is dropped');
  t.notOk(await p(c1, c3), 'c1 -> c3 (not allowed) is dropped');
  t.equal((await driver.ensure(ctx, spec, view)).changed, false, 'the kernel reads back what was rendered: a second ensure is a no-op');
  t.same(await driver.check(ctx, spec, view), [], 'no drift');
  const counts = await hit(ctx, view);
  if (counts.allow >= 0) {
    t.ok(counts.allow >= 6, `the allowed flow matched the last (allow) rule: ${counts.allow} packets`);
    t.equal(counts.decoys, 0, 'no packet matched a port-range rule');
  }
  const undo = await teardownObjects({ runner: lab.runner, env: h.env, graceMs: 500 }, fj);
  t.same(undo.failed, [], 'every filter object removed');
}

t.test('iptables on routing', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await scenario(t, new IptablesFilter(), 'routing', async (ctx) => {
    const chain = iptablesChain(ctx.env.prefix, ctx.scope);
    const r = await ctx.runner.run(['iptables', '-w', '-t', 'filter', '-L', chain, '-v', '-x', '-n'], { netns: ctx.env.hostNetns, timeoutMs: 10_000 });
    const rows = r.stdout.split('\n').filter((l) => /ACCEPT/.test(l)).map((l) => ({ pkts: Number(l.trim().split(/\s+/)[0]), port: /dpts?:/.test(l) }));
    return { allow: rows.filter((x) => !x.port).reduce((n, x) => n + x.pkts, 0), decoys: rows.filter((x) => x.port).reduce((n, x) => n + x.pkts, 0) };
  });
});

t.test('nftables on routing', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await scenario(t, new NftablesFilter(), 'routing', async () => ({ allow: -1, decoys: -1 }));
});

t.test('ovs filter on ovs', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  await scenario(t, new OvsFilter(), 'ovs', async (ctx, view) => {
    const r = await ctx.runner.run(['ovs-ofctl', '-O', 'OpenFlow14', 'dump-flows', `unix:${mgmtSocket(view.ovsdb!, view.bridge!)}`], { netns: ctx.env.hostNetns, timeoutMs: 10_000 });
    const rows = r.stdout.split('\n').filter((l) => /priority=(20|30),/.test(l)).map((l) => ({ pkts: Number(/n_packets=(\d+)/.exec(l)?.[1] ?? 0), port: /priority=30,/.test(l) }));
    return { allow: rows.filter((x) => !x.port).reduce((n, x) => n + x.pkts, 0), decoys: rows.filter((x) => x.port).reduce((n, x) => n + x.pkts, 0) };
  });
});

t.test('bpf filter on bpf: port-range rules in an LPM trie', async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  if (!requireTool(t, 'iperf3', 'TCP flows through the filter')) return;
  await scenario(t, new BpfFilter(), 'bpf', async (ctx, view) => {
    const [c1, c2, c3, c4] = view.containers;
    const pins = bpfPins(ctx.env.bpffs, ctx.env.prefix, ctx.scope);
    const config = JSON.parse((await ctx.runner.run(['bpftool', '-j', 'map', 'lookup', 'pinned', pins.config, 'key', 'hex', '00', '00', '00', '00'])).stdout) as { value: unknown };
    const raw = dumpKeyBytes(config.value);
    const gen = ((raw[0]! | (raw[1]! << 8) | (raw[2]! << 16) | (raw[3]! << 24)) >>> 0);
    t.ok((gen & GEN_PORTS) !== 0, 'the active generation is flagged as having port-range rules');
    const lookup = async (port: number): Promise<boolean> => {
      // A full-length key (one port): the trie answers with the longest prefix holding it.
      const key = portKey(gen & ~GEN_PORTS, c1!.spec.address, c2!.spec.address, 'tcp', port, port);
      const r = await ctx.runner.run(['bpftool', 'map', 'lookup', 'pinned', pins.ports, 'key', 'hex', ...key.map((b) => b.toString(16).padStart(2, '0'))]).catch(() => undefined);
      return r !== undefined;
    };
    t.ok(await lookup(10241), 'the trie holds the first rule (tcp 10240-10241 from c1 to c2)');
    t.notOk(await lookup(5201), 'and no rule for the workload port');
    const tcp = async (from: typeof c1, to: typeof c1, port: number): Promise<boolean> => {
      const server = ctx.runner.spawn(['iperf3', '-s', '-1', '-p', String(port), '-B', to!.spec.address], { netns: to!.netns });
      try {
        await new Promise((r) => setTimeout(r, 300));
        const r = await ctx.runner.run(['iperf3', '-c', to!.spec.address, '-p', String(port), '-t', '1', '--connect-timeout', '1000'], { netns: from!.netns, timeoutMs: 15_000 }).catch(() => undefined);
        return r !== undefined;
      } finally {
        try {
          process.kill(server.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await server.exited;
      }
    };
    t.ok(await tcp(c1, c2, 10240), 'TCP of the allowed pair on a port inside a rule\'s range passes (trie hit)');
    t.ok(await tcp(c1, c2, 5201), 'TCP of the allowed pair outside every range passes (the pair map)');
    t.notOk(await tcp(c3, c4, 5201), 'TCP of a denied pair is dropped');
    return { allow: -1, decoys: -1 };
  });
});
