// The lab repairs, it does not wipe: mid-sweep, the supervisor brings a SIGKILLed controller
// back by itself; then the supervisor, the controller and Redis are all SIGKILLed and `seconet
// lab up` restarts them with the same lab, ports, store and Redis data, and the sweep finishes
// with every result, none twice. `lab up --fresh` without --yes refuses off a terminal.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../packages/agent/src/index.js';
import { openStore } from '../packages/controller/src/index.js';
import { CONTROLLER_CMD, SUPERVISOR_CMD } from '../packages/cli/src/lab/daemons.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState } from '../packages/cli/src/lab/lab-state.js';
import { isOurs } from '../packages/cli/src/lab/processes.js';
import { runCli } from './cli-helpers.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SPEC = ['name: lab-repair', 'placement: multi-host', 'matrix: {network: [bridge], tunnel: [none], filter: [none, iptables], containers: [2]}', 'workloads:', '  - latency-basic: {count: 4, interval: 0.2}', 'repetitions: {min: 4, max: 4}', ''].join('\n');
const RUNS = 8;

t.test('controller SIGKILL mid-sweep: the supervisor restarts it, lab up repairs the rest, every result arrives once', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const dir = mkdtempSync(join(tmpdir(), 'snlab-repair-'));
  const labDir = join(dir, 'lab');
  const env = { SECONET_LAB_DIR: labDir };
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(up.code, 0, `lab up: ${up.stderr}`);
  t.equal(JSON.parse(up.stdout).action, 'created');
  const first = readLabState(labDir)!;
  t.ok(first.supervisor && isOurs(first.supervisor, SUPERVISOR_CMD), 'lab up started the supervisor');

  const spec = join(dir, 'sweep.yaml');
  writeFileSync(spec, SPEC);
  const sub = await runCli(['submit', spec, '--json'], { env });
  t.equal(sub.code, 0, sub.stderr);
  const id = JSON.parse(sub.stdout).id as string;
  const store = openStore(join(labDir, 'controller', 'data'));
  t.teardown(() => store.close());
  for (let i = 0; i < 1200 && store.progress(id).runsDone < 2; i++) await sleep(100);
  t.ok(store.progress(id).runsDone >= 2, 'the sweep is under way');

  // 1. The supervisor alone: SIGKILL the controller, a new one appears without anyone asking.
  process.kill(first.controller!.pid, 'SIGKILL');
  let restarted = false;
  for (let i = 0; i < 150 && !restarted; i++) {
    await sleep(200);
    const s = readLabState(labDir)!;
    restarted = s.controller!.pid !== first.controller!.pid && isOurs(s.controller!, CONTROLLER_CMD);
  }
  t.ok(restarted, 'the supervisor restarted the controller');

  // 2. Everything that keeps the sweep going dies at once, supervisor included: lab up repairs.
  for (let i = 0; i < 600 && store.progress(id).runsDone < 4; i++) await sleep(100);
  const before = readLabState(labDir)!;
  const doneBefore = store.runs(id).filter((r) => r.state === 'succeeded');
  t.ok(doneBefore.length < RUNS, `killed mid-sweep after ${doneBefore.length} of ${RUNS} runs`);
  for (const p of [before.supervisor!, before.controller!, before.redis!]) process.kill(p.pid, 'SIGKILL');
  await sleep(300);
  const st = await runCli(['lab', 'status', '--json'], { env });
  t.equal(st.code, 8, 'lab status reports the lab as not fully running');

  const repair = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(repair.code, 0, `lab up (repair): ${repair.stderr}`);
  const r = JSON.parse(repair.stdout) as { id: string; action: string; restarted: string[]; apiUrl: string };
  t.equal(r.action, 'repaired');
  t.same([...r.restarted].sort(), ['controller', 'redis']);
  t.equal(r.id, first.id, 'the same lab');
  t.equal(r.apiUrl, first.apiUrl, 'the same API port');
  const after = readLabState(labDir)!;
  t.equal(after.redis!.port, first.redis!.port, 'the same Redis port');
  t.same(after.hosts.map((h) => h.address), first.hosts.map((h) => h.address), 'the same agent addresses');
  t.ok(after.supervisor && isOurs(after.supervisor, SUPERVISOR_CMD), 'a supervisor runs again');

  let state = '';
  for (let i = 0; i < 1800; i++) {
    state = store.requireExperiment(id).state;
    if (['succeeded', 'failed', 'cancelled'].includes(state)) break;
    await sleep(100);
  }
  t.equal(state, 'succeeded', 'the sweep finished');
  const runs = store.runs(id);
  t.equal(runs.length, RUNS, 'no run lost or added');
  t.ok(runs.every((x) => x.state === 'succeeded'), `every run succeeded (${runs.filter((x) => x.state !== 'succeeded').map((x) => `${x.state}: ${x.error ?? ''}`).join('; ')})`);
  for (const d of doneBefore) t.equal(store.getRun(d.id)?.finishedAt, d.finishedAt, `finished run ${d.id} was not run again`);
  const rtt = store.resultRows(id).filter((x) => x.metric === 'rtt_avg' && !x.pair.startsWith('host/'));
  t.equal(rtt.length, RUNS, 'exactly one rtt_avg per run');
  t.equal(new Set(rtt.map((x) => x.run)).size, RUNS, 'from every run');

  const fresh = await runCli(['lab', 'up', '--hosts', '2', '--fresh'], { env, timeoutMs: 60_000 });
  t.equal(fresh.code, 2, '--fresh without --yes and without a terminal refuses');
  t.match(fresh.stderr, /--yes/);
  t.equal(readLabState(labDir)?.id, first.id, 'and deletes nothing');
  t.equal(store.requireExperiment(id).state, 'succeeded');

  const down = await runCli(['lab', 'down', '--json'], { env, timeoutMs: 120_000 });
  t.equal(down.code, 0, down.stderr);
  t.notOk(isOurs(after.supervisor!, SUPERVISOR_CMD), 'lab down stopped the supervisor');
});
