// Pinning source and sink tools apart: the plan per core count, and a real taskset that leaves
// the tool's PID and the affinity asked for.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { pinningPlan } from '@seconet/core';
import { ExecRunner } from '../src/runner/runner.js';
import { findTool } from '../src/runner/tools.js';
import { pinned } from '../src/workloads/pinning.js';

t.test('the plan keeps CPU 0 for the agent and splits the rest between sinks and sources', async (t) => {
  t.same(pinningPlan(2), { sink: undefined, source: undefined, note: 'not pinned: 2 cores, fewer than the 3 needed to keep source, sink and agent apart' });
  t.same([pinningPlan(3).sink, pinningPlan(3).source], ['1', '2']);
  t.same([pinningPlan(4).sink, pinningPlan(4).source], ['1', '2-3']);
  t.same([pinningPlan(8).sink, pinningPlan(8).source], ['1-3', '4-7']);
  t.same(pinned(['iperf3', '-s'], undefined), ['iperf3', '-s'], 'nothing to pin: argv unchanged');
  t.throws(() => pinned(['iperf3'], '1;rm'), /bad CPU list/);
});

t.test('taskset runs the tool with the affinity asked for, under its own PID', { skip: findTool('taskset') === null ? 'taskset (util-linux) missing' : false }, async (t) => {
  const argv = pinned(['sleep', '5'], '0');
  t.same(argv.slice(0, 3), ['taskset', '-c', '0']);
  t.match(argv[3], /^\/.*\/sleep$/, 'the tool path is absolute: taskset must not search $PATH');
  const p = new ExecRunner().spawn(argv);
  t.teardown(() => p.stop(500));
  let status = '';
  for (let i = 0; i < 50 && !/^Name:\s+sleep$/m.test(status); i++) {
    await new Promise((r) => setTimeout(r, 20));
    status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
  }
  t.match(status, /^Name:\s+sleep$/m, 'the PID is the tool itself (taskset exec()s it)');
  t.match(status, /^Cpus_allowed_list:\s+0$/m, 'pinned to CPU 0');
});
