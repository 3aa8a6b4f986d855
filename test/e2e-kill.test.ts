// End to end, crash safety: the controller is SIGKILLed mid-sweep and restarted; it resumes
// at the first unfinished run within seconds, and no run is repeated or lost. An agent
// SIGKILLed mid-run makes that run fail with the agent's error while the sweep goes on, and
// after the agent restarts the sweep measures on it again.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExecRunner } from '@seconet/agent';
import { openStore, startController } from '@seconet/controller';
import { REPO, startE2eLab } from './helpers/e2e-lab.js';
import { requireRoot } from './helpers/requirements.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const runner = new ExecRunner();

function spawnController(t: { teardown(fn: () => unknown): void }, config: string, spec?: string): { child: ChildProcess; id: Promise<string | undefined>; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import=tsx', '--conditions=seconet-source', join(REPO, 'test/helpers/controller-child.ts'), config, ...(spec ? [spec] : [])], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  });
  let out = '';
  let resolveId: (v: string | undefined) => void = () => undefined;
  let resolveReady: () => void = () => undefined;
  const id = new Promise<string | undefined>((r) => (resolveId = r));
  const ready = new Promise<void>((r) => (resolveReady = r));
  child.stdout!.on('data', (b: Buffer) => {
    out += b.toString();
    const m = /\{"id":"([^"]+)"\}/.exec(out);
    if (m) resolveId(m[1]);
    if (out.includes('ready\n')) {
      resolveId(undefined);
      resolveReady();
    }
  });
  child.once('exit', () => {
    resolveId(undefined);
    resolveReady();
  });
  return { child, id, ready };
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

t.test('controller SIGKILLed mid-sweep resumes at the first unfinished run; nothing repeated or lost', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2);
  const config = lab.writeControllerConfig({ worker: { lockDurationMs: 4000, stalledIntervalMs: 1000, hostLockTtlMs: 3000 }, engine: { metricsIntervalMs: 500 } });
  const specFile = join(lab.dir, 'spec.json');
  writeFileSync(specFile, JSON.stringify({
    name: 'e2e-kill',
    hosts: ['h1', 'h2'],
    matrix: { filter: ['none', 'iptables'], containers: [2, 4] },
    workloads: [{ 'latency-basic': { duration: 1.5, count: 6, interval: 0.25 } }],
    repetitions: { min: 3, max: 3 },
  }));
  const first = spawnController(t, config, specFile);
  const id = await first.id;
  if (!t.ok(id, 'submitted')) return;
  const store = openStore(join(lab.dir, 'store'));
  t.teardown(() => store.close());
  for (let i = 0; i < 600 && store.progress(id!).runsDone < 4; i++) await sleep(100);
  await sleep(700);
  process.kill(first.child.pid!, 'SIGKILL');
  await killed(first.child);
  const before = new Map(store.runs(id!).map((r) => [r.id, r]));
  const doneBefore = [...before.values()].filter((r) => r.state === 'succeeded');
  const interrupted = [...before.values()].filter((r) => r.state === 'running');
  t.ok(doneBefore.length >= 4 && doneBefore.length < 12, `killed mid-sweep after ${doneBefore.length} of 12 runs`);
  t.comment(`interrupted runs: ${interrupted.map((r) => r.id).join(', ') || 'none'}`);

  const killedAt = Date.now();
  const second = spawnController(t, config);
  await second.ready;
  let resumedAt = 0;
  for (let i = 0; i < 1200; i++) {
    const runs = store.runs(id!);
    if (!resumedAt && runs.some((r) => r.state === 'running' && !interrupted.some((x) => x.id === r.id && x.attempts === r.attempts))) resumedAt = Date.now();
    if (['succeeded', 'failed', 'cancelled'].includes(store.requireExperiment(id!).state)) break;
    await sleep(100);
  }
  if (!resumedAt) resumedAt = Date.now();
  t.comment(`resumed ${((resumedAt - killedAt) / 1000).toFixed(1)} s after the kill`);
  t.ok(resumedAt - killedAt < 30_000, 'resumed within 30 s');
  t.equal(store.requireExperiment(id!).state, 'succeeded');
  const after = store.runs(id!);
  t.equal(after.length, 12, 'no run lost or added');
  t.ok(after.every((r) => r.state === 'succeeded'), 'every run succeeded');
  for (const r of doneBefore) {
    t.equal(store.getRun(r.id)?.finishedAt, r.finishedAt, `finished run ${r.id} was not run again`);
    t.equal(store.getRun(r.id)?.attempts, 1);
  }
  for (const r of interrupted) t.equal(store.getRun(r.id)?.attempts, r.attempts + 1, `interrupted run ${r.id} ran once more`);
  const done = new Set(doneBefore.map((r) => r.id));
  const firstUnfinished = [...after].filter((r) => !done.has(r.id)).sort((x, y) => x.order - y.order)[0];
  const firstResumed = [...after].filter((r) => !done.has(r.id)).sort((x, y) => Date.parse(x.startedAt ?? '') - Date.parse(y.startedAt ?? ''))[0];
  t.equal(firstResumed?.id, firstUnfinished?.id, 'the restarted controller began with the first unfinished run');
  const rtt = store.resultRows(id!).filter((r) => r.metric === 'rtt_avg' && !r.pair.startsWith('host/'));
  t.equal(rtt.length, 3 * (1 + 1 + 2 + 2), 'exactly one result per run x pair');
  process.kill(second.child.pid!, 'SIGTERM');
  await killed(second.child);
});

