// Benchmark: how fast the dashboard is usable on loopback, in Debian's headless Chromium. The
// API (with an in-memory service holding 50 experiments and two agents) serves the built
// dashboard; each round measures, inside the page, the time from the navigation's start to the
// app's 'seconet:usable' mark (first interactive screen), for the sign-in form and for the
// Experiments list of a signed-in tab (the list fetched and drawn). The first round loads
// everything afresh; later rounds revalidate index.html, app.js and app.css by ETag and take the
// content-hashed chunks from the cache, as a returning user does. Baseline in the same run:
// the same navigation to /healthz (one tiny JSON answer, its load event). Requirement: usable
// within 1 s. Also prints the bundle sizes of dist/ui.
// Run (after npm run build): node --import=tsx --conditions=seconet-source bench/dashboard-load.ts [--json]

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildApi } from '../packages/controller/src/api/build-api.js';
import { DEFAULT_UI_DIR } from '../packages/controller/src/api/routes/ui.js';
import { FakeService, TOKEN } from '../packages/controller/test/api-fake-service.js';

const CHROMIUM = '/usr/bin/chromium';
const ROUNDS = 7;
const json = process.argv.includes('--json');
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (scripts/setup.sh installs chromium)`);
if (!existsSync(join(DEFAULT_UI_DIR, 'index.html'))) throw new Error(`the dashboard is not built (${DEFAULT_UI_DIR}): run npm run build`);

const service = new FakeService();
for (let i = 0; i < 50; i++) service.add((['running', 'succeeded', 'failed', 'queued', 'cancelled'] as const)[i % 5]!, { startedAt: '2026-01-01T00:00:00.000Z' });
const app = await buildApi({ service, tokens: [TOKEN], rateLimit: false });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const profile = mkdtempSync(join(tmpdir(), 'sn-bench-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/healthz`); // starts the renderer
  const baseline: number[] = [];
  const signIn: number[] = [];
  const list: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await page.goto(`${base}/healthz`);
    baseline.push(await page.evaluate<number>("performance.getEntriesByType('navigation')[0].loadEventEnd"));
    await page.evaluate('sessionStorage.clear()');
    await page.goto(`${base}/ui/`);
    await page.getByLabel('API token').waitFor();
    signIn.push(await page.evaluate(() => performance.getEntriesByName('seconet:usable')[0]!.startTime));
    await page.evaluate(`sessionStorage.setItem('seconet.token', ${JSON.stringify(TOKEN)})`);
    await page.evaluate("location.hash = '#/experiments'");
    await page.reload();
    // Usable = the list is drawn: measured when the table's caption is there.
    await page.locator('table.experiments caption').waitFor();
    list.push(await page.evaluate(() => performance.now()));
  }
  const sizes = readdirSync(DEFAULT_UI_DIR).sort().map((f) => {
    const buf = readFileSync(join(DEFAULT_UI_DIR, f));
    return { file: f, bytes: statSync(join(DEFAULT_UI_DIR, f)).size, gzip: gzipSync(buf).length };
  });
  // The first screen needs index.html, app.css, app.js and the chunks app.js imports statically
  // (the charts and the YAML parser are dynamic imports, loaded when a page needs them).
  const appJs = readFileSync(join(DEFAULT_UI_DIR, 'app.js'), 'utf8');
  const staticChunks = [...appJs.matchAll(/from"\.\/(chunk-[A-Z0-9]+\.js)"/g)].map((m) => m[1]!);
  const first = sizes.filter((s) => ['index.html', 'app.css', 'app.js', ...staticChunks].includes(s.file));
  const firstBytes = first.reduce((a, s) => a + s.bytes, 0);
  const firstGzip = first.reduce((a, s) => a + s.gzip, 0);
  const result = {
    rounds: ROUNDS,
    baselineMs: median(baseline),
    signInUsableMs: median(signIn),
    signInColdMs: signIn[0]!,
    experimentsListUsableMs: median(list),
    ratioSignIn: median(signIn) / median(baseline),
    ratioList: median(list) / median(baseline),
    sizes,
    firstScreen: { files: first.map((s) => s.file), bytes: firstBytes, gzip: firstGzip },
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`baseline /healthz load: ${result.baselineMs.toFixed(0)} ms (median of ${ROUNDS})`);
    console.log(`sign-in form usable: ${result.signInUsableMs.toFixed(0)} ms (${result.ratioSignIn.toFixed(1)}x baseline); first load, nothing cached: ${result.signInColdMs.toFixed(0)} ms`);
    console.log(`experiments list (50) usable: ${result.experimentsListUsableMs.toFixed(0)} ms (${result.ratioList.toFixed(1)}x baseline)`);
    console.log(`target: < 1000 ms -> ${Math.max(result.signInUsableMs, result.experimentsListUsableMs) < 1000 ? 'met' : 'NOT met'}`);
    for (const s of sizes) console.log(`  ${s.file}: ${s.bytes} B (${s.gzip} B gzip)`);
    console.log(`first screen: ${first.map((s) => s.file).join(', ')}: ${firstBytes} B (${firstGzip} B gzip)`);
  }
} finally {
  await context.close();
  await app.close();
  rmSync(profile, { recursive: true, force: true });
}
