// A full disk mid-sweep: the store directory is a small tmpfs that the runs' raw outputs fill.
// The run that hits ENOSPC fails with ENOSPC named, the sweep stops instead of retrying, what
// was stored stays readable, and no raw output file is left that the store does not list.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../../../test/helpers/redis.js';
import { requireRoot } from '../../../test/helpers/requirements.js';
import { parseControllerConfig } from '../src/config.js';
import { startController } from '../src/controller.js';
import { NO_SECRETS } from '../src/configurator/host-state.js';
import { FakeAgent } from './fake-agent.js';

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

t.test('a full store disk stops the sweep with ENOSPC named and keeps what is stored', async (t) => {
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

  const { id } = await ctl.service.submit({ name: 'fill-disk', hosts: ['h1', 'h2'], workloads: [{ 'latency-basic': { duration: 0.5 } }], repetitions: { min: 12, max: 12 } });
  await until(async () => ['failed', 'succeeded'].includes((await ctl.service.get(id)).state));
  const e = await ctl.service.get(id);
  t.equal(e.state, 'failed', 'the sweep stopped');
  t.match(e.error, /sweep stopped: store: no space left on the disk of .* \((ENOSPC|SQLITE_FULL, ENOSPC)\) while writing the result of run/);
  const runs = ctl.store.runs(id);
  const by = (s: string) => runs.filter((r) => r.state === s);
  t.ok(by('succeeded').length >= 1, `${by('succeeded').length} runs were stored before the disk filled`);
  const attempted = runs.filter((r) => (r.attempts ?? 0) > 0 && r.state === 'failed');
  t.equal(attempted.length, 1, 'one run failed');
  t.match(attempted[0]?.error, /ENOSPC/, 'with ENOSPC named');
  // The runs the sweep never reached end failed with the experiment's reason (or stay pending).
  t.ok(runs.filter((r) => (r.attempts ?? 0) === 0 && r.state !== 'succeeded').length >= 1, 'the rest was not attempted');
  const attempts = runs.reduce((n, r) => n + (r.attempts ?? 0), 0);
  t.equal(attempts, by('succeeded').length + 1, 'no run was retried into the full disk');
  const rows = await ctl.service.results(id);
  t.equal(new Set(rows.map((r) => r.run)).size, by('succeeded').length, 'the stored results are still readable');
  const listed = ctl.store.rawOutputPaths(id);
  t.same(filesUnder(join(store, 'raw')).sort(), listed, 'no raw output file the store does not list (no orphans)');
  for (const p of listed) t.equal(statSync(p).mode & 0o777, 0o600);
});
