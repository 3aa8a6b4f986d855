// The start barrier with real processes: tools forked held behind sn-gate, seconds apart, run
// only when released (one write to the call's FIFO, once every pair arrived or forfeited) and
// then start within milliseconds of each other; a held tool whose release never comes (the
// call stopped, the agent died) never runs.
import t from 'tap';
import type { Test } from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../src/runner/runner.js';
import { GATE_BINARY, StartBarrier } from '../src/workloads/start-gate.js';
import { requireTool } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function barrier(t: Test, pairs: number): Promise<{ b: StartBarrier; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sn-gate-'));
  const b = await StartBarrier.open(runner, GATE_BINARY, join(dir, 'start-gate'), pairs);
  t.teardown(() => {
    b.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { b, dir };
}

t.test('held tools forked 300 ms apart start together when the barrier releases them', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const { b } = await barrier(t, 5);
  const procs = [];
  for (let i = 0; i < 4; i++) {
    procs.push(runner.spawn([GATE_BINARY, '/usr/bin/date', '+%s.%N'], { stdinFd: b.stdinFd }));
    b.arrive();
    await sleep(300);
  }
  t.ok(procs.every((p) => p.alive()), 'every tool waits at the gate (forked over 0.9 s)');
  t.equal(b.releasedAt, undefined, 'not released while a pair is still coming');
  b.forfeit();
  t.ok(b.releasedAt !== undefined, 'released once the last pair forfeited');
  const outs = await Promise.all(procs.map((p) => p.exited));
  t.ok(outs.every((o) => o.exitCode === 0), `every tool ran (${outs.map((o) => o.stderr).join('').trim() || 'no errors'})`);
  const starts = outs.map((o) => Number(o.stdout.trim()));
  const spread = Math.max(...starts) - Math.min(...starts);
  t.ok(starts.every((s) => s >= b.releasedAt! - 0.01), 'none ran before the release');
  t.ok(spread < 0.15, `released together, they started ${(spread * 1000).toFixed(1)} ms apart (forked 900 ms apart)`);
});

t.test('a held tool whose release never comes does not run', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const { b, dir } = await barrier(t, 2);
  const marker = join(dir, 'ran');
  // The call is stopped while the tool waits: stopping by PID ends the gate.
  const p = runner.spawn([GATE_BINARY, '/usr/bin/touch', marker], { stdinFd: b.stdinFd });
  b.arrive();
  const q = runner.spawn([GATE_BINARY, '/usr/bin/touch', marker], { stdinFd: b.stdinFd });
  await sleep(200);
  await p.stop(1000);
  t.not((await p.exited).exitCode, 0, 'the stopped gate did not run its tool');
  // The barrier closes without a release (the call ended, or the agent died): the gate exits 125 and says why.
  b.close();
  const r = await q.exited;
  t.equal(r.exitCode, 125, 'a gate whose FIFO closed without a byte exits 125');
  t.match(r.stderr, /stdin closed before the release: \/usr\/bin\/touch not started/);
  t.notOk(existsSync(marker), 'neither tool ran');
});

t.test('sn-gate refuses a relative tool (no PATH lookup)', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const r = await runner.run([GATE_BINARY, 'date'], { okCodes: [2] });
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /usage: sn-gate \/ABSOLUTE\/TOOL/);
});

