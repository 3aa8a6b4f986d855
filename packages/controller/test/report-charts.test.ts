import t from 'tap';
import { decide, quantile7 } from '@seconet/core';
import { buildCharts, groupDecisions, renderReport } from '../src/report/index.js';
import { FIXTURE_SPEC, reportFixture } from '../src/testing/index.js';

const data = reportFixture();
const charts = new Map(buildCharts(data).map((c) => [c.id, c]));
type Rec = Record<string, unknown>;
const layerValues = (id: string, layer = 0): Rec[] => {
  const spec = charts.get(id)!.spec as unknown as { data?: { values: Rec[] }; layer?: Array<{ data?: { values: Rec[] } }> };
  return spec.layer?.[layer]?.data?.values ?? spec.data!.values;
};

t.test('latency boxes come from the per-packet RTTs of the baseline cells', async (t) => {
  const boxes = layerValues('latency-box');
  const box = boxes.find((b) => b['tech'] === 'wireguard' && b['filter'] === 'iptables')!;
  t.ok(box, 'wireguard with iptables');
  const cells = new Set(data.cells.filter((v) => v.cell.tunnel === 'wireguard' && v.cell.filter === 'iptables' && v.cell.containers === 2 && v.cell.rules === 0).map((v) => v.cell.id));
  t.equal(cells.size, 1);
  const runs = new Set(data.runs.filter((r) => cells.has(r.cell) && r.workload.startsWith('latency-basic')).map((r) => r.id));
  const rtts = data.series.filter((s) => runs.has(s.run) && s.name === 'rtt').flatMap((s) => [...s.values]);
  t.equal(box['n'], rtts.length);
  t.ok(rtts.length >= 80, `${rtts.length} packets`);
  t.equal(box['median'], quantile7(rtts, 0.5));
  t.equal(box['q1'], quantile7(rtts, 0.25));
  t.equal(box['q3'], quantile7(rtts, 0.75));
  const iqr = (box['q3'] as number) - (box['q1'] as number);
  t.equal(box['hi'], Math.max(...rtts.filter((v) => v <= (box['q3'] as number) + 1.5 * iqr)));
  t.same(new Set(boxes.map((b) => b['filter'])), new Set(['none', 'iptables', 'nftables']), 'with and without filtering');
});

t.test('throughput vs payload: mean over repetitions of the per-pair mean', async (t) => {
  const pts = layerValues('throughput-payload');
  const p = pts.find((x) => x['tech'] === 'vxlan' && x['filter'] === 'none' && x['payload'] === 1370)!;
  const rows = data.rows.filter((r) => r.tunnel === 'vxlan' && r.filter === 'none' && r.containers === 2 && r.payload === 1370 && r.metric === 'throughput' && r.workload_kind === 'throughput-basic');
  const perRun = new Map<string, number[]>();
  for (const r of rows) perRun.set(r.run, [...(perRun.get(r.run) ?? []), r.value]);
  const means = [...perRun.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  t.equal(p['n'], means.length);
  t.equal(p['mbit'], +(means.reduce((a, b) => a + b, 0) / means.length / 1e6).toFixed(3));
  t.ok((p['low'] as number) <= (p['mbit'] as number) && (p['mbit'] as number) <= (p['high'] as number));
  const wg = pts.find((x) => x['tech'] === 'wireguard' && x['filter'] === 'none' && x['payload'] === 1370)!;
  t.ok((wg['mbit'] as number) < (p['mbit'] as number) / 10, 'userspace VPN an order of magnitude below VXLAN');
});

t.test('rule sweeps slow iptables more than nftables in the fixture, and the plot shows it', async (t) => {
  const pts = layerValues('throughput-rules');
  const at = (filter: string, rules: number): number => pts.find((x) => x['tech'] === 'none' && x['filter'] === filter && x['rules'] === rules)!['y'] as number;
  t.ok(at('iptables', 1000) < at('iptables', 0));
  t.ok(at('iptables', 1000) / at('iptables', 0) < at('nftables', 1000) / at('nftables', 0));
});

t.test('pairs plot sums the pairs of a run', async (t) => {
  const pts = layerValues('throughput-pairs');
  t.same([...new Set(pts.map((x) => x['pairs']))].sort(), [1, 4]);
});

t.test('decisions computed from rows match core decide()', async (t) => {
  const computed = groupDecisions({ ...data, decisions: [] });
  t.equal(computed.length, data.decisions.length);
  const d = computed.find((x) => x.workload === 'throughput-basic/tcp/653')!;
  const values = new Map<string, number[]>();
  for (const r of data.rows) if (r.cell === d.cell && r.workload === d.workload && r.metric === 'throughput' && !r.pair.startsWith('host/')) values.set(r.run, [...(values.get(r.run) ?? []), r.value]);
  const perRun = [...values.values()].map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const ref = decide({ min: 3, max: 10, ciRelWidth: 0.05, statistic: 'mean', confidence: 0.95 }, perRun);
  t.equal(d.repetitions, perRun.length);
  t.equal(d.center, ref.center);
  t.equal(d.converged, ref.converged);
  t.equal(d.ciLow, ref.ci.low);
  const stored = [{ ...d, converged: !d.converged }];
  t.equal(groupDecisions({ ...data, decisions: stored }).find((x) => x.cell === d.cell && x.workload === d.workload)!.converged, !d.converged, 'stored decisions win');
});

t.test('drift of the reference cell', async (t) => {
  t.notOk(charts.has('drift'), 'no reference cell, no drift figure');
  const withRef = reportFixture({ spec: { ...FIXTURE_SPEC, options: { referenceCell: { network: 'bridge', tunnel: 'vxlan', filter: 'none', every: 4, repetitions: 2 } } } });
  const refs = withRef.cells.filter((v) => v.cell.reference !== undefined);
  t.equal(refs.length, 4, 'at the start and after setups 4, 8 and 12');
  const all = buildCharts(withRef);
  const d = all.find((c) => c.id === 'drift');
  t.ok(d, 'drift figure');
  const values = (d!.spec as unknown as { data: { values: Rec[] } }).data.values;
  t.ok(values.filter((v) => v['check'] === 1).every((v) => v['pct'] === 100), 'relative to the first check');
  t.same(new Set(values.map((v) => v['check'])), new Set([1, 2, 3, 4]));
  t.ok(values.every((v) => Math.abs((v['pct'] as number) - 100) < 15), 'the fixture does not drift');
  const html = await renderReport(withRef);
  t.equal((html.match(/<figure /g) ?? []).length, all.length);
  t.match(html, /ref 1<\/span>/, 'reference cells are marked in the cells table');
  const box = all.find((c) => c.id === 'latency-box')!;
  const n = ((box.spec as unknown as { layer: Array<{ data: { values: Rec[] } }> }).layer[0]!.data.values.find((b) => b['tech'] === 'vxlan' && b['filter'] === 'none')!['n']) as number;
  const nPlain = (layerValues('latency-box').find((b) => b['tech'] === 'vxlan' && b['filter'] === 'none')!['n']) as number;
  t.equal(n, nPlain, 'reference runs stay out of the other figures');
});
