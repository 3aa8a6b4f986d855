// Unit tests of the filter drivers with FakeRunner: the exact batch each one loads for a small
// spec, one process per load, no load when the read-back already matches, and the errors.

import t from 'tap';
import { pino } from 'pino';
import { SeconetError } from '@seconet/core';
import type { DriverContext, NetworkView } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import { MemoryJournal } from '../src/journal/memory-journal.js';
import { FakeRunner } from '../src/testing.js';
import { FILTER_DRIVERS } from '../src/filters/index.js';
import { haproxyConfig, l7Chain, l7Restore, sinkContainers } from '../src/filters/l7-http.js';
import { buildRuleSet, decoyPair } from '../src/filters/rule-set.js';
import { IptablesFilter, iptablesChain, renderRestore } from '../src/filters/iptables.js';
import { NftablesFilter, nftTable, renderNft } from '../src/filters/nftables.js';
import { BpfFilter, bpfPins, dumpKeyBytes, portKey, renderBatch } from '../src/filters/bpf.js';
import { OvsFilter, renderFlows, scopeCookie } from '../src/filters/ovs.js';

const spec = { kind: 'x', guarded: ['198.19.1.0/24'], allow: [{ src: '198.19.1.2', dst: '198.19.1.3' }], extraRules: 2, ruleMatch: '' };
const env: HostEnv = {
  name: 'h1', prefix: 'sn01', hostNetns: 'snlbtesth1', stateDir: '/tmp/s', runDir: '/tmp/r', bpffs: '/tmp/b',
  underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500,
};
const view = (kind: string): NetworkView => ({
  kind, containerCidr: '198.19.1.0/24', gateway: '198.19.1.1', bridge: kind === 'ovs' ? 'sn01sbr' : 'sn01bbr',
  ovsdb: kind === 'ovs' ? '/tmp/r/ovs/x/run/db.sock' : undefined, containers: [], mtu: 1500,
});
function ctxWith(runner: FakeRunner): DriverContext {
  return { env, runner, journal: new MemoryJournal('s1'), log: pino({ level: 'silent' }), scope: 's1' };
}

t.test('registry holds every filter kind', async (t) => {
  t.same([...FILTER_DRIVERS.keys()].sort(), ['bpf', 'iptables', 'l7-http', 'nftables', 'ovs']);
});

t.test('l7-http: HAProxy denies all but GET / and forwards to the original destination; the redirect spares its own port', async (t) => {
  const cfg = haproxyConfig('198.19.1.3');
  t.match(cfg, /^ {2}bind 198\.19\.1\.3:15001$/m);
  t.match(cfg, /^ {2}http-request deny deny_status 403 unless \{ method GET \} \{ path \/ \}$/m);
  t.match(cfg, /^ {2}server sink 0\.0\.0\.0$/m, 'the address and port the client connected to');
  t.match(cfg, /^ {2}maxconn 4000$/m);
  t.throws(() => haproxyConfig('198.19.1.3; rm -rf /'), { code: 'INVALID_ARGUMENT' });
  const chain = l7Chain('sn01', 's1');
  t.equal(l7Restore(chain, '198.19.1.3'), [
    '*nat',
    `:${chain} - [0:0]`,
    `-A PREROUTING -d 198.19.1.3/32 -p tcp -m comment --comment ${chain} -j ${chain}`,
    `-A ${chain} -p tcp -m tcp --dport 15001 -j RETURN`,
    `-A ${chain} -p tcp -j REDIRECT --to-ports 15001`,
    'COMMIT',
    '',
  ].join('\n'));
  const c = (name: string, address: string) => ({ spec: { name, address }, netns: `ns-${name}`, hostIface: `h-${name}`, iface: 'eth0', mac: '' });
  const v = { ...view('bridge'), containers: [c('c1', '198.19.1.2'), c('c2', '198.19.1.3'), c('c3', '198.19.1.4')] };
  t.same(sinkContainers(spec, v).map((x) => x.spec.name), ['c2'], 'only destinations of allowed pairs get a proxy');
});

