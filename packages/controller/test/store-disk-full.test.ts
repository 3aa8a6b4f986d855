// A full disk mid-sweep: the store directory is a small tmpfs that the runs' raw outputs fill.
// The run that hits ENOSPC goes back to pending with ENOSPC named (its attempt not counted), the
// sweep pauses instead of retrying into the wall (state `paused` in the REST API and the CLI),
// what was stored stays readable, and no raw output file is left that the store does not list.
// Once the tmpfs is grown, a resume (REST and `seconet resume`) finishes the sweep with every result.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/cli-helpers.js';
import { startRedis } from '../../../test/helpers/redis.js';
import { requireRoot } from '../../../test/helpers/requirements.js';
import { buildApi } from '../src/api/build-api.js';
import { parseControllerConfig } from '../src/config.js';
import { startController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { FakeAgent } from './fake-agent.js';

const TOKEN = 'disk-full-token-0123456789abcdef';
const RUNS = 12;

function filesUnder(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out = e.isDirectory() ? [...out, ...filesUnder(p)] : [...out, p];
  }
  return out;
}

async function until(fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

t.test('a full store disk pauses the sweep with ENOSPC named; a resume after space is back finishes it', async (t) => {
  if (!requireRoot(t, 'mounting a small tmpfs as the store directory')) return;
  const redis = await startRedis(t);
  const mnt = mkdtempSync(join(tmpdir(), 'sn-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m,mode=0700', 'tmpfs', mnt]);
  t.teardown(() => {
    execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const store = join(mnt, 'store');
  mkdirSync(store);
  const config = parseControllerConfig({
    redis: redis.url,
    store,
    agents: ['h1', 'h2'].map((name, i) => ({ name, address: `127.0.0.1:${7000 + i}`, tls: { ca: 'ca.pem', cert: 'c.pem', key: 'k.pem' } })),
    engine: { metricsIntervalMs: 100, cancelPollMs: 50, retryDelayMs: 10, minFreeBytes: 0 },
    healthIntervalMs: 200,
  }, mnt);
  const fakes = new Map(['h1', 'h2'].map((h, i) => [h, new FakeAgent(h, `198.18.0.${i + 1}`, { rawBytes: 400_000 })]));
  const ctl = await startController(config, { connect: (ep) => fakes.get(ep.name)!, secrets: NO_SECRETS });
  t.teardown(() => ctl.stop());
  const app = await buildApi({ service: ctl.service, tokens: [TOKEN], rateLimit: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  const addr = app.server.address();
  const apiUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const tokenFile = join(mkdtempSync(join(tmpdir(), 'sn-tok-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  t.teardown(() => rmSync(join(tokenFile, '..'), { recursive: true, force: true }));
  const cli = (...args: string[]) => runCli(['--api', apiUrl, '--token-file', tokenFile, ...args], { env: { SECONET_LAB_DIR: join(mnt, 'no-lab') } });
  const rest = async (method: 'GET' | 'POST', url: string) => app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` } });

  const { id } = await ctl.service.submit({ name: 'fill-disk', hosts: ['h1', 'h2'], workloads: [{ 'latency-basic': { duration: 0.5 } }], repetitions: { min: RUNS, max: RUNS } });
  await until(async () => ['paused', 'failed', 'succeeded'].includes((await ctl.service.get(id)).state));
  const e = await ctl.service.get(id);
  t.equal(e.state, 'paused', 'the sweep paused');
  t.match(e.error, /sweep paused: store: no space left on the disk of .* \((ENOSPC|SQLITE_FULL, ENOSPC)\) while writing the result of run .*Free space, then resume/);
  const runs = ctl.store.runs(id);
  const by = (s: string) => runs.filter((r) => r.state === s);
  const stored = by('succeeded').length;
  t.ok(stored >= 1 && stored < RUNS, `${stored} runs were stored before the disk filled`);
  t.equal(by('failed').length, 0, 'no run failed: the run the store could not keep waits for the resume');
  const hit = runs.filter((r) => r.state === 'pending' && /ENOSPC/.test(r.error ?? ''));
  t.equal(hit.length, 1, 'the run that met the full disk is pending with ENOSPC named');
  t.equal(runs.reduce((n, r) => n + (r.attempts ?? 0), 0), stored, 'no run was retried into the full disk, and its attempt is not counted');
  t.equal(new Set((await ctl.service.results(id)).map((r) => r.run)).size, stored, 'the stored results are still readable');
  const listed = ctl.store.rawOutputPaths(id);
  t.same(filesUnder(join(store, 'raw')).sort(), listed, 'no raw output file the store does not list (no orphans)');
  for (const p of listed) t.equal(statSync(p).mode & 0o777, 0o600);

  // Visible in the REST API, its metrics and the CLI; the queue does not pick it up again by itself.
  t.equal((await rest('GET', `/v1/experiments/${id}`)).json().state, 'paused');
  t.match((await rest('GET', '/metrics')).body, /seconet_experiments\{state="paused"\} 1/);
  const status = await cli('status', id);
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /paused/);
  t.match(status.stdout, new RegExp(`seconet resume ${id}`));
  await new Promise((r) => setTimeout(r, 500));
  t.equal(ctl.store.runs(id).filter((r) => r.state === 'succeeded').length, stored, 'a paused sweep does not run');

  // Resume is refused while space is still short, and for an experiment that is not paused.
  const engineOptions = ctl.engine.options as { minFreeBytes: number };
  engineOptions.minFreeBytes = 1 << 30;
  const short = await rest('POST', `/v1/experiments/${id}/resume`);
  t.equal(short.statusCode, 409);
  t.match(short.json().message, /stays paused: the store's disk .* has \d+ bytes free, less than engine\.minFreeBytes/);
  t.equal((await ctl.service.get(id)).state, 'paused');
  engineOptions.minFreeBytes = 0;

  // Space is back: grow the tmpfs, resume through the CLI, and the sweep finishes with every result.
  execFileSync('mount', ['-o', 'remount,size=64m', mnt]);
  const resumed = await cli('resume', id, '--json');
  t.equal(resumed.code, 0, resumed.stderr);
  t.equal(JSON.parse(resumed.stdout).state, 'queued');
  await until(async () => ['paused', 'failed', 'succeeded'].includes((await ctl.service.get(id)).state));
  const done = await ctl.service.get(id);
  t.equal(done.state, 'succeeded', done.error ?? '');
  t.equal(done.error, undefined, 'the pause reason is cleared');
  const after = ctl.store.runs(id);
  t.equal(after.filter((r) => r.state === 'succeeded').length, RUNS, 'every run succeeded');
  t.equal(new Set((await ctl.service.results(id)).map((r) => r.run)).size, RUNS, 'every run has its results');
  t.equal(after.reduce((n, r) => n + (r.attempts ?? 0), 0), RUNS, 'each run was measured once (the one the disk refused, once more after the resume)');
  t.same(filesUnder(join(store, 'raw')).sort(), ctl.store.rawOutputPaths(id), 'still no orphans');
  const again = await rest('POST', `/v1/experiments/${id}/resume`);
  t.equal(again.statusCode, 409, 'a finished experiment is not resumed');
  t.match(again.json().message, /is succeeded, not paused/);
});
