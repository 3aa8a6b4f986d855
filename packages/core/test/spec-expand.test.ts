import t from 'tap';
import { assertRunnable, expandMatrix, nextRepetition, parseSpec, undeterminedNotes, type CapabilityLike, type ExperimentSpec } from '@seconet/core';

const base = {
  name: 'sweep',
  placement: 'multi-host',
  matrix: { network: ['bridge', 'ovs'], tunnel: ['none', 'vxlan'], filter: ['none', 'iptables', 'ovs'], rules: [0, 1000], containers: [2, 8] },
  workloads: ['latency-basic', { 'throughput-basic': { payload: [64, 1370] } }],
  repetitions: { min: 3, max: 10 },
};

function spec(over: Record<string, unknown> = {}): ExperimentSpec {
  return parseSpec({ ...base, ...over });
}

t.test('paper order: setups outermost, then (containers, rules), workloads, repetitions', async (t) => {
  const plan = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'] });
  const setupKeys = plan.cells.map((c) => `${c.network}/${c.tunnel}/${c.filter}`);
  const firstSeen: string[] = [];
  for (const k of setupKeys) if (firstSeen.at(-1) !== k) firstSeen.push(k);
  t.equal(new Set(firstSeen).size, firstSeen.length, 'each setup appears in one contiguous block');
  t.same(firstSeen.slice(0, 3), ['bridge/none/none', 'bridge/none/iptables', 'bridge/vxlan/none']);
  const bn = plan.cells.filter((c) => c.network === 'bridge' && c.tunnel === 'none' && c.filter === 'iptables');
  t.same(bn.map((c) => [c.containers, c.rules]), [[2, 0], [2, 1000], [8, 0], [8, 1000]]);
  const first = plan.runs.filter((r) => r.cell === plan.cells[0]!.id);
  t.same(first.map((r) => `${r.workload.id}#${r.repetition}`), [
    'latency-basic/icmp/653#1', 'latency-basic/icmp/653#2', 'latency-basic/icmp/653#3',
    'throughput-basic/tcp/64#1', 'throughput-basic/tcp/64#2', 'throughput-basic/tcp/64#3',
    'throughput-basic/tcp/1370#1', 'throughput-basic/tcp/1370#2', 'throughput-basic/tcp/1370#3',
  ]);
  for (let i = 1; i < plan.runs.length; i++) t.ok(plan.runs[i]!.order > plan.runs[i - 1]!.order, 'order increases');
  t.equal(plan.runs.length, plan.cells.length * 3 * 3);
  t.same(plan.cells.map((c) => c.index), plan.cells.map((_, i) => i));
});

