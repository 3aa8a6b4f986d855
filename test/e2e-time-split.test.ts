// End to end: where a real experiment's wall time went. A small two-host sweep (two cells, two
// workloads, two repetitions) on real lab hosts and agents; the time split computed from the
// stored phase intervals and the experiment's start and end is served by the API, shown in the
// HTML report and carried by the results bundle, and its five parts sum to the wall time.
import t from 'tap';
import { gunzipSync } from 'node:zlib';
import type { ExperimentSummary, TimeSplit } from '@seconet/controller';
import { startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('time split of a real sweep: measuring, setup, teardown, storing, waiting sum to the wall time', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2);
  const api = await startE2eApi(t, lab, { engine: { metricsIntervalMs: 250 } });
  const spec = {
    name: 'e2e-time-split',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: ['none', 'vxlan'], filter: ['none'], containers: [2] },
    workloads: [{ 'latency-basic': { duration: 1, count: 5, interval: 0.2 } }, { 'throughput-basic': { duration: 1, engine: 'iperf3' } }],
    repetitions: { min: 2, max: 2 },
  };
  const submitted = await api.request<{ id: string }>('/v1/experiments', spec);
  t.equal(submitted.status, 202, submitted.text);
  const id = submitted.body.id;
  const before = await api.request<TimeSplit | null>(`/v1/experiments/${id}/time-split`);
  t.equal(before.status, 200, before.text);
  const t0 = Date.now();
  let s: ExperimentSummary;
  for (;;) {
    s = (await api.request<ExperimentSummary>(`/v1/experiments/${id}`)).body;
    if (['succeeded', 'failed', 'cancelled'].includes(s.state) || Date.now() - t0 > 240_000) break;
    await sleep(500);
  }
  t.equal(s.state, 'succeeded');
  t.equal(s.progress.runsDone, 8, 'two cells x two workloads x two repetitions');

  const res = await api.request<TimeSplit>(`/v1/experiments/${id}/time-split`);
  t.equal(res.status, 200, res.text);
  const split = res.body;
  t.comment(JSON.stringify(split));
  t.equal(split.final, true, 'the experiment ended');
  t.equal(split.windows, 8, 'one measurement window per run');
  const parts = split.measuringS + split.setupS + split.teardownS + split.storingS + split.waitingS;
  // Each part is rounded to the millisecond.
  t.ok(Math.abs(parts - split.wallS) < 0.01, `parts sum to the wall time (${parts.toFixed(3)} vs ${split.wallS} s)`);
  const pct = Object.values(split.percent).reduce((a, x) => a + x, 0);
  t.ok(Math.abs(pct - 100) < 0.1, `shares sum to 100 % (${pct.toFixed(2)})`);
  // Four iperf3 windows of 1 s each, and four ping windows of 5 echoes 0.2 s apart: the last echo
  // goes out 0.8 s after the first, so a ping window is at least 0.8 s, not the 1 s duration.
  const floorS = 4 * 1 + 4 * 0.8;
  t.ok(split.measuringS >= floorS, `measuring covers four 1 s iperf3 runs and four 0.8 s ping runs (${split.measuringS} >= ${floorS} s)`);
  t.ok(split.setupS > 0 && split.teardownS > 0 && split.storingS > 0, 'setup, teardown and storing were clocked');

  // The wall time is the stored start to the stored end of the experiment.
  const started = Date.parse(s.startedAt!);
  const finished = Date.parse(s.finishedAt!);
  t.ok(Math.abs((finished - started) / 1000 - split.wallS) < 0.01, 'wall = finishedAt - startedAt');

  const report = await api.request<undefined>(`/v1/experiments/${id}/report`);
  t.match(report.text, /<section id="time"><h2>Where the time went<\/h2>/, 'the HTML report has the time split');
  t.match(report.text, new RegExp(`<td>measuring</td><td class="num">${split.measuringS.toFixed(1)} s</td>`), 'with the measuring seconds');

  const bundle = await fetch(`${api.url}/v1/experiments/${id}/bundle`, { headers: { authorization: `Bearer ${api.token}` } });
  const doc = JSON.parse(gunzipSync(Buffer.from(await bundle.arrayBuffer())).toString('utf8')) as { timeSplit?: TimeSplit };
  t.same(doc.timeSplit, split, 'the results bundle (report JSON) carries the same split');
});
