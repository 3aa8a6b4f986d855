// CNI recipes and the studies' workloads through the front door: real lab hosts and agents,
// real Redis, the controller's queue and engine, and nothing but the REST API. Two recipes that
// this machine can run (Cilium- and Flannel-like: eBPF + VXLAN + BPF filter, bridge + VXLAN on
// the CNIs' port 8472) with rr (sockperf) and http (wrk against nginx in the sink), and a
// recipe needing the kernel's IP-in-IP (Calico-like), which is a skipped cell with the reason
// where the kernel lacks it. Result rows and the report carry the recipe name; bad recipes are
// refused with 400 naming the field. About a minute on the 2-core lab machine.
import t from 'tap';
import type { Test } from 'tap';
import { startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot, requireTool } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SPEC = {
  name: 'cni-recipes',
  hosts: ['h1', 'h2'],
  placement: 'multi-host',
  matrix: { recipe: ['cilium-vxlan', 'flannel-vxlan', 'calico-ipip'], containers: [2] },
  workloads: [{ rr: { duration: 2 } }, { http: { duration: 2, concurrency: 20 } }],
  repetitions: { min: 1, max: 1 },
};

interface Capability { category: string; kind: string; available: boolean; reason: string }
interface Cell { id: string; network: string; tunnel: string; filter: string; recipe?: string }
interface PlanBody { cells: Cell[]; runs: Array<{ id: string; cell: string; workload: string }>; skipped: Array<{ cell: Cell; reason: string }> }
interface Row { cell: string; workload: string; workload_kind: string; network: string; tunnel: string; filter: string; recipe: string; pair: string; metric: string; value: number; unit: string }