t.test('impossible cells are skipped with readable reasons', async (t) => {
  const plan = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'] });
  const reasons = plan.skipped.map((s) => `${s.cell.network}/${s.cell.tunnel}/${s.cell.filter}/${s.cell.rules}: ${s.reason}`);
  t.ok(reasons.some((r) => /^bridge\/none\/none\/1000: filter none has no rules/.test(r)));
  t.ok(reasons.some((r) => /^bridge\/none\/ovs\/0: the ovs filter is OpenFlow rules on the OVS bridge, and network bridge has no OVS bridge/.test(r)));
  t.notOk(plan.cells.some((c) => c.filter === 'ovs' && c.network !== 'ovs'));
  t.ok(plan.cells.some((c) => c.filter === 'ovs' && c.network === 'ovs'));
  // 2 networks x 2 tunnels x 3 filters x 4 sizes = 48; none+1000: 2x2x2 = 8; ovs filter on bridge: 2x4 = 8.
  t.equal(plan.cells.length + plan.skipped.length, 48);
  t.equal(plan.skipped.length, 16);

  const single = expandMatrix(spec({ placement: 'single-host' }), { experimentId: 'exp1', hosts: ['a', 'b'] });
  t.ok(single.skipped.some((s) => s.cell.tunnel === 'vxlan' && /single-host placement keeps every pair on one host/.test(s.reason)));
  t.ok(single.skipped.some((s) => s.cell.network === 'ovs' && s.cell.filter === 'iptables' && /netfilter never sees/.test(s.reason)));
  t.ok(single.cells.every((c) => c.hosts.length === 1 && c.hosts[0] === 'a'));

  const lonely = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a'] });
  t.equal(lonely.cells.length, 0);
  t.match(lonely.skipped[0]!.reason, /multi-host placement needs at least 2 hosts and the experiment has 1/);
  t.throws(() => assertRunnable(lonely), { code: 'UNSUPPORTED', field: 'matrix', message: /no cell of the matrix can run: multi-host placement needs/ });
  t.doesNotThrow(() => assertRunnable(expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'] })));
  const none = expandMatrix(spec({ placement: 'single-host' }), { experimentId: 'exp1', hosts: [] });
  t.equal(none.runs.length, 0);
  t.match(none.skipped[0]!.reason, /no hosts/);
});

t.test('capabilities: a block whose probe timed out is not ruled out; the plan notes it', async (t) => {
  const base: CapabilityLike[] = [
    { category: 'network', kind: 'bridge', variant: 'VARIANT_KERNEL', available: true },
    { category: 'tunnel', kind: 'vxlan', variant: 'VARIANT_KERNEL', available: true },
    { category: 'filter', kind: 'iptables', variant: 'VARIANT_KERNEL', available: true },
  ];
  const timedOut: CapabilityLike = { category: 'network', kind: 'ovs', variant: 'VARIANT_KERNEL', available: false, undetermined: true, reason: 'ovs-vsctl add-br: timed out (the tool\'s own timeout fired (SIGALRM))' };
  const caps = new Map<string, CapabilityLike[]>([['a', [...base, timedOut]], ['b', [...base, { ...timedOut, undetermined: false, reason: 'openvswitch kernel module missing' }]]]);
  const s = spec({ placement: 'single-host', matrix: { network: ['bridge', 'ovs'], tunnel: ['none'], filter: ['none'] } });
  const onA = expandMatrix(s, { experimentId: 'e', hosts: ['a'], capabilities: caps });
  t.ok(onA.cells.some((c) => c.network === 'ovs'), 'undetermined: the ovs cell is planned');
  t.same(onA.skipped.filter((x) => x.cell.network === 'ovs'), [], 'and not skipped');
  const notes = undeterminedNotes(onA.cells, caps);
  t.equal(notes.length, 1, 'one note per host and block');
  t.match(notes[0], /host 'a': network ovs was not determined when planned \(its probe met a failure that may pass: ovs-vsctl add-br: timed out .*SIGALRM.*\); its cells are planned/);
  const onB = expandMatrix(s, { experimentId: 'e', hosts: ['b'], capabilities: caps });
  t.notOk(onB.cells.some((c) => c.network === 'ovs'), 'the kernel\'s "no" still rules it out');
  t.match(onB.skipped.find((x) => x.cell.network === 'ovs')?.reason, /host 'b' lacks network ovs: openvswitch kernel module missing/);
  t.same(undeterminedNotes(onB.cells, caps), [], 'nothing undetermined there');
});

t.test('capabilities: missing building blocks and engines', async (t) => {
  const common: CapabilityLike[] = [
    { category: 'network', kind: 'bridge', variant: 'VARIANT_KERNEL', available: true },
    { category: 'network', kind: 'ovs', variant: 'VARIANT_KERNEL', available: false, reason: 'openvswitch kernel module missing' },
    { category: 'network', kind: 'ovs', variant: 'VARIANT_USERSPACE', available: true },
    { category: 'tunnel', kind: 'vxlan', variant: 'VARIANT_KERNEL', available: true },
    { category: 'filter', kind: 'iptables', variant: 'VARIANT_KERNEL', available: true },
    { category: 'workload', kind: 'latency-basic', engine: 'ping', available: true },
    { category: 'workload', kind: 'throughput-basic', engine: 'iperf3', available: true },
    { category: 'workload', kind: 'throughput-basic', engine: 'uperf', available: false, reason: 'uperf not installed' },
  ];
  const caps = new Map<string, CapabilityLike[]>([
    ['a', [...common, { category: 'filter', kind: 'ovs', available: true }]],
    ['b', [...common, { category: 'filter', kind: 'ovs', available: false, reason: 'ovs-ofctl not found: install openvswitch-switch' }]],
  ]);
  const plan = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'], capabilities: caps });
  const ovsFilter = plan.skipped.filter((s) => s.cell.network === 'ovs' && s.cell.filter === 'ovs');
  t.ok(ovsFilter.length > 0);
  t.match(ovsFilter[0]!.reason, /host 'b' lacks filter ovs: ovs-ofctl not found: install openvswitch-switch/);
  t.ok(plan.cells.some((c) => c.network === 'ovs'), 'ovs network available in userspace');
  const tp = plan.runs.find((r) => r.workload.kind === 'throughput-basic');
  t.equal(tp?.workload.engine, 'iperf3', 'uperf missing everywhere: the controller picks iperf3');

  const explicit = expandMatrix(spec({ workloads: [{ 'throughput-basic': { engine: 'uperf' } }] }), { experimentId: 'exp1', hosts: ['a', 'b'], capabilities: caps });
  t.equal(explicit.runs.length, 0, 'explicit uperf is never switched to iperf3');
  t.equal(explicit.skipped.filter((s) => s.workload === 'throughput-basic/tcp/653').length, explicit.cells.length);
  t.match(explicit.skipped.find((s) => s.workload)!.reason, /host 'a' cannot run throughput-basic with uperf: uperf not installed/);

  const unknown = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'c'], capabilities: caps });
  t.equal(unknown.cells.length, 0);
  t.match(unknown.skipped[0]!.reason, /agent 'c' is not registered/);

  const bpfOnOvs = expandMatrix(spec({ matrix: { network: ['ovs'], filter: ['bpf'] } }), {
    experimentId: 'e',
    hosts: ['a', 'b'],
    capabilities: new Map([['a', [...common, { category: 'filter', kind: 'bpf', available: true }]], ['b', [...common, { category: 'filter', kind: 'bpf', available: true }]]]),
  });
  t.match(bpfOnOvs.skipped[0]?.reason, /userspace datapath, which reads packets from the veth before tc ingress/);
});