t.test('rule set: both directions, distinct decoys from the decoy block, field-naming errors', async (t) => {
  const rs = buildRuleSet({ ...spec, allow: [...spec.allow, { src: '198.19.1.3', dst: '198.19.1.2' }] });
  t.same(rs.allow, [{ src: '198.19.1.2', dst: '198.19.1.3' }, { src: '198.19.1.3', dst: '198.19.1.2' }]);
  const keys = new Set(Array.from({ length: 40000 }, (_, i) => { const d = decoyPair(i); return `${d.src}>${d.dst}`; }));
  t.equal(keys.size, 40000, 'decoy pairs are distinct');
  t.match(decoyPair(39999), { src: /^198\.18\.(1[2-9]\d|2[0-5]\d)\./, dst: /^198\.18\./ });
  t.throws(() => buildRuleSet({ ...spec, guarded: ['198.19.1.0/33'] }), { code: 'INVALID_ARGUMENT', field: 'state.filter.guarded[0]' });
  t.throws(() => buildRuleSet({ ...spec, allow: [{ src: '1.2.3', dst: '198.19.1.3' }] }), { code: 'INVALID_ARGUMENT', field: 'state.filter.allow[0].src' });
  t.throws(() => buildRuleSet({ ...spec, extraRules: 1e9 }), { code: 'INVALID_ARGUMENT', field: 'state.filter.extraRules' });
  t.throws(() => buildRuleSet({ ...spec, guarded: [] }), { code: 'INVALID_ARGUMENT', field: 'state.filter.guarded' });
  t.not(buildRuleSet(spec).digest, buildRuleSet({ ...spec, extraRules: 3 }).digest);
});

t.test('iptables: one iptables-restore --noflush with the chain, the jump and the rules in order', async (t) => {
  const rs = buildRuleSet(spec);
  const chain = iptablesChain('sn01', 's1');
  const d = rs.digest.slice(0, 16);
  t.equal(
    renderRestore(chain, rs, { exists: false, rules: [], jumps: [] }),
    [
      '*filter',
      `:${chain} - [0:0]`,
      `-I FORWARD 1 -s 198.19.1.0/24 -m comment --comment ${chain} -j ${chain}`,
      `-A ${chain} -s 198.18.128.0/32 -d 198.18.192.0/32 -j ACCEPT`,
      `-A ${chain} -s 198.18.128.1/32 -d 198.18.192.1/32 -j ACCEPT`,
      `-A ${chain} -s 198.19.1.2/32 -d 198.19.1.3/32 -j ACCEPT`,
      `-A ${chain} -s 198.19.1.3/32 -d 198.19.1.2/32 -j ACCEPT`,
      `-A ${chain} -d 198.19.1.0/24 -m comment --comment "${chain}:${d}" -j DROP`,
      'COMMIT',
      '',
    ].join('\n'),
  );
  const runner = new FakeRunner();
  const ctx = ctxWith(runner);
  runner.on('sysctl -n', { stdout: '1\n' });
  await new IptablesFilter().ensure(ctx, { ...spec, kind: 'iptables' }, view('bridge'));
  const restores = runner.calls.filter((c) => c.argv[0] === 'iptables-restore');
  t.equal(restores.length, 1, 'one process for the whole rule set');
  t.same(restores[0]!.argv, ['iptables-restore', '-w', '--noflush']);
  t.equal(restores[0]!.netns, 'snlbtesth1');
  t.equal(restores[0]!.stdin, renderRestore(chain, rs, { exists: false, rules: [], jumps: [] }));
  t.match(ctx.journal.objects(), [{ type: 'iptables-chain', table: 'filter', chain, netns: 'snlbtesth1', jumps: [{ from: 'FORWARD' }] }]);

  // Already loaded (as iptables-save prints it): no restore. A stale jump is deleted in the same transaction.
  const save = (restore: string): string => restore.replace(/^-I FORWARD 1 /m, '-A FORWARD ').replace(/^:(\S+) - \[0:0\]$/m, ':$1 - [0:0]');
  const loaded = save(renderRestore(chain, rs, { exists: false, rules: [], jumps: [] }));
  const r2 = new FakeRunner().on('sysctl -n', { stdout: '1\n' }).on('iptables-save', { stdout: loaded });
  t.same((await new IptablesFilter().ensure(ctxWith(r2), { ...spec, kind: 'iptables' }, view('bridge'))).changed, false);
  t.equal(r2.calls.filter((c) => c.argv[0] === 'iptables-restore').length, 0);
  const r3 = new FakeRunner().on('sysctl -n', { stdout: '1\n' }).on('iptables-save', { stdout: loaded });
  await new IptablesFilter().ensure(ctxWith(r3), { ...spec, kind: 'iptables', guarded: ['198.19.2.0/24'] }, view('routing'));
  const text = r3.calls.find((c) => c.argv[0] === 'iptables-restore')!.stdin!;
  t.match(text, `-D FORWARD -s 198.19.1.0/24 -m comment --comment ${chain} -j ${chain}\n-I FORWARD 1 -s 198.19.2.0/24 -m comment`);
});

