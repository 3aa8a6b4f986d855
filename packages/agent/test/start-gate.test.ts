// The start barrier with real processes: tools forked held behind sn-gate, seconds apart, run
// only when released and then start within milliseconds of each other; a held tool whose
// release never comes (the call stopped) never runs; StartBarrier releases once every pair
// arrived or forfeited.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../src/runner/runner.js';
import { GATE_BINARY, StartBarrier } from '../src/workloads/start-gate.js';
import { requireTool } from '../../../test/helpers/requirements.js';

const runner = new ExecRunner();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('held tools forked 300 ms apart start together when released', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const date = '/usr/bin/date';
  const procs = [];
  for (let i = 0; i < 4; i++) {
    procs.push(runner.spawn([GATE_BINARY, date, '+%s.%N'], { held: true }));
    await sleep(300);
  }
  t.ok(procs.every((p) => p.alive()), 'every tool waits at the gate (forked over 0.9 s)');
  t.ok(procs.every((p) => typeof p.release === 'function'), 'a held process can be released');
  const before = Date.now() / 1000;
  for (const p of procs) p.release!();
  const outs = await Promise.all(procs.map((p) => p.exited));
  t.ok(outs.every((o) => o.exitCode === 0), `every tool ran (${outs.map((o) => o.stderr).join('').trim() || 'no errors'})`);
  const starts = outs.map((o) => Number(o.stdout.trim()));
  const spread = Math.max(...starts) - Math.min(...starts);
  t.ok(starts.every((s) => s >= before - 0.01), 'none ran before its release');
  t.ok(spread < 0.15, `released together, they started ${(spread * 1000).toFixed(1)} ms apart (forked 900 ms apart)`);
});

t.test('a held tool whose release never comes does not run', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'sn-gate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'ran');
  // The call is stopped while the tool waits: stopping by PID ends the gate.
  const p = runner.spawn([GATE_BINARY, '/usr/bin/touch', marker], { held: true });
  await sleep(100);
  await p.stop(1000);
  t.not((await p.exited).exitCode, 0, 'the gate was stopped');
  t.notOk(existsSync(marker), 'the tool never ran');
  // The pipe closes without the release byte (the agent died): the gate exits 125 and says why.
  const r = await runner.run([GATE_BINARY, '/usr/bin/touch', marker], { stdin: '', okCodes: [125] });
  t.equal(r.exitCode, 125);
  t.match(r.stderr, /stdin closed before the release: \/usr\/bin\/touch not started/);
  t.notOk(existsSync(marker), 'the tool never ran');
});

t.test('sn-gate refuses a relative tool (no PATH lookup)', async (t) => {
  if (!requireTool(t, GATE_BINARY, 'the workload start barrier (npm run native)')) return;
  const r = await runner.run([GATE_BINARY, 'date'], { okCodes: [2] });
  t.equal(r.exitCode, 2);
  t.match(r.stderr, /usage: sn-gate \/ABSOLUTE\/TOOL/);
});

t.test('StartBarrier: releases once every pair arrived or forfeited, once', async (t) => {
  let released = 0;
  const held = { release: () => void released++ };
  const b = new StartBarrier(3);
  b.arrive(held);
  b.forfeit();
  t.equal(released, 0, 'not while a pair is still coming');
  t.equal(b.releasedAt, undefined);
  b.arrive(held);
  t.equal(released, 2, 'both arrived tools released together');
  t.ok(b.releasedAt !== undefined && Math.abs(b.releasedAt - Date.now() / 1000) < 1, 'with the release time');
  b.forfeit();
  t.equal(released, 2, 'never twice');
});
