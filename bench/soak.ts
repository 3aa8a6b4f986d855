// The overnight soak as a benchmark: a sweep of at least 300 runs on the namespace lab (two
// tunnels, three filters, latency and throughput workloads, 1 s runs) while a seeded fault
// injector hits it at least 100 times (agents, controller and Redis killed, Redis paused, agents
// frozen, the underlay cut, workload tools killed). Prints the figures and saves the soak report
// as JSON next to the experiments' raw results (linked from their HTML reports); exits 1 unless
// nothing was lost, duplicated or leaked and every fault was survived. Needs root. Takes about an
// hour on 2 cores, so it is not part of `npm run bench`.
// Run: node --import=tsx --conditions=seconet-source bench/soak.ts [--seed N] [--faults N] [--repetitions N]
//        [--tunnels none,vxlan] [--filters none,iptables,nftables] [--json] [--keep DIR]

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '@seconet/agent';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState } from '../packages/cli/src/lab/lab-state.js';
import { isRoot } from '../test/helpers/requirements.js';
import { formatSoak, runSoak } from './lib/soak.js';

if (!isRoot) {
  console.error('bench/soak.ts needs root (lab namespaces)');
  process.exit(2);
}
const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const list = (name: string): string[] | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]!.split(',') : undefined;
};
const json = process.argv.includes('--json');
const seed = arg('--seed', Date.now() % 100_000);
const keep = process.argv.indexOf('--keep');
const labDir = keep >= 0 ? process.argv[keep + 1]! : join(mkdtempSync(join(tmpdir(), 'snsoak-')), 'lab');
// Interrupted: let frozen daemons go on and take the lab down (its files stay for reading).
const interrupted = async (): Promise<void> => {
  const s = readLabState(labDir);
  for (const pid of [s?.redis?.pid, ...(s?.hosts ?? []).map((h) => h.agent?.pid)]) {
    try {
      if (pid !== undefined) process.kill(pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
  if (s) await takeLabDown(new ExecRunner(), s, { keepFiles: true }).catch(() => undefined);
  console.error(`interrupted; lab files kept in ${labDir}`);
  process.exit(130);
};
process.once('SIGINT', () => void interrupted());
process.once('SIGTERM', () => void interrupted());
// 6 cells x 2 workloads x 25 repetitions = 300 runs by default.
const report = await runSoak({
  seed,
  faults: arg('--faults', 100),
  repetitions: arg('--repetitions', 26),
  experiments: arg('--experiments', 2),
  ...(list('--tunnels') ? { tunnels: list('--tunnels')! } : {}),
  ...(list('--filters') ? { filters: list('--filters')! } : {}),
  labDir,
  timeoutMs: arg('--timeout', 3 * 3600) * 1000,
  log: (l) => console.error(`${new Date().toISOString()} ${l}`),
});
console.log(json ? JSON.stringify(report, null, 2) : formatSoak(report));
console.error(`lab files (results, logs, soak report) kept in ${labDir}`);
process.exit(report.ok ? 0 : 1);
