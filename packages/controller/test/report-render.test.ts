import t from 'tap';
import { copyFile, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { requireTool } from '../../../test/helpers/requirements.js';
import { buildCharts, renderReport } from '../src/report/index.js';
import { reportFixture } from '../src/testing/index.js';
import type { ReportData } from '../src/report/types.js';

const CHROMIUM = '/usr/bin/chromium';
const ALL_CHARTS = ['latency-box', 'throughput-payload', 'throughput-rules', 'latency-rules', 'throughput-pairs', 'latency-pairs', 'throughput-clients', 'host-load'];

t.test('charts appear only when the data support them', async (t) => {
  const full = reportFixture();
  t.same(buildCharts(full).map((c) => c.id), ALL_CHARTS);
  const empty = reportFixture({ done: 0 });
  t.same(buildCharts(empty).map((c) => c.id), [], 'nothing measured, no figure');
  const noSeries: ReportData = { ...full, series: [], hostSamples: [] };
  t.same(buildCharts(noSeries).map((c) => c.id), ALL_CHARTS.filter((c) => c !== 'latency-box' && c !== 'host-load'));
  const onePayload = reportFixture({ spec: { name: 'one', hosts: ['a', 'b'], matrix: { tunnel: ['none', 'vxlan'] }, workloads: [{ 'throughput-basic': { engine: 'iperf3' } }] } });
  t.same(buildCharts(onePayload).map((c) => c.id), ['host-load'], 'one payload, one rule count, one container count');
});

t.test('the report is deterministic and escapes what it shows', async (t) => {
  const data = reportFixture({ brokenIsolation: [3] });
  const hostile: ReportData = {
    ...data,
    runs: data.runs.map((r, i) => (i === 4 ? { ...r, state: 'failed', error: '<script>alert(1)</script> & "quotes"' } : r)),
  };
  const a = await renderReport(hostile);
  const b = await renderReport(hostile);
  t.equal(a, b, 'same data, same bytes');
  t.notOk(a.includes('<script>alert(1)'), 'error text is escaped');
  t.ok(a.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'));
  t.match(a, /class="bad"[^>]*>BROKE</, 'broken isolation is flagged');
  t.match(a, /http-equiv="Content-Security-Policy" content="default-src 'none'/);
  t.notMatch(a, /<script|<link|<img|src="http|href="http|@import|url\(/i, 'nothing external, no script');
  t.match(a, /filter none has no rules to add/, 'skipped cells with reasons');
  t.match(a, /6\.1\.0-28-amd64/, 'provenance: kernel');
  t.match(a, /iperf3 3\.12/, 'provenance: tool versions');
  t.match(a, /ciRelWidth: 0\.05/, 'the spec');
});

t.test('the report in headless Chromium', async (t) => {
  if (!requireTool(t, CHROMIUM, 'rendering the report in a browser')) return;
  const dir = await mkdtemp(join(tmpdir(), 'seconet-report-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  // Set SECONET_REPORT_SHOTS=DIR to keep the screenshots for a look.
  const keep = process.env['SECONET_REPORT_SHOTS'];

  const cases: Array<[string, ReportData, number]> = [
    ['finished', reportFixture(), ALL_CHARTS.length],
    ['running', reportFixture({ done: 0.08 }), -1],
    ['queued', reportFixture({ done: 0 }), 0],
  ];
  for (const [name, data, expected] of cases) {
    const file = join(dir, `${name}.html`);
    const html = await renderReport(data);
    await writeFile(file, html);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (r) => {
      if (r.url() !== `file://${file}`) requests.push(r.url());
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    const charts = await page.$$eval('figure[data-chart]', (fs) => fs.map((f) => ({ id: f.getAttribute('data-chart'), svgs: f.querySelectorAll('svg').length, w: f.querySelector('svg')?.getBoundingClientRect().width ?? 0, marks: f.querySelectorAll('svg path, svg line, svg rect').length })));
    const shot = join(dir, `${name}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    await page.close();
    t.same(errors, [], `${name}: no console errors`);
    t.same(requests, [], `${name}: no network requests`);
    if (expected >= 0) t.equal(charts.length, expected, `${name}: ${expected} figures`);
    else {
      t.ok(charts.length > 0 && charts.length < ALL_CHARTS.length, `${name}: some figures (${charts.length})`);
      t.same(charts.map((c) => c.id), buildCharts(data).map((c) => c.id));
      t.notOk(charts.some((c) => c.id === 'throughput-rules'), 'no rule sweep measured yet');
    }
    for (const c of charts) {
      t.equal(c.svgs, 1, `${name}/${c.id}: one svg`);
      t.ok(c.w > 100, `${name}/${c.id}: svg laid out (${c.w}px)`);
      t.ok(c.marks > 10, `${name}/${c.id}: svg has marks`);
    }
    if (name === 'finished') t.same(charts.map((c) => c.id), ALL_CHARTS);
    if (name === 'queued') {
      t.match(html, /No figure yet/);
      t.match(html, /badge s-queued">queued</);
      t.notMatch(html, /class="ok"[^>]*>held</, 'no isolation verdict before a cell ran');
    }
    t.ok((await stat(shot)).size > 20_000, `${name}: screenshot written (${shot})`);
    if (keep) await copyFile(shot, join(keep, `report-${name}.png`));
  }
});