t.test('iptables: bridged networks get bridge-nf-call-iptables=1, journaled before it is set', async (t) => {
  const runner = new FakeRunner().on('sysctl -n', { stdout: '0\n' });
  const ctx = ctxWith(runner);
  await new IptablesFilter().ensure(ctx, { ...spec, kind: 'iptables' }, view('bridge'));
  t.ok(runner.lines().includes('[snlbtesth1] sysctl -q -w net.bridge.bridge-nf-call-iptables=1'));
  t.match(ctx.journal.objects()[0], { type: 'sysctl', key: 'net.bridge.bridge-nf-call-iptables', previous: '0', restore: true });
});

t.test('nftables: one nft -f - that redefines the table in one transaction', async (t) => {
  const rs = buildRuleSet(spec);
  const table = nftTable('sn01', 's1');
  const m = `${table}:${rs.digest.slice(0, 16)}`;
  t.equal(
    renderNft(table, rs),
    [
      `table inet ${table}`,
      `delete table inet ${table}`,
      `table inet ${table} {`,
      `\tcomment "${m}"`,
      '\tchain forward {',
      '\t\ttype filter hook forward priority filter; policy accept;',
      `\t\tip saddr { 198.19.1.0/24 } ip daddr { 198.19.1.0/24 } jump guard comment "${table}"`,
      '\t}',
      '\tchain guard {',
      '\t\tip saddr 198.18.128.0 ip daddr 198.18.192.0 accept',
      '\t\tip saddr 198.18.128.1 ip daddr 198.18.192.1 accept',
      '\t\tip saddr 198.19.1.2 ip daddr 198.19.1.3 accept',
      '\t\tip saddr 198.19.1.3 ip daddr 198.19.1.2 accept',
      `\t\tdrop comment "${m}"`,
      '\t}',
      '}',
      '',
    ].join('\n'),
  );
  const runner = new FakeRunner().on('sysctl -n', { stdout: '1\n' }).on('nft list table', { fail: 'NotFound' });
  const ctx = ctxWith(runner);
  t.equal((await new NftablesFilter().ensure(ctx, { ...spec, kind: 'nftables' }, view('routing'))).changed, true);
  const loads = runner.calls.filter((c) => c.argv.join(' ') === 'nft -f -');
  t.equal(loads.length, 1);
  t.equal(loads[0]!.stdin, renderNft(table, rs));
  t.match(ctx.journal.objects(), [{ type: 'nft-table', family: 'inet', name: table, netns: 'snlbtesth1' }]);
  const r2 = new FakeRunner().on('nft list table', { stdout: renderNft(table, rs).split('\n').slice(2).join('\n') });
  t.equal((await new NftablesFilter().ensure(ctxWith(r2), { ...spec, kind: 'nftables' }, view('routing'))).changed, false);
  t.equal(r2.calls.filter((c) => c.argv.join(' ') === 'nft -f -').length, 0);
});

