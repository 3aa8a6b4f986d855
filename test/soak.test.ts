// A short soak for CI: a small sweep on the namespace lab under at least 20 injected faults of
// every kind; fails on any lost, duplicated or leaked item and on any fault the lab did not
// survive. The long one is bench/soak.ts (BENCHMARKS.md).
import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../packages/agent/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState } from '../packages/cli/src/lab/lab-state.js';
import { FAULT_KINDS } from '../bench/lib/faults.js';
import { formatSoak, runSoak, scanLeaks } from '../bench/lib/soak.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();

t.test('short soak: >= 20 faults, nothing lost, duplicated or leaked', { timeout: 600_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const dir = mkdtempSync(join(tmpdir(), 'snsoak-ci-'));
  const labDir = join(dir, 'lab');
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });
  const seed = Number(process.env['SECONET_SOAK_SEED'] ?? 1515);
  const r = await runSoak({ seed, faults: 20, repetitions: 6, experiments: 2, tunnels: ['none', 'vxlan'], filters: ['none', 'iptables'], labDir, timeoutMs: 420_000, keepLab: true, log: (l) => t.comment(l) });
  const state = readLabState(labDir)!;
  t.comment(formatSoak(r));
  t.ok(r.faultsInjected >= 20, `${r.faultsInjected} faults injected`);
  t.equal(r.faultsSurvived, r.faultsInjected, 'every fault survived');
  t.ok(r.allTerminal, 'every experiment is terminal');
  t.equal(r.lost, 0, 'no result lost');
  t.equal(r.duplicated, 0, 'no result duplicated');
  t.equal(r.unreported, 0, 'every stored result was reported by an agent');
  t.same(r.leaked, [], 'nothing leaked');
  t.ok(r.memory.withinBound, 'memory within its bound');
  t.same(Object.keys(r.faultsByKind).sort(), [...FAULT_KINDS].sort(), 'every kind of fault was injected');
  t.equal(r.runs.length, r.runsPlanned, 'one outcome per planned run');
  for (const f of r.reportFiles) t.ok(existsSync(f), `soak report ${f}`);
  t.equal(JSON.parse(readFileSync(r.reportFiles[0]!, 'utf8')).seed, seed);
  await takeLabDown(runner, state, { keepFiles: true });
  t.same(await scanLeaks(runner, state), [], 'nothing left after lab down');
});
