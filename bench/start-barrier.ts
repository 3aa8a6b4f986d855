// Benchmark: how far apart N tools start when the agent forks them one after another (the
// baseline, measured in the same run) and when they are forked held behind sn-gate on one FIFO
// and released together by one write (workloads/start-gate.ts). Each tool is `date +%s.%N`, so its output is the moment
// it began; the spread is the latest start minus the earliest. The forks go through the agent's
// own ExecRunner with the start pacer, as a source call does, from a process holding a heap of
// about the agent's size (fork cost grows with it).
// Run: node --import=tsx --conditions=seconet-source bench/start-barrier.ts [--clients 50,200,1000] [--json]

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner, type Spawned } from '../packages/agent/src/runner/runner.js';
import { startPacer } from '../packages/core/src/pacer.js';
import { builtGate, StartBarrier } from '../packages/agent/src/workloads/start-gate.js';

const args = process.argv.slice(2);
const ci = args.indexOf('--clients');
const COUNTS = (ci >= 0 ? args[ci + 1]! : '50,200,1000').split(',').map(Number);
if (COUNTS.some((n) => !Number.isInteger(n) || n < 2 || n > 2000)) throw new Error('--clients: comma-separated counts, 2..2000');
const gate = builtGate();
if (gate === undefined) throw new Error('sn-gate is not built: npm run native');
const DATE = '/usr/bin/date';
const dir = mkdtempSync(join(tmpdir(), 'sn-bench-gate-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const runner = new ExecRunner();
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
// About the agent's heap at a large call (fork copies the page tables of the whole process).
const ballast = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `pair-${i}` }));

async function startAll(n: number, held: boolean): Promise<{ spreadMs: number; forkMs: number }> {
  const pacer = startPacer();
  const barrier = held ? await StartBarrier.open(runner, gate!, join(dir, `gate-${n}`), n) : undefined;
  const procs: Spawned[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await pacer.next();
    const p = runner.spawn(barrier ? barrier.held([DATE, '+%s.%N']) : [DATE, '+%s.%N'], barrier ? { stdinFd: barrier.stdinFd } : {});
    procs.push(p);
    barrier?.arrive();
  }
  const forkMs = performance.now() - t0;
  const outs = await Promise.all(procs.map((p) => p.exited));
  const starts = outs.map((o) => Number(o.stdout.trim()));
  if (starts.some((s) => !Number.isFinite(s))) throw new Error(`a tool did not report its start: ${outs.find((o) => !Number.isFinite(Number(o.stdout.trim())))?.stderr}`);
  return { spreadMs: (Math.max(...starts) - Math.min(...starts)) * 1000, forkMs };
}

const rows = [];
for (const n of COUNTS) {
  const plain = await startAll(n, false);
  const held = await startAll(n, true);
  rows.push({ clients: n, forkedOverMs: +plain.forkMs.toFixed(0), spreadPlainMs: +plain.spreadMs.toFixed(1), spreadHeldMs: +held.spreadMs.toFixed(1), ratio: +(held.spreadMs / plain.spreadMs).toFixed(3), load: loadavg() });
}
void ballast.length;
if (args.includes('--json')) console.log(JSON.stringify(rows));
else {
  console.log('clients  forked over   spread (plain)  spread (held, released together)  held/plain  load');
  for (const r of rows) console.log(`${String(r.clients).padStart(7)}  ${String(r.forkedOverMs).padStart(8)} ms  ${String(r.spreadPlainMs).padStart(11)} ms  ${String(r.spreadHeldMs).padStart(29)} ms  ${String(r.ratio).padStart(10)}  ${r.load}`);
}