t.test('bpf: one bpftool batch writes the new generation, flips config, then deletes the old one', async (t) => {
  const rs = buildRuleSet(spec);
  const pins = bpfPins('/b', 'sn01', 's1');
  t.equal(
    renderBatch(pins, rs, 2, { allow: [[1, 0, 0, 0, 198, 18, 128, 0, 198, 18, 192, 0]], guarded: [[56, 0, 0, 0, 1, 0, 0, 0, 198, 19, 1, 0]], ports: [] }),
    [
      `map update pinned ${pins.guarded} key hex 38 00 00 00 02 00 00 00 c6 13 01 00 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 12 80 00 c6 12 c0 00 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 12 80 01 c6 12 c0 01 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 13 01 02 c6 13 01 03 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 13 01 03 c6 13 01 02 value hex 01`,
      `map update pinned ${pins.config} key hex 00 00 00 00 value hex 02 00 00 00`,
      `map delete pinned ${pins.allow} key hex 01 00 00 00 c6 12 80 00 c6 12 c0 00`,
      `map delete pinned ${pins.guarded} key hex 38 00 00 00 01 00 00 00 c6 13 01 00`,
      '',
    ].join('\n'),
  );
  t.ok(pins.dir.startsWith('/b/sn01d'), 'pins live in the scope directory under the agent bpffs');

  // Port-range rules go to the LPM trie, one aligned range per prefix, and flag the generation.
  const ports = buildRuleSet({ ...spec, extraRules: 2, ruleMatch: 'port' });
  const stalePort = portKey(1, '198.19.1.2', '198.19.1.3', 'tcp', 10240, 10241);
  t.equal(
    renderBatch(pins, ports, 2, { allow: [], guarded: [], ports: [stalePort] }),
    [
      `map update pinned ${pins.guarded} key hex 38 00 00 00 02 00 00 00 c6 13 01 00 value hex 01`,
      `map update pinned ${pins.ports} key hex 7f 00 00 00 02 00 00 00 c6 13 01 02 c6 13 01 03 06 00 28 00 value hex 01`,
      `map update pinned ${pins.ports} key hex 7f 00 00 00 02 00 00 00 c6 13 01 03 c6 13 01 02 06 00 28 00 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 13 01 02 c6 13 01 03 value hex 01`,
      `map update pinned ${pins.allow} key hex 02 00 00 00 c6 13 01 03 c6 13 01 02 value hex 01`,
      `map update pinned ${pins.config} key hex 00 00 00 00 value hex 02 00 00 80`,
      `map delete pinned ${pins.ports} key hex 7f 00 00 00 01 00 00 00 c6 13 01 02 c6 13 01 03 06 00 28 00`,
      '',
    ].join('\n'),
    'prefix 127 bits: generation, addresses, protocol and the port but its last bit (a range of 2)',
  );
  t.throws(() => portKey(1, '198.19.1.2', '198.19.1.3', 'tcp', 10241, 10242), { code: 'INTERNAL' }, 'an unaligned range is a bug, not a rule');
  t.same(dumpKeyBytes({ prefixlen: 127, gen: 2, src: 0x0201_13c6, dst: 0x0301_13c6, proto: 6, pad: 0, dport: 0x0028 }), [127, 0, 0, 0, 2, 0, 0, 0, 0xc6, 0x13, 1, 2, 0xc6, 0x13, 1, 3, 6, 0, 0x28, 0], 'a BTF-formatted trie key reads back as its bytes');
});

