import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RECIPES, RECIPE_NAMES, SeconetError, expandMatrix, parseSpec, recipeDefinition, type CapabilityLike } from '@seconet/core';

type Test = Pick<typeof t, 'fail' | 'equal' | 'match'>;

function refused(t: Test, text: string, field: string, message: RegExp): void {
  try {
    parseSpec(text);
    t.fail(`expected INVALID_SPEC at ${field}`);
  } catch (e) {
    const err = e as SeconetError;
    t.equal(err.code, 'INVALID_SPEC');
    t.equal(err.field, field, err.message);
    t.match(err.message, message);
  }
}

t.test('every recipe names blocks the spec knows, and a one-line definition', async (t) => {
  t.equal(RECIPE_NAMES.length, 10);
  for (const name of RECIPE_NAMES) {
    const r = RECIPES[name];
    t.equal(r.name, name);
    t.match(recipeDefinition(r), new RegExp(`^network ${r.network}, tunnel ${r.tunnel}, filter ${r.filter}`));
  }
  t.equal(recipeDefinition(RECIPES['flannel-vxlan']), 'network bridge, tunnel vxlan, filter none, tunnel port 8472, vni 1');
});

t.test('a recipe fills network, tunnel and filter; parsing the result again gives the same spec', async (t) => {
  const s = parseSpec('name: r\nmatrix: {recipe: [calico-ipip, cilium-vxlan]}\nworkloads: [latency-basic]\n');
  t.same(s.matrix.recipe, ['calico-ipip', 'cilium-vxlan']);
  t.same(s.matrix.network, ['routing', 'bpf']);
  t.same(s.matrix.tunnel, ['ipip', 'vxlan']);
  t.same(s.matrix.filter, ['iptables', 'bpf']);
  t.same(parseSpec(JSON.parse(JSON.stringify(s))), s);
  const agreeing = parseSpec('name: r\nmatrix: {recipe: [antrea-geneve], network: [ovs], filter: [ovs]}\nworkloads: [latency-basic]\n');
  t.same(agreeing.matrix.tunnel, ['geneve']);
});

t.test('an unknown recipe is refused naming the field and the known ones', async (t) => {
  refused(t, 'name: r\nmatrix: {recipe: [calico-vxaln]}\nworkloads: [latency-basic]\n', 'matrix.recipe[0]', /calico-vxaln.*calico-vxlan/);
});

t.test('explicit blocks that contradict a recipe are refused with the recipe\'s definition', async (t) => {
  refused(t, 'name: r\nmatrix: {recipe: [calico-ipip], tunnel: [vxlan]}\nworkloads: [latency-basic]\n', 'matrix.tunnel[0]',
    /tunnel vxlan contradicts the recipe: recipe calico-ipip is network routing, tunnel ipip, filter iptables; leave matrix.tunnel out/);
  refused(t, 'name: r\nmatrix: {recipe: [cilium-wireguard], network: [bpf, bridge]}\nworkloads: [latency-basic]\n', 'matrix.network[1]',
    /network bridge contradicts the recipe: recipe cilium-wireguard is network bpf, tunnel wireguard, filter bpf, tunnel port 51871/);
  refused(t, 'name: r\nmatrix: {recipe: [calico-ipip, antrea-geneve], network: [routing]}\nworkloads: [latency-basic]\n', 'matrix.network',
    /recipe antrea-geneve is network ovs, tunnel geneve, filter ovs, and matrix.network does not list ovs/);
});

t.test('expansion: one setup per recipe, cells carry the recipe, ids differ from the plain blocks', async (t) => {
  const s = parseSpec('name: r\nmatrix: {recipe: [calico-vxlan, flannel-vxlan], containers: [2, 4]}\nworkloads: [latency-basic]\nrepetitions: {min: 1, max: 1}\n');
  const plan = expandMatrix(s, { experimentId: 'e1', hosts: ['a', 'b'] });
  t.same(plan.cells.map((c) => [c.recipe, c.network, c.tunnel, c.filter, c.containers]), [
    ['calico-vxlan', 'routing', 'vxlan', 'iptables', 2], ['calico-vxlan', 'routing', 'vxlan', 'iptables', 4],
    ['flannel-vxlan', 'bridge', 'vxlan', 'none', 2], ['flannel-vxlan', 'bridge', 'vxlan', 'none', 4],
  ]);
  t.equal(plan.runs.length, 4);
  const plain = expandMatrix(parseSpec('name: r\nmatrix: {network: [routing], tunnel: [vxlan], filter: [iptables]}\nworkloads: [latency-basic]\n'), { experimentId: 'e1', hosts: ['a', 'b'] });
  t.equal(plain.cells[0]!.recipe, undefined);
  t.not(plain.cells[0]!.id, plan.cells[0]!.id, 'a recipe cell is not the plain cell');
});

