// Stops are prompt: with Redis paused (SIGSTOP) and an agent frozen, SIGTERM still ends the
// controller and another agent within STOP_BOUND_MS; the run in flight is left to be retried with
// no result rows (not half-written), and after `lab up` repairs the lab it is retried and the
// sweep finishes with one result per run.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../packages/agent/src/index.js';
import { STOP_BOUND_MS } from '../packages/core/src/index.js';
import { openStore } from '../packages/controller/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState } from '../packages/cli/src/lab/lab-state.js';
import { procStartTime } from '../packages/cli/src/lab/processes.js';
import { runCli } from './cli-helpers.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SPEC = ['name: stop-bound', 'placement: multi-host', 'matrix: {network: [bridge], tunnel: [none], filter: [none], containers: [2]}', 'workloads:', '  - latency-basic: {duration: 4, count: 16, interval: 0.25}', 'repetitions: {min: 3, max: 3}', ''].join('\n');

function running(pid: number, startTime: string): boolean {
  if (procStartTime(pid) !== startTime) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

async function exitTime(pid: number, startTime: string, limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (running(pid, startTime) && Date.now() - t0 < limitMs) await sleep(50);
  return Date.now() - t0;
}

t.test('SIGTERM ends the controller and an agent within the bound with Redis paused and an agent frozen', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const dir = mkdtempSync(join(tmpdir(), 'snlab-stop-'));
  const labDir = join(dir, 'lab');
  const env = { SECONET_LAB_DIR: labDir };
  const frozen: number[] = [];
  t.teardown(async () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        /* gone */
      }
    }
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(up.code, 0, `lab up: ${up.stderr}`);
  const spec = join(dir, 'sweep.yaml');
  writeFileSync(spec, SPEC);
  const sub = await runCli(['submit', spec, '--json'], { env });
  t.equal(sub.code, 0, sub.stderr);
  const id = JSON.parse(sub.stdout).id as string;
  const store = openStore(join(labDir, 'controller', 'data'));
  t.teardown(() => store.close());
  for (let i = 0; i < 1200 && !store.runs(id).some((r) => r.state === 'running'); i++) await sleep(100);
  await sleep(1500);
  const inflight = store.runs(id).find((r) => r.state === 'running');
  t.ok(inflight, 'a run is in flight');

  const s = readLabState(labDir)!;
  process.kill(s.supervisor!.pid, 'SIGKILL');
  const h1 = s.hosts[0]!.agent!;
  const h2 = s.hosts[1]!.agent!;
  for (const pid of [s.redis!.pid, h2.pid]) {
    process.kill(pid, 'SIGSTOP');
    frozen.push(pid);
  }
  await sleep(500);
  process.kill(s.controller!.pid, 'SIGTERM');
  process.kill(h1.pid, 'SIGTERM');
  const [ctlMs, agentMs] = await Promise.all([exitTime(s.controller!.pid, s.controller!.startTime, 30_000), exitTime(h1.pid, h1.startTime, 30_000)]);
  t.comment(`controller exited ${ctlMs} ms, agent ${agentMs} ms after SIGTERM`);
  t.ok(ctlMs < STOP_BOUND_MS, `the controller ended within ${STOP_BOUND_MS} ms (${ctlMs})`);
  t.ok(agentMs < STOP_BOUND_MS, `the agent ended within ${STOP_BOUND_MS} ms (${agentMs})`);
  const cut = store.getRun(inflight!.id)!;
  // `pending` when the stop got to hand the run back, `running` when the bound cut it first: both are retried.
  t.ok(['running', 'pending'].includes(cut.state), `the cut run is left to be retried (${cut.state}: ${cut.error ?? ''})`);
  t.same(store.resultRows(id).filter((r) => r.run === inflight!.id), [], 'and has no (half-written) result rows');

  for (const pid of frozen.splice(0)) process.kill(pid, 'SIGCONT');
  const repair = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(repair.code, 0, `lab up (repair): ${repair.stderr}`);
  let state = '';
  for (let i = 0; i < 1800; i++) {
    state = store.requireExperiment(id).state;
    if (['succeeded', 'failed', 'cancelled'].includes(state)) break;
    await sleep(100);
  }
  t.equal(state, 'succeeded', 'the sweep finished');
  const runs = store.runs(id);
  t.ok(runs.every((r) => r.state === 'succeeded'), 'every run succeeded');
  t.ok(store.getRun(inflight!.id)!.attempts > cut.attempts, 'the cut run was retried');
  const rtt = store.resultRows(id).filter((r) => r.metric === 'rtt_avg' && !r.pair.startsWith('host/'));
  t.equal(rtt.length, runs.length, 'one rtt_avg per run, none twice');
});
