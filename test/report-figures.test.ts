// The paper's figure set, read in a browser: a multi-host sweep shaped like the paper's matrix
// (every lab tunnel, with and without a filter, rule and container sweeps, the paper's payloads
// and D-ITG workloads) rendered to HTML and opened in headless chromium. Every figure must be
// there, laid out, worded, with no axis label cut off and no figure wider than the page; figures
// that draw on runs the validity guards flagged must say so. Screenshots land in
// .tap/report-figures/ (or SECONET_REPORT_SHOTS).
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { buildCharts, renderReport } from '@seconet/controller';
import { reportFixture } from '@seconet/controller/testing';
import { CHROMIUM, checkReportInBrowser } from './helpers/report-browser.js';
import { REPO } from './helpers/e2e-lab.js';
import { requirement } from './helpers/requirements.js';

const PAPER_SPEC = {
  name: 'paper-matrix',
  hosts: ['node-a', 'node-b'],
  placement: 'multi-host',
  matrix: { network: ['bridge'], tunnel: ['none', 'vxlan', 'wireguard', 'ipsec', 'openvpn', 'tinc'], filter: ['none', 'iptables'], rules: [0, 1000], containers: [2, 8] },
  workloads: [
    { 'latency-basic': { count: 40, interval: 0.05 } },
    { 'throughput-basic': { payload: [64, 653, 1370], engine: 'iperf3', duration: 5 } },
    { bursty: { duration: 5 } },
    { 'tcp-100': { duration: 5 } },
    { quake3: { duration: 5 } },
    { video: { duration: 5 } },
  ],
  repetitions: { min: 3, max: 3 },
};

const EXPECTED = ['latency-box', 'throughput-payload', 'ditg', 'throughput-rules', 'latency-rules', 'throughput-pairs', 'latency-pairs', 'host-load'];

t.test('the paper figure set renders readably in chromium', { timeout: 300_000 }, async (t) => {
  // scripts/setup.sh installs chromium: under CI=true its absence fails the test instead of skipping it.
  if (!requirement(t, existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (scripts/setup.sh installs it)`, { optional: 'SECONET_SETUP_BROWSER' })) return;
  const data = reportFixture({ spec: PAPER_SPEC, failedRuns: [] });
  t.same(buildCharts(data).map((c) => c.id), EXPECTED, 'every figure of the paper set is built');
  const html = await renderReport(data);
  const out = process.env['SECONET_REPORT_SHOTS'] ?? join(REPO, '.tap', 'report-figures');
  const page = await checkReportInBrowser(html, 'paper', out);
  t.same(page.errors, [], 'no console errors');
  t.same(page.requests, [], 'no network requests');
  t.same(page.figures.map((f) => f.id), EXPECTED, 'every figure is on the page');
  for (const f of page.figures) {
    t.equal(f.svgs, 1, `${f.id}: one svg`);
    t.ok(f.width > 200 && f.height > 100, `${f.id}: laid out (${f.width.toFixed(0)}x${f.height.toFixed(0)} px)`);
    t.ok(f.marks > 10, `${f.id}: has marks (${f.marks})`);
    t.ok(f.texts > 5, `${f.id}: has labels (${f.texts})`);
    t.same(f.clipped, [], `${f.id}: no label leaves the figure`);
    t.equal(f.overflowPx, 0, `${f.id}: fits the page width`);
    t.ok(f.title.split(/\s+/).filter((w) => /^[a-z]{2,}/i.test(w)).length >= 3, `${f.id}: titled in words ("${f.title}")`);
  }
  const flagged = page.figures.filter((f) => f.validityFlagged).map((f) => f.id);
  t.ok(flagged.includes('throughput-payload'), `throughput with userspace VPNs saturating a core is marked (${flagged.join(', ')})`);
  t.notOk(flagged.includes('latency-box'), 'latency runs at low load are not marked');
  t.match(html, /cpu-bound<\/b> \(\d+ runs?\): a source or sink host had a core at least 95 %/, 'the figure says why');
  const wire = page.cellRows.map((r) => r[8] ?? '');
  t.ok(wire.some((w) => /^encrypted: yes WireGuard UDP 51820$/.test(w)), 'the cells table shows encryption and encapsulation per cell');
  t.ok(wire.some((w) => /^encrypted: no VXLAN UDP 4789$/.test(w)), 'plaintext tunnels are recorded encrypted: no');
  t.comment(`screenshots: ${page.shots.length} in ${out}`);
});