t.test('ovs: one bundled add-flows that deletes the scope cookie first', async (t) => {
  const rs = buildRuleSet(spec);
  const sc = scopeCookie('sn01', 's1');
  const c = `0x${sc}${rs.digest.slice(0, 8)}`;
  t.equal(
    renderFlows('sn01', 's1', rs),
    [
      `delete cookie=0x${sc}00000000/0xffffffff00000000`,
      `add cookie=${c},priority=30,ip,nw_src=198.18.128.0,nw_dst=198.18.192.0,actions=NORMAL`,
      `add cookie=${c},priority=30,ip,nw_src=198.18.128.1,nw_dst=198.18.192.1,actions=NORMAL`,
      `add cookie=${c},priority=20,ip,nw_src=198.19.1.2,nw_dst=198.19.1.3,actions=NORMAL`,
      `add cookie=${c},priority=20,ip,nw_src=198.19.1.3,nw_dst=198.19.1.2,actions=NORMAL`,
      `add cookie=${c},priority=10,ip,nw_src=198.19.1.0/24,nw_dst=198.19.1.0/24,actions=drop`,
      '',
    ].join('\n'),
  );
  const runner = new FakeRunner();
  await new OvsFilter().ensure(ctxWith(runner), { ...spec, kind: 'ovs' }, view('ovs'));
  const add = runner.calls.filter((x) => x.argv.includes('add-flows'));
  t.equal(add.length, 1);
  t.same(add[0]!.argv, ['ovs-ofctl', '-O', 'OpenFlow14', '--bundle', 'add-flows', 'unix:/tmp/r/ovs/x/run/sn01sbr.mgmt', '-']);
  t.equal(add[0]!.stdin, renderFlows('sn01', 's1', rs));
  // Loaded already (dump-flows shows every flow with this cookie): nothing to do.
  const dump = renderFlows('sn01', 's1', rs).split('\n').slice(1).filter(Boolean).map((l) => ' ' + l.replace(/^add /, '').replace(/^(cookie=0x[0-9a-f]+),/, '$1, ').replace(',actions=', ' actions=')).join('\n');
  const r2 = new FakeRunner().on('dump-flows', { stdout: dump + '\n' });
  t.equal((await new OvsFilter().ensure(ctxWith(r2), { ...spec, kind: 'ovs' }, view('ovs'))).changed, false);
  t.equal(r2.calls.filter((x) => x.argv.includes('add-flows')).length, 0);
});

t.test('a filter that would see none of the guarded traffic is refused, naming state.filter.kind', async (t) => {
  for (const [driver, network] of [[new OvsFilter(), 'bridge'], [new IptablesFilter(), 'ovs'], [new NftablesFilter(), 'ovs'], [new BpfFilter(), 'ovs'], [new IptablesFilter(), 'bpf'], [new NftablesFilter(), 'bpf']] as const) {
    const runner = new FakeRunner();
    await t.rejects(driver.ensure(ctxWith(runner), { ...spec, kind: driver.kind }, view(network)), { code: 'UNSUPPORTED', field: 'state.filter.kind' });
    t.equal(runner.calls.length, 0, `${driver.kind} on ${network}: no command ran`);
  }
  await t.rejects(new IptablesFilter().ensure(ctxWith(new FakeRunner()), { ...spec, guarded: ['x'] }, view('routing')), SeconetError);
  // With a remote guarded network, cross-host traffic crosses netfilter on the ovs and bpf networks: accepted.
  for (const network of ['ovs', 'bpf']) {
    const runner = new FakeRunner().on('nft list table', { fail: 'NotFound' });
    await t.resolves(new NftablesFilter().ensure(ctxWith(runner), { ...spec, kind: 'nftables', guarded: ['198.19.1.0/24', '198.19.2.0/24'] }, view(network)), `nftables on ${network} with a remote guarded network`);
  }
});
