// The dashboard's event stream in headless Chromium against the API over an in-memory service:
// when the stream drops, the page reconnects with Last-Event-ID and shows every event exactly
// once, in order; after a final state it stops asking. A failed run shows its reason in words.
// No lab needed, so it runs without root.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildApi } from '../src/api/build-api.js';
import { DEFAULT_UI_DIR } from '../src/api/routes/ui.js';
import { FakeService, TOKEN } from './api-fake-service.js';
import { requireTool, requirement } from '../../../test/helpers/requirements.js';

const CHROMIUM = '/usr/bin/chromium';
const built = existsSync(join(DEFAULT_UI_DIR, 'index.html'));

t.test('live events: reconnect with Last-Event-ID, each event once, stop at the end', { timeout: 120_000 }, async (t) => {
  if (!requireTool(t, CHROMIUM, 'the dashboard in a browser')) return;
  if (!requirement(t, built ? undefined : `the dashboard is not built (${DEFAULT_UI_DIR}): run npm run build`)) return;
  const service = new FakeService();
  const e = service.add('running', { name: 'sse-check', startedAt: new Date().toISOString() });
  const asked: Array<{ after: number }> = [];
  const events = service.events.bind(service);
  // The fake answers what it has and ends the stream without a final state: a dropped connection.
  service.events = (id, after, signal) => {
    asked.push({ after });
    return events(id, after, signal);
  };
  service.pushEvent(e.id, 'state', { state: 'running' });
  service.pushEvent(e.id, 'run', { run: 'r1', state: 'running', cell: 'c1', workload: 'latency-basic', repetition: 1 });

  const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
  t.teardown(() => app.close());
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const profile = mkdtempSync(join(tmpdir(), 'sn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(String(err)));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  await page.addInitScript({ content: `sessionStorage.setItem('seconet.token', ${JSON.stringify(TOKEN)})` });
  await page.goto(`${base}/ui/#/experiments/${e.id}`);
  await page.getByRole('heading', { level: 1, name: 'sse-check' }).waitFor();

  const shown = (): Promise<string[]> => page.locator('ol.events li .mono').allTextContents();
  await page.locator('ol.events li').nth(1).waitFor();
  t.match(await page.locator('dd.current').textContent(), /cell c1, workload latency-basic, repetition 1/, 'the current run from the stream');

  service.pushEvent(e.id, 'run', { run: 'r1', state: 'succeeded', runsDone: 1, runsTotal: 4 });
  service.pushEvent(e.id, 'run', { run: 'r2', state: 'running', cell: 'c1', workload: 'latency-basic', repetition: 2 });
  await page.locator('ol.events li').nth(3).waitFor({ timeout: 15_000 });
  t.same(await shown(), ['#4', '#3', '#2', '#1'], 'every event once, newest first');
  t.ok(asked.some((a) => a.after === 2), `a reconnect asked for what came after event 2 (asked: ${JSON.stringify(asked.map((a) => a.after))})`);
  t.match(await page.locator('dd.current').textContent(), /repetition 2/);

  const failed = page.locator('table.runs tr[data-state="failed"]');
  t.match(await failed.textContent(), /✗ failed.*\(2 attempts\).*ping exited 2: connect: Network is unreachable/, 'a failed run says why, in words');

  service.experiments.set(e.id, { ...service.experiments.get(e.id)!, state: 'cancelled' });
  service.pushEvent(e.id, 'state', { state: 'cancelled' });
  await page.locator('ol.events li').nth(4).waitFor({ timeout: 15_000 });
  await page.getByText('Live updates: ended').waitFor({ timeout: 15_000 });
  const requests = asked.length;
  await page.waitForTimeout(2500);
  t.equal(asked.length, requests, 'no reconnect after the final state');
  t.same(await shown(), ['#5', '#4', '#3', '#2', '#1']);
  t.same(problems, [], 'no script error, no CSP violation');
});