t.test('a recipe needing a block the kernel lacks is a skipped cell naming the recipe and the reason', async (t) => {
  const caps: CapabilityLike[] = [
    { category: 'network', kind: 'routing', available: true },
    { category: 'network', kind: 'ovs', available: true },
    { category: 'tunnel', kind: 'ipip', variant: 'VARIANT_KERNEL', available: false, reason: 'the kernel has no ipip module (modprobe ipip failed)' },
    { category: 'tunnel', kind: 'geneve', variant: 'VARIANT_KERNEL', available: false, reason: 'the kernel has no geneve module' },
    { category: 'tunnel', kind: 'vxlan', variant: 'VARIANT_KERNEL', available: true },
    { category: 'filter', kind: 'iptables', available: true },
    { category: 'filter', kind: 'ovs', available: true },
  ];
  const s = parseSpec('name: r\nmatrix: {recipe: [calico-ipip, calico-vxlan, antrea-geneve]}\nworkloads: [latency-basic]\n');
  const plan = expandMatrix(s, { experimentId: 'e1', hosts: ['a', 'b'], capabilities: new Map([['a', caps], ['b', caps]]) });
  t.same(plan.cells.map((c) => c.recipe), ['calico-vxlan']);
  t.same(plan.skipped.map((x) => x.cell.recipe), ['calico-ipip', 'antrea-geneve']);
  t.match(plan.skipped[0]!.reason, /^recipe calico-ipip \(network routing, tunnel ipip, filter iptables\): host 'a' lacks tunnel ipip: the kernel has no ipip module/);
  t.match(plan.skipped[1]!.reason, /^recipe antrea-geneve .*lacks tunnel geneve/);
});

t.test('docs/recipes.md lists every recipe with the blocks of its definition, and a section on it', async (t) => {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/recipes.md', import.meta.url)), 'utf8');
  for (const name of RECIPE_NAMES) {
    const r = RECIPES[name];
    t.ok(doc.includes(`| \`${name}\` | ${r.network} | ${r.tunnel} | ${r.filter} |`), `table row of ${name}`);
    t.match(doc, new RegExp(`### .*\`${name}\``), `section on ${name}`);
    if (r.tunnelPort !== undefined) t.match(doc, new RegExp(`\\| \`${name}\` \\|[^\\n]*\\| ${r.tunnelPort}`), `${name}'s port in its row`);
  }
});

t.test('the recipe examples parse and expand', async (t) => {
  for (const f of ['cni-recipes.yaml', 'cni-policy-complexity.yaml', 'cni-pod-scalability.yaml']) {
    const s = parseSpec(readFileSync(fileURLToPath(new URL(`../../../examples/${f}`, import.meta.url)), 'utf8'));
    const plan = expandMatrix(s, { experimentId: 'ex', hosts: ['a', 'b'] });
    t.ok(plan.cells.length >= 3 && plan.cells.every((c) => c.recipe !== undefined), `${f}: ${plan.cells.length} recipe cells`);
  }
});

t.test('the pod scalability (one host) and L7 policy examples parse and expand', async (t) => {
  const load = (f: string) => parseSpec(readFileSync(fileURLToPath(new URL(`../../../examples/${f}`, import.meta.url)), 'utf8'));
  const pods = expandMatrix(load('cni-pod-scalability-single-host.yaml'), { experimentId: 'ex', hosts: ['a'] });
  t.same(pods.cells.map((c) => c.filter), ['none', 'iptables', 'nftables'], 'without and with policy, on one host');
  t.same([...new Set(pods.runs.map((r) => r.workload.params['clients']))].sort(), ['100', '200', '50'], '50, 100 and 200 clients');
  const l7 = expandMatrix(load('cni-l7-policy.yaml'), { experimentId: 'ex', hosts: ['a'] });
  t.same([...new Set(l7.cells.map((c) => c.filter))], ['none', 'iptables', 'l7-http']);
  t.equal(l7.skipped.length, 0, 'http and latency-basic run on every cell, l7-http included');
  t.ok(l7.runs.some((r) => r.workload.kind === 'http' && l7.cells.find((c) => c.id === r.cell)?.filter === 'l7-http'), 'http measured through the L7 proxy');
});

t.test('ruleMatch: port-range cells for rule counts above 0, one shared cell at 0, for every filter kind', async (t) => {
  const s = parseSpec('name: r\nplacement: single-host\nmatrix: {network: [bridge, bpf], filter: [iptables, bpf], rules: [0, 100], ruleMatch: [address, port]}\nworkloads: [latency-basic]\n');
  t.same(s.matrix.ruleMatch, ['address', 'port']);
  t.same(parseSpec('name: r\nworkloads: [latency-basic]\n').matrix.ruleMatch, ['address'], 'address by default');
  const plan = expandMatrix(s, { experimentId: 'e', hosts: ['a'] });
  const cells = plan.cells.map((c) => `${c.network}/${c.filter} r${c.rules}${c.ruleMatch === 'port' ? ' port' : ''}`);
  t.same(cells, ['bridge/iptables r0', 'bridge/iptables r100', 'bridge/iptables r100 port', 'bridge/bpf r0', 'bridge/bpf r100', 'bridge/bpf r100 port', 'bpf/bpf r0', 'bpf/bpf r100', 'bpf/bpf r100 port']);
  t.equal(plan.skipped.filter((x) => x.cell.ruleMatch === 'port' && x.cell.filter === 'bpf').length, 0, 'the bpf filter has port-range cells too');
  const ids = new Set(plan.cells.map((c) => c.id));
  t.equal(ids.size, plan.cells.length, 'port cells have their own ids');
  refused(t, 'name: r\nmatrix: {ruleMatch: [ports]}\nworkloads: [latency-basic]\n', 'matrix.ruleMatch[0]', /ports/);
});
