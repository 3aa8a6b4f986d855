// End to end through the REST API: a two-host experiment over every tunnel the lab offers
// (none, VXLAN, WireGuard, IPsec, OpenVPN, Tinc; their userspace variants here). Each cell's
// pre-flight captures both hosts' underlay while the ping carries a random marker: plaintext
// tunnels are recorded `encrypted: no` with the encapsulation seen, encrypting ones
// `encrypted: yes` with theirs (ESP-in-UDP, UDP 51820, ...). Result rows carry the validity
// column, and the experiment's report opens in chromium with every figure laid out and the
// wire verdict beside the isolation result. Screenshots land in .tap/report-figures/.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildApi, startController } from '@seconet/controller';
import { CHROMIUM, checkReportInBrowser } from './helpers/report-browser.js';
import { REPO, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot, strictRequirements } from './helpers/requirements.js';

const TOKEN = 'e2e-wire-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const EXPECT: Record<string, { encrypted: 'yes' | 'no'; encapsulation: RegExp }> = {
  none: { encrypted: 'no', encapsulation: /^plain ICMP/ },
  vxlan: { encrypted: 'no', encapsulation: /^VXLAN UDP 4789/ },
  wireguard: { encrypted: 'yes', encapsulation: /^WireGuard UDP 51820/ },
  ipsec: { encrypted: 'yes', encapsulation: /^ESP-in-UDP 4500|^ESP\b/ },
  openvpn: { encrypted: 'yes', encapsulation: /^OpenVPN UDP 1\d{3}/ },
  tinc: { encrypted: 'yes', encapsulation: /^Tinc (UDP|TCP) 655/ },
};

t.test('every lab tunnel: encryption shown on the wire per cell, through the REST API', { timeout: 900_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2);
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 250, runMarginMs: 20_000 } }));
  t.teardown(() => ctl.stop());
  const app = await buildApi({ service: ctl.service, tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const spec = {
    name: 'e2e-wire',
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: Object.keys(EXPECT), filter: ['none'], containers: [2] },
    workloads: [{ 'latency-basic': { duration: 1, count: 5, interval: 0.2 } }],
    repetitions: { min: 1, max: 1 },
  };
  const dry = await app.inject({ method: 'POST', url: '/v1/experiments?dryRun=true', headers: auth, payload: spec });
  t.equal(dry.statusCode, 200, dry.body);
  const plan = dry.json() as { cells: Array<{ tunnel: string }>; skipped: Array<{ cell: { tunnel: string }; reason: string }> };
  for (const s of plan.skipped) t.comment(`skipped ${s.cell.tunnel}: ${s.reason}`);
  const planned = new Set(plan.cells.map((c) => c.tunnel));
  t.same([...planned].sort(), Object.keys(EXPECT).sort(), 'every tunnel is feasible on this lab');

  const sub = await app.inject({ method: 'POST', url: '/v1/experiments', headers: auth, payload: spec });
  t.equal(sub.statusCode, 202, sub.body);
  const { id } = sub.json() as { id: string };
  const t0 = Date.now();
  let state = '';
  while (Date.now() - t0 < 800_000) {
    const g = await app.inject({ method: 'GET', url: `/v1/experiments/${id}`, headers: auth });
    state = (g.json() as { state: string }).state;
    if (['succeeded', 'failed', 'cancelled'].includes(state)) break;
    await sleep(1000);
  }
  t.comment(`finished ${state} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const data = ctl.store.reportData(id);
  for (const v of data.cells) {
    const w = v.wire;
    t.comment(`${v.cell.tunnel}: ${v.state}${v.error ? ` (${v.error})` : ''}; wire ${JSON.stringify(w && { encrypted: w.encrypted, encapsulation: w.encapsulation, markerInClear: w.markerInClear })}`);
    const exp = EXPECT[v.cell.tunnel]!;
    t.equal(v.state, 'measured', `${v.cell.tunnel}: measured`);
    t.ok(w, `${v.cell.tunnel}: the wire check ran`);
    if (!w) continue;
    t.equal(w.encrypted, exp.encrypted, `${v.cell.tunnel}: encrypted ${exp.encrypted}\n${w.evidence}`);
    t.equal(w.markerInClear, exp.encrypted === 'no', `${v.cell.tunnel}: marker ${exp.encrypted === 'no' ? 'seen' : 'not seen'} in clear`);
    t.match(w.encapsulation, exp.encapsulation, `${v.cell.tunnel}: encapsulation ${w.encapsulation}`);
    t.equal(w.claimsEncryption, exp.encrypted === 'yes');
  }
  t.equal(state, 'succeeded');

  const res = await app.inject({ method: 'GET', url: `/v1/experiments/${id}/results?format=json`, headers: auth });
  t.equal(res.statusCode, 200);
  const rows = res.json() as Array<{ tunnel: string; pair: string; metric: string; validity: string }>;
  t.ok(rows.length > 0 && rows.every((r) => typeof r.validity === 'string'), 'every result row carries the validity column');
  t.ok(rows.some((r) => r.pair.startsWith('host/') && r.metric === 'host_core_busiest'), 'the busiest core of each host is recorded per run');
  t.ok(rows.some((r) => r.pair.startsWith('host/') && r.metric === 'testbed_cpu_share'), "the agent's own share is recorded per run");
  for (const tunnel of Object.keys(EXPECT)) t.ok(rows.some((r) => r.tunnel === tunnel && r.metric === 'rtt_avg'), `${tunnel}: RTT rows`);

  const rep = await app.inject({ method: 'GET', url: `/v1/experiments/${id}/report`, headers: auth });
  t.equal(rep.statusCode, 200);
  if (!existsSync(CHROMIUM)) {
    // Fails under CI=true (scripts/setup.sh installs chromium unless SECONET_SETUP_BROWSER=0); elsewhere a comment says why.
    const why = `${CHROMIUM} is not installed (scripts/setup.sh installs it): the report was not opened in a browser`;
    if (strictRequirements() && process.env['SECONET_SETUP_BROWSER'] !== '0') t.fail(why);
    else t.comment(why);
    return;
  }
  const page = await checkReportInBrowser(rep.body, 'e2e-wire', join(REPO, '.tap', 'report-figures'));
  t.same(page.errors, [], 'no console errors');
  t.ok(page.figures.length >= 2, `figures: ${page.figures.map((f) => f.id).join(', ')}`);
  for (const f of page.figures) {
    t.ok(f.svgs === 1 && f.width > 200 && f.marks > 10, `${f.id}: rendered (${f.width.toFixed(0)} px, ${f.marks} marks)`);
    t.same(f.clipped, [], `${f.id}: no label cut off`);
    t.equal(f.overflowPx, 0, `${f.id}: fits the page`);
  }
  const wireColumn = page.cellRows.map((r) => `${r[2]} | ${r[8]}`);
  t.comment(wireColumn.join('\n'));
  t.ok(wireColumn.some((c) => /^wireguard.* \| encrypted: yes WireGuard UDP 51820/.test(c)), 'the report shows the wire verdict beside isolation');
  t.ok(wireColumn.some((c) => /^vxlan.* \| encrypted: no VXLAN UDP 4789/.test(c)));
});
