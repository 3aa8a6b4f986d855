// End to end: real lab hosts, real agents, real Redis, the controller's queue and engine.
// A two-host sweep over tunnel x filter x containers x workloads yields every expected run
// with metrics and host samples, and leaves nothing behind on the hosts.
import t from 'tap';
import { ExecRunner } from '@seconet/agent';
import { startController } from '@seconet/controller';
import { startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const SMOKE = process.env['SECONET_E2E_SMOKE'] === '1';

t.test('two-host sweep: every run measured, with host samples', { timeout: 900_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2);
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 250, runMarginMs: 20_000 } }));
  t.teardown(() => ctl.stop());
  const spec = {
    name: 'e2e-sweep',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: SMOKE
      ? { network: ['bridge'], tunnel: ['none'], filter: ['iptables'], containers: [4] }
      : { network: ['bridge'], tunnel: ['none', 'vxlan', 'wireguard'], filter: ['none', 'iptables'], containers: [2, 8] },
    workloads: [{ 'latency-basic': { duration: 1, count: 5, interval: 0.2 } }, { 'throughput-basic': { duration: 1, engine: 'iperf3' } }],
    repetitions: { min: 1, max: 1 },
  };
  const plan = await ctl.service.plan(spec);
  t.comment(`plan: ${plan.cells.length} cells, ${plan.runs.length} runs, skipped: ${plan.skipped.map((s) => s.reason).join(' | ') || 'none'}`);
  const expectedCells = SMOKE ? 1 : 12;
  t.equal(plan.cells.length, expectedCells, 'every cell is feasible on this lab');
  const { id } = await ctl.service.submit(spec);
  const t0 = Date.now();
  let s = await ctl.service.get(id);
  while (!['succeeded', 'failed', 'cancelled'].includes(s.state) && Date.now() - t0 < 800_000) {
    await sleep(1000);
    s = await ctl.service.get(id);
  }
  t.comment(`finished in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(s.progress)}`);
  const data = ctl.store.reportData(id);
  for (const c of data.cells) t.comment(`${c.cell.tunnel}/${c.cell.filter}/${c.cell.containers}: ${c.state} isolation=${c.isolation} setup=${JSON.stringify(c.setupSeconds)} ${c.error ?? ''}`);
  for (const r of data.runs.filter((x) => x.state !== 'succeeded')) t.comment(`run ${r.id} ${r.workload}: ${r.state} ${r.error}`);
  t.equal(s.state, 'succeeded');
  t.equal(s.progress.runsTotal, expectedCells * 2);
  t.equal(s.progress.runsDone, expectedCells * 2);
  t.equal(s.progress.runsFailed, 0, 'no run failed');
  t.ok(data.cells.every((c) => c.state === 'measured'), 'every cell measured');
  t.ok(data.cells.filter((c) => c.cell.filter === 'iptables' && c.cell.containers > 2).every((c) => c.isolation === true), 'isolation proven where a denied pair exists');
  const rows = await ctl.service.results(id);
  for (const c of data.cells) {
    const pairs = c.cell.containers / 2;
    const rtt = rows.filter((r) => r.cell === c.cell.id && r.metric === 'rtt_avg' && r.flow === '' && !r.pair.startsWith('host/'));
    const thr = rows.filter((r) => r.cell === c.cell.id && r.metric === 'throughput' && r.flow === '' && !r.pair.startsWith('host/'));
    t.equal(rtt.length, pairs, `${c.cell.tunnel}/${c.cell.filter}/${c.cell.containers}: one RTT per pair`);
    t.equal(thr.length, pairs, `${c.cell.tunnel}/${c.cell.filter}/${c.cell.containers}: one throughput per pair`);
    t.ok(thr.every((r) => r.value > 0 && r.engine === 'iperf3'), 'throughput measured by iperf3');
  }
  const samples = data.hostSamples;
  for (const r of data.runs) t.ok(samples.some((x) => x.run === r.id && x.column === 'total cpu usage:idl'), `host samples for run ${r.id}`);
  t.ok(rows.some((r) => r.tunnel === 'wireguard' && r.tunnel_variant === 'userspace') || SMOKE, 'wireguard ran in userspace here');
  const leftovers = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => lab.topo.hosts.some((h) => l.startsWith(h.prefix)));
  t.same(leftovers, [], 'every container namespace was torn down');
});
