// Payload and path MTU through the REST API on the lab (docs/spec.md, "Payload and path MTU"):
// the dry-run shows each cell's path MTU before anything runs; a TCP payload above the path's
// MSS (1370 B over userspace IPsec, path MTU 1400) runs with the segment size clamped to the
// path and the rows say so (segment_size); a UDP payload that would fragment is skipped at plan
// time with the cell and the reason, never sent.
import t from 'tap';
import type { Test } from 'tap';
import { startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row { tunnel: string; workload: string; protocol: string; payload: number; pair: string; metric: string; value: number }

t.test('TCP payloads clamp to the path, UDP payloads that would fragment are refused at plan time', { timeout: 600_000 }, async (t: Test) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2);
  const front = await startE2eApi(t, lab, { engine: { metricsIntervalMs: 500 } });
  const api = front.request;
  // The registry reads the agents' NICs at its first health check.
  for (let i = 0; i < 60 && (await api<Array<{ capabilities: unknown[] }>>('/v1/agents')).body.some((a) => a.capabilities.length === 0); i++) await sleep(500);

  const spec = {
    name: 'path-mtu',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: ['none', 'ipsec'], filter: ['none'], containers: [2] },
    workloads: [{ 'throughput-basic': { engine: 'iperf3', duration: 1, payload: [653, 1370] } }, { iperf3: { protocol: 'udp', duration: 1, payload: [1370, 1450] } }],
    repetitions: { min: 1, max: 1 },
  };
  const dry = await api<{ cells: Array<{ tunnel: string; pathMtu?: number }>; runs: Array<{ cell: string; workload: string }>; skipped: Array<{ cell: { tunnel: string }; workload?: string; reason: string }>; notes: string[] }>('/v1/experiments?dryRun=true', spec);
  t.equal(dry.status, 200);
  const mtu = Object.fromEntries(dry.body.cells.map((c) => [c.tunnel, c.pathMtu]));
  t.same(mtu, { none: 1500, ipsec: 1400 }, 'the dry-run knows each cell\'s path MTU');
  t.same(dry.body.skipped.map((s) => `${s.cell.tunnel} ${s.workload}`), ['ipsec iperf3/udp/1450'], 'only the UDP payload above the IPsec path is skipped, in that cell only');
  const why = dry.body.skipped[0]?.reason ?? '';
  t.match(why, /1450 B of UDP payload would fragment on this path \(path MTU 1400: at most 1372 B per datagram\)/, `the reason names payload and path: ${why}`);
  t.ok(dry.body.notes.some((n) => /ipsec.*throughput-basic\/tcp\/1370.*clamped to 1360 B/.test(n)), `a note says the segment size is clamped: ${dry.body.notes.join(' | ')}`);
  t.equal(dry.body.runs.length, 4 + 3, 'two TCP payloads on both cells, UDP 1370 B on both, UDP 1450 B only without a tunnel');

  const sub = await api<{ id: string }>('/v1/experiments', spec);
  t.equal(sub.status, 202);
  let s = (await api<{ state: string; progress: { runsFailed: number; runsTotal: number } }>(`/v1/experiments/${sub.body.id}`)).body;
  const t0 = Date.now();
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t0 < 400_000) {
    await sleep(1000);
    s = (await api<typeof s>(`/v1/experiments/${sub.body.id}`)).body;
  }
  if (s.progress.runsFailed > 0) for (const r of front.ctl.store.reportData(sub.body.id).runs.filter((x) => x.state !== 'succeeded')) t.comment(`${r.workload}: ${r.error}`);
  t.equal(s.state, 'succeeded');
  t.equal(s.progress.runsFailed, 0, 'no run failed');
  const rows = (await api<Row[]>(`/v1/experiments/${sub.body.id}/results?format=json`)).body.filter((r) => !r.pair.startsWith('host/'));
  const seg = (tunnel: string, payload: number): number | undefined => rows.find((r) => r.tunnel === tunnel && r.workload === `throughput-basic/tcp/${payload}` && r.metric === 'segment_size')?.value;
  t.equal(seg('ipsec', 1370), 1360, 'over IPsec 1370 B runs with 1360 B segments, and the rows say so');
  t.equal(seg('ipsec', 653), 653, 'a payload that fits is the segment size');
  t.equal(seg('none', 1370), 1370, 'without a tunnel 1370 B segments fit');
  t.ok(rows.some((r) => r.tunnel === 'ipsec' && r.workload === 'throughput-basic/tcp/1370' && r.metric === 'throughput' && r.value > 0), 'and it measured throughput');
  const report = await (await fetch(`${front.url}/v1/experiments/${sub.body.id}/report`, { headers: { authorization: `Bearer ${front.token}` } })).text();
  t.match(report, /throughput-basic\/tcp\/1370 <span class="warn">\(segments clamped to 1360 B by the path MTU\)/, 'the report says which runs had their segments clamped');
  t.match(report, /MTU 1400/, 'and shows the IPsec cell\'s path MTU');
  t.ok(rows.some((r) => r.tunnel === 'none' && r.workload === 'iperf3/udp/1370' && r.metric === 'throughput' && r.value > 0), 'UDP 1370 B runs where it fits');
});