t.test('an agent SIGKILLed mid-run: that run fails with a clear error, the sweep goes on', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'lab namespaces')) return;
  const lab = await startE2eLab(t, 2, { childAgents: true });
  const ctl = await startController(lab.controllerConfig({ engine: { metricsIntervalMs: 500, retries: 0, agentWaitMs: 120_000 } }));
  t.teardown(() => ctl.stop());
  const { id } = await ctl.service.submit({
    name: 'e2e-agent-kill',
    hosts: ['h1', 'h2'],
    matrix: { filter: ['iptables'], containers: [4] },
    workloads: [{ 'latency-basic': { duration: 3, count: 12, interval: 0.25 } }],
    repetitions: { min: 4, max: 4 },
  });
  const h2 = lab.agents.get('h2')!;
  for (let i = 0; i < 600 && !ctl.store.runs(id).some((r) => r.state === 'running' && r.repetition === 2); i++) await sleep(100);
  await sleep(1000);
  const victim = ctl.store.runs(id).find((r) => r.state === 'running')!;
  t.ok(victim, 'a run is in progress');
  await h2.kill();
  // Stay down until the run has failed, then come back: startup GC runs, the next run waits for it and goes on.
  for (let i = 0; i < 300 && ctl.store.getRun(victim.id)?.state === 'running'; i++) await sleep(100);
  await h2.restart();
  for (let i = 0; i < 1200 && !['succeeded', 'failed'].includes(ctl.store.requireExperiment(id).state); i++) await sleep(100);
  const runs = ctl.store.runs(id);
  for (const r of runs) t.comment(`${r.repetition}: ${r.state} attempts=${r.attempts} ${r.error ?? ''}`);
  const failed = ctl.store.getRun(victim.id)!;
  t.equal(failed.state, 'failed', 'the interrupted run failed');
  t.match(failed.error, /agent h2/, 'its error names the agent');
  t.match(failed.error, /UNAVAILABLE|unavailable|ECONNREFUSED|No connection|closed/i, "and says what happened to it");
  t.equal(ctl.store.requireExperiment(id).state, 'succeeded', 'the sweep went on');
  t.ok(runs.filter((r) => r.repetition > victim.repetition).every((r) => r.state === 'succeeded'), 'later runs measured on the restarted agent');
  const prefix = lab.topo.hosts[1]!.prefix;
  const ns = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(prefix));
  t.same(ns, [], "the agent's objects are gone after teardown");
});