t.test('ids are deterministic and distinct', async (t) => {
  const a = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'] });
  const b = expandMatrix(spec(), { experimentId: 'exp1', hosts: ['a', 'b'] });
  const c = expandMatrix(spec(), { experimentId: 'exp2', hosts: ['a', 'b'] });
  t.same(a.runs.map((r) => r.id), b.runs.map((r) => r.id));
  t.same(a.cells.map((r) => r.id), b.cells.map((r) => r.id));
  t.equal(new Set(a.runs.map((r) => r.id)).size, a.runs.length);
  t.equal(new Set(a.cells.map((r) => r.id)).size, a.cells.length);
  t.notOk(c.runs.some((r) => a.runs.some((x) => x.id === r.id)), 'another experiment, other ids');
});

t.test('nextRepetition extends a group up to max and keeps the order', async (t) => {
  const s = spec();
  const plan = expandMatrix(s, { experimentId: 'exp1', hosts: ['a', 'b'] });
  let last = plan.runs[2]!;
  t.equal(last.repetition, 3);
  const following = plan.runs[3]!;
  const added = [];
  for (let next = nextRepetition(s, last); next; next = nextRepetition(s, last)) {
    added.push(next);
    last = next;
  }
  t.equal(added.length, 7);
  t.equal(last.repetition, 10);
  t.ok(last.order < following.order, 'added repetitions sort before the next group');
  t.equal(new Set([...plan.runs, ...added].map((r) => r.id)).size, plan.runs.length + 7);
  t.equal(nextRepetition(s, plan.runs[0]!, { reference: 0 }), undefined, 'drift checks have a fixed count');
});

t.test('randomizeOrder shuffles within levels only, seeded', async (t) => {
  const r1 = expandMatrix(spec({ options: { randomizeOrder: true }, seed: 7 }), { experimentId: 'e', hosts: ['a', 'b'] });
  const r2 = expandMatrix(spec({ options: { randomizeOrder: true }, seed: 7 }), { experimentId: 'e', hosts: ['a', 'b'] });
  const r3 = expandMatrix(spec({ options: { randomizeOrder: true }, seed: 8 }), { experimentId: 'e', hosts: ['a', 'b'] });
  const plain = expandMatrix(spec(), { experimentId: 'e', hosts: ['a', 'b'] });
  t.same(r1.runs.map((r) => r.id), r2.runs.map((r) => r.id), 'same seed, same order');
  t.not(r1.runs.map((r) => r.id).join(), r3.runs.map((r) => r.id).join(), 'other seed, other order');
  t.not(r1.runs.map((r) => r.id).join(), plain.runs.map((r) => r.id).join());
  t.same(new Set(r1.runs.map((r) => r.id)), new Set(plain.runs.map((r) => r.id)), 'same runs');
  const blocks: string[] = [];
  for (const c of r1.cells) {
    const k = `${c.network}/${c.tunnel}/${c.filter}`;
    if (blocks.at(-1) !== k) blocks.push(k);
  }
  t.equal(new Set(blocks).size, blocks.length, 'setups stay contiguous');
});

t.test('reference cell drift checks', async (t) => {
  const s = spec({ options: { referenceCell: { network: 'bridge', tunnel: 'none', filter: 'none', every: 2, repetitions: 2 } } });
  const plan = expandMatrix(s, { experimentId: 'e', hosts: ['a', 'b'] });
  const refs = plan.cells.filter((c) => c.reference !== undefined);
  // 12 setups -> one at the start and one after every 2nd setup: 1 + 6.
  t.equal(refs.length, 7);
  t.equal(plan.cells[0]!.reference, 0);
  t.same(refs.map((c) => c.reference), [0, 1, 2, 3, 4, 5, 6]);
  t.equal(new Set(refs.map((c) => c.id)).size, 7);
  const refRuns = plan.runs.filter((r) => r.cell === refs[0]!.id);
  t.equal(refRuns.length, 3 * 2, 'every workload, fixed repetitions');
});

t.test('estimated duration', async (t) => {
  const s = spec({ matrix: { network: ['bridge'], tunnel: ['none'], filter: ['none'], rules: [0], containers: [2] }, workloads: [{ 'throughput-basic': { duration: 30 } }], repetitions: { min: 2, max: 4 } });
  const plan = expandMatrix(s, { experimentId: 'e', hosts: ['a', 'b'] });
  // 1 setup (bridge 0.3) + 1 cell (1 + 2 x 0.01) + 2 runs x (30 + 2) = 65.3 -> 65
  t.equal(plan.estimatedSeconds, 65);
  t.equal(plan.estimatedMaxSeconds, Math.round(0.3 + 1.02 + 4 * 32));
});
