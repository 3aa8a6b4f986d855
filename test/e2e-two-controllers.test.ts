// End to end, past one controller: two controller processes work one BullMQ queue and share
// one PostgreSQL results store. The one running the sweep is SIGKILLed mid-sweep; the other
// takes the stalled job over and finishes the sweep from the stored state, with no result lost
// and none duplicated; the results, the report and the event stream read the same from either
// controller.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, startE2eApi, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';
import { requirePostgres, startPostgres } from './helpers/postgres.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A controller in its own process (test/helpers/controller-child.ts), killed in teardown if still alive. */
function spawnController(t: { teardown(fn: () => unknown): void }, config: string, spec: string): { child: ChildProcess; id: Promise<string | undefined> } {
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', join(REPO, 'test/helpers/controller-child.ts'), config, spec], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  });
  let out = '';
  const id = new Promise<string | undefined>((resolve) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /\{"id":"([^"]+)"\}/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', () => resolve(undefined));
  });
  return { child, id };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

t.test('two controllers, one queue, one PostgreSQL: one is SIGKILLed mid-sweep, the other finishes it', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  if (!requirePostgres(t, 'the shared results store')) return;
  const pg = await startPostgres(t);
  const lab = await startE2eLab(t, 2);
  const shared = {
    store: { kind: 'postgres', url: pg.url, dir: join(lab.dir, 'store') },
    worker: { lockDurationMs: 4000, stalledIntervalMs: 1000, hostLockTtlMs: 3000 },
    engine: { metricsIntervalMs: 500 },
  };
  const config = lab.writeControllerConfig(shared);
  const specFile = join(lab.dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({
    name: 'e2e-two-controllers',
    hosts: ['h1', 'h2'],
    matrix: { filter: ['none', 'iptables'], containers: [2, 4] },
    workloads: [{ 'latency-basic': { duration: 1.5, count: 6, interval: 0.25 } }],
    repetitions: { min: 3, max: 3 },
  }));

  // Controller A (a process) submits the sweep and takes its job.
  const a = spawnController(t, config, specFile);
  const id = await a.id;
  if (!t.ok(id, 'A submitted the sweep')) return;
  // Controller B (in this process, with its REST API) joins the same queue and store while A works.
  const b = await startE2eApi(t, lab, shared);
  t.equal(b.ctl.store.dialect, 'postgres');
  // Kill A inside a measurement: after three runs, 0.5 s into the next one (each takes 1.5 s).
  const measuring = (): boolean => b.ctl.store.runs(id!).some((r) => r.state === 'running' && Date.now() - Date.parse(r.startedAt ?? '') > 500);
  for (let i = 0; i < 1200 && (b.ctl.store.progress(id!).runsDone < 3 || !measuring()); i++) await sleep(50);
  t.same(b.ctl.engine.scopesInUse(), [], 'B is idle: A holds the job');
  process.kill(a.child.pid!, 'SIGKILL');
  await exited(a.child);
  const killedAt = Date.now();
  const before = new Map(b.ctl.store.runs(id!).map((r) => [r.id, r]));
  const doneBefore = [...before.values()].filter((r) => r.state === 'succeeded');
  const interrupted = [...before.values()].filter((r) => r.state === 'running');
  t.ok(doneBefore.length >= 3 && doneBefore.length < 12, `A killed mid-sweep after ${doneBefore.length} of 12 runs`);
  t.equal(interrupted.length, 1, `one run interrupted mid-measurement (${interrupted.map((r) => r.id).join(', ')})`);

  let takenOver = 0;
  for (let i = 0; i < 1800; i++) {
    if (!takenOver && b.ctl.engine.scopesInUse().length > 0) takenOver = Date.now();
    if (['succeeded', 'failed', 'cancelled'].includes(b.ctl.store.experimentState(id!))) break;
    await sleep(100);
  }
  t.ok(takenOver > 0, 'B took the stalled job over');
  t.comment(`B took over ${((takenOver - killedAt) / 1000).toFixed(1)} s after the kill (lock duration 4 s)`);
  t.equal(b.ctl.store.experimentState(id!), 'succeeded', 'B finished the sweep');
  const after = b.ctl.store.runs(id!);
  t.equal(after.length, 12, 'no run lost or added');
  t.ok(after.every((r) => r.state === 'succeeded'), 'every run succeeded');
  for (const r of doneBefore) t.equal(b.ctl.store.getRun(r.id)?.finishedAt, r.finishedAt, `run ${r.id}, finished by A, was not run again`);
  for (const r of interrupted) t.equal(b.ctl.store.getRun(r.id)?.attempts, r.attempts + 1, `run ${r.id}, interrupted on A, ran once more on B`);

  // Results through B's REST API: exactly one row per run x pair x metric.
  const resB = await b.request<Array<Record<string, unknown>>>(`/v1/experiments/${id}/results?format=json`);
  t.equal(resB.status, 200);
  const keys = resB.body.map((r) => `${String(r['run'])}|${String(r['pair'])}|${String(r['flow'])}|${String(r['metric'])}`);
  t.equal(new Set(keys).size, keys.length, '0 duplicated results');
  const rtt = resB.body.filter((r) => r['metric'] === 'rtt_avg' && !String(r['pair']).startsWith('host/'));
  t.equal(rtt.length, 3 * (1 + 1 + 2 + 2), '0 lost results: one per run x pair');
  t.same(new Set(rtt.map((r) => r['run'])), new Set(after.map((r) => r.id)), 'every run has its results');

  // A third controller on the same queue and store reads the same through its own API.
  const c = await startE2eApi(t, lab, shared);
  for (const path of [`/v1/experiments/${id}`, `/v1/experiments/${id}/results?format=json`, `/v1/experiments/${id}/results?format=csv`, `/v1/experiments/${id}/runs`, `/v1/experiments/${id}/cells`, `/v1/experiments/${id}/events`]) {
    const [x, y] = await Promise.all([b.request(path), c.request(path)]);
    t.equal(x.status, 200, `${path} from B`);
    t.equal(y.text, x.text, `${path} reads the same from either controller`);
  }
  const [rb, rc] = await Promise.all([b.request(`/v1/experiments/${id}/report`), c.request(`/v1/experiments/${id}/report`)]);
  t.equal(rb.status, 200);
  t.equal(rc.text.length > 0 && rc.text === rb.text, true, 'the report reads the same from either controller');
});