t.test('recipes with rr and http through the REST API', { timeout: 300_000 }, async (t: Test) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  for (const tool of ['sockperf', 'wrk', 'nginx']) if (!requireTool(t, tool, `${tool} (scripts/setup.sh installs it)`)) return;
  const lab = await startE2eLab(t, 2);
  const front = await startE2eApi(t, lab, { engine: { metricsIntervalMs: 500, runMarginMs: 20_000 } });
  const api = front.request;

  // Bad recipes: 400 naming the field (and, for a contradiction, the recipe's definition).
  const unknown = await api<{ code: string; field: string; message: string }>('/v1/experiments', { ...SPEC, matrix: { recipe: ['calico-wireguard'] } });
  t.equal(unknown.status, 400);
  t.match(unknown.body, { code: 'INVALID_SPEC', field: 'matrix.recipe[0]', message: /unknown recipe 'calico-wireguard'/ });
  const contradicted = await api<{ code: string; field: string; message: string }>('/v1/experiments', { ...SPEC, matrix: { recipe: ['cilium-vxlan'], tunnel: ['wireguard'] } });
  t.equal(contradicted.status, 400);
  t.match(contradicted.body, { code: 'INVALID_SPEC', field: 'matrix.tunnel[0]', message: /recipe cilium-vxlan is network bpf, tunnel vxlan, filter bpf, tunnel port 8472/ });

  let agents = (await api<Array<{ name: string; capabilities: Capability[] }>>('/v1/agents')).body;
  for (let i = 0; i < 60 && agents.some((a) => a.capabilities.length === 0); i++) {
    await sleep(500);
    agents = (await api<typeof agents>('/v1/agents')).body;
  }
  const offered = (category: string, kind: string): boolean => agents.every((a) => a.capabilities.some((c) => c.category === category && c.kind === kind && c.available));

  const dry = await api<PlanBody>('/v1/experiments?dryRun=true', SPEC);
  t.equal(dry.status, 200, dry.text.slice(0, 300));
  const runnable = ['cilium-vxlan', 'flannel-vxlan', ...(offered('tunnel', 'ipip') ? ['calico-ipip'] : [])];
  t.same(dry.body.cells.map((c) => c.recipe).sort(), [...runnable].sort(), 'one cell per runnable recipe');
  t.match(dry.body.cells.find((c) => c.recipe === 'cilium-vxlan'), { network: 'bpf', tunnel: 'vxlan', filter: 'bpf' }, 'the recipe expands to its blocks');
  if (!offered('tunnel', 'ipip')) {
    const skip = dry.body.skipped.find((s) => s.cell.recipe === 'calico-ipip');
    t.match(skip?.reason, /^recipe calico-ipip \(network routing, tunnel ipip, filter iptables\): host 'h\d' lacks tunnel ipip/, `calico-ipip skipped with the kernel's reason: ${skip?.reason}`);
  }
  t.equal(dry.body.runs.length, runnable.length * 2, 'rr and http in every runnable cell');

  const t0 = Date.now();
  const sub = await api<{ id: string }>('/v1/experiments', SPEC);
  t.equal(sub.status, 202);
  const id = sub.body.id;
  let s = (await api<{ state: string; progress: { runsDone: number; runsFailed: number; runsTotal: number }; error?: string }>(`/v1/experiments/${id}`)).body;
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t0 < 240_000) {
    await sleep(1000);
    s = (await api<typeof s>(`/v1/experiments/${id}`)).body;
  }
  t.comment(`finished after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${s.state} ${JSON.stringify(s.progress)} ${s.error ?? ''}`);
  if (s.state !== 'succeeded' || s.progress.runsFailed > 0) {
    const data = front.ctl.store.reportData(id);
    for (const c of data.cells) t.comment(`  ${c.cell.recipe}: ${c.state} ${c.error ?? ''}`);
    for (const r of data.runs.filter((x) => x.state !== 'succeeded')) t.comment(`  run ${r.workload}: ${r.state} ${r.error}`);
  }
  t.equal(s.state, 'succeeded');
  t.equal(s.progress.runsFailed, 0, 'no run failed');

  const rows = (await api<Row[]>(`/v1/experiments/${id}/results?format=json`)).body.filter((r) => !r.pair.startsWith('host/'));
  for (const recipe of runnable) {
    const mine = rows.filter((r) => r.recipe === recipe);
    const v = (kind: string, metric: string): number => mine.find((r) => r.workload_kind === kind && r.metric === metric)?.value ?? Number.NaN;
    t.ok(mine.length > 0, `${recipe}: ${mine.length} rows carry the recipe`);
    t.ok(v('rr', 'tps') > 200 && v('rr', 'tps') < 1e6, `${recipe} rr: ${v('rr', 'tps').toFixed(0)} transactions/s`);
    t.ok(v('rr', 'rtt_p50') > 1 && v('rr', 'rtt_p50') <= v('rr', 'rtt_p99'), `${recipe} rr: p50 ${v('rr', 'rtt_p50')} us <= p99 ${v('rr', 'rtt_p99')} us`);
    t.ok(v('http', 'rps') > 200 && v('http', 'rps') < 1e6, `${recipe} http: ${v('http', 'rps').toFixed(0)} requests/s`);
    t.ok(v('http', 'latency_p50') > 0 && v('http', 'latency_p50') <= v('http', 'latency_p99'), `${recipe} http: p50 ${v('http', 'latency_p50')} ms <= p99 ${v('http', 'latency_p99')} ms`);
    t.equal(v('http', 'non_2xx'), 0, `${recipe} http: every response 200`);
  }
  t.ok(rows.every((r) => runnable.includes(r.recipe)), 'every row names its recipe');
  const csv = await api<unknown>(`/v1/experiments/${id}/results?format=csv`);
  t.match(csv.text.split('\r\n')[0], /,recipe,rule_match,host_kind,kernel_release$/, 'CSV header ends with recipe, rule_match and the provenance columns');
  t.match(csv.text, /,cilium-vxlan,address,(remote|netns-lab),[^,\r\n]+\r\n/, 'a row ends with its recipe, rule match and provenance');
  const report = await api<unknown>(`/v1/experiments/${id}/report`);
  t.equal(report.status, 200);
  for (const recipe of runnable) t.ok(report.text.includes(recipe), `the report names ${recipe}`);

  // L4 policy complexity: 500 port-range rules in front of the allow rule on the Calico-like
  // recipe (iptables), the Antrea-like one where OVS runs and the Cilium-like one (the BPF
  // filter's LPM trie); the pre-flight still proves the denied pair is dropped, and the allowed
  // flow is measured through the last rule.
  const l4 = { ...SPEC, name: 'cni-l4-ports', matrix: { recipe: ['calico-vxlan', 'antrea-ipsec', 'cilium-vxlan'], rules: [500], ruleMatch: ['port'], containers: [4] }, workloads: [{ rr: { duration: 2 } }] };
  const l4dry = await api<PlanBody>('/v1/experiments?dryRun=true', l4);
  t.equal(l4dry.status, 200, l4dry.text.slice(0, 300));
  t.ok(l4dry.body.cells.some((c) => c.recipe === 'cilium-vxlan'), 'the bpf filter has port-range cells');
  const l4ran = l4dry.body.cells.map((c) => c.recipe!);
  const l4sub = await api<{ id: string }>('/v1/experiments', l4);
  t.equal(l4sub.status, 202);
  let s4 = (await api<typeof s>(`/v1/experiments/${l4sub.body.id}`)).body;
  while (!['succeeded', 'failed', 'cancelled'].includes(s4.state) && Date.now() - t0 < 280_000) {
    await sleep(1000);
    s4 = (await api<typeof s>(`/v1/experiments/${l4sub.body.id}`)).body;
  }
  if (s4.state !== 'succeeded') for (const c of front.ctl.store.reportData(l4sub.body.id).cells) t.comment(`  ${c.cell.recipe}: ${c.state} ${c.error ?? ''}`);
  t.equal(s4.state, 'succeeded', `port-range policy cells: ${JSON.stringify(s4.progress)}`);
  const cells4 = front.ctl.store.reportData(l4sub.body.id).cells;
  for (const c of cells4) t.equal(c.isolation, true, `${c.cell.recipe} with 500 port-range rules: the pre-flight saw the denied pair dropped (${c.isolation}: ${c.isolationEvidence})`);
  const rows4 = (await api<Array<Row & { rule_match: string; rules: number }>>(`/v1/experiments/${l4sub.body.id}/results?format=json`)).body.filter((r) => !r.pair.startsWith('host/'));
  for (const recipe of l4ran) {
    const tps = rows4.find((r) => r.recipe === recipe && r.metric === 'tps');
    t.ok(tps !== undefined && tps.value > 200 && tps.rule_match === 'port' && tps.rules === 500, `${recipe}, 500 port-range rules: ${tps?.value.toFixed(0)} transactions/s (rule_match ${tps?.rule_match})`);
  }
  t.comment(`wall time ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});
