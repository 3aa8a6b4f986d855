// The soak: a sweep on the namespace lab (several tunnels, filters and workloads, short runs)
// while FaultInjector hits it on a seeded schedule, then the proof, as figures:
//   - every experiment reached a terminal state;
//   - every planned run has exactly one outcome (succeeded with one result set, or failed or
//     skipped with a reason); result rows lost (a succeeded run without rows, a planned run without outcome)
//     and duplicated (the same run x pair x metric twice), checked against the plan and against
//     the runs the agents' logs say they finished;
//   - nothing leaked: the agents' GC (through their API, keeping no scope) removes nothing, and an
//     independent scan finds no container namespace, prefixed link, prefixed iptables chain or
//     nft table, xfrm policy in any host namespace, no process inside a container namespace or
//     under an agent's run directory, and no prefixed link in the root namespace;
//   - controller and agent memory at the end against the start;
//   - the share of wall time spent measuring;
//   - faults injected and survived, runs retried and failed.
// The report (faults with timestamps, outcome per run) is saved as JSON next to the experiment's
// raw results, where the HTML report links it.

import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connectAgent, ExecRunner, type Runner } from '@seconet/agent';
import { mulberry32 } from '@seconet/core';
import { loadControllerConfig, openStore, type Store } from '@seconet/controller';
import { ApiClient } from '../../packages/cli/src/api-client.js';
import { AGENT_CMD, CONTROLLER_CMD, REDIS_CMD, SUPERVISOR_CMD } from '../../packages/cli/src/lab/daemons.js';
import { takeLabDown } from '../../packages/cli/src/lab/lab-down.js';
import { readLabState, type LabState } from '../../packages/cli/src/lab/lab-state.js';
import { labUpDetailed } from '../../packages/cli/src/lab/lab-up.js';
import { isOurs } from '../../packages/cli/src/lab/processes.js';
import { FAULT_KINDS, FaultInjector, type FaultKind, type FaultRecord } from './faults.js';

export interface SoakOptions {
  readonly seed: number;
  /** Faults to inject (at least). */
  readonly faults: number;
  /** Repetitions per cell x workload; runs = cells x workloads x repetitions. */
  readonly repetitions: number;
  readonly tunnels?: readonly string[];
  readonly filters?: readonly string[];
  /** Experiments the runs are split over (queued behind each other). */
  readonly experiments?: number;
  readonly kinds?: readonly FaultKind[];
  /** Lab directory (a fresh temporary one by the caller). */
  readonly labDir: string;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
  readonly runner?: Runner;
  /** Leave the lab up afterwards (default: take it down and check that nothing is left). */
  readonly keepLab?: boolean;
}

export interface RunOutcome {
  readonly id: string;
  readonly experiment: string;
  readonly state: string;
  readonly attempts: number;
  readonly rows: number;
  readonly error?: string | undefined;
}

export interface SoakReport {
  readonly seed: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallSeconds: number;
  readonly experiments: Array<{ id: string; state: string; runs: number }>;
  readonly allTerminal: boolean;
  readonly runsPlanned: number;
  readonly runsSucceeded: number;
  readonly runsFailed: number;
  /** Runs of a cell the pre-flight refused (with the reason). */
  readonly runsSkipped: number;
  readonly runsRetried: number;
  readonly lost: number;
  readonly duplicated: number;
  /** Succeeded runs with rows that no agent log reports as finished. */
  readonly unreported: number;
  readonly leaked: string[];
  readonly faultsInjected: number;
  readonly faultsSurvived: number;
  readonly faultsByKind: Record<string, number>;
  readonly faultsSkipped: number;
  readonly measuringShare: number;
  readonly memory: { controller: { startMiB: number; endMiB: number }; agents: { startMiB: number; endMiB: number }; boundMiB: number; withinBound: boolean };
  readonly faults: FaultRecord[];
  readonly runs: RunOutcome[];
  readonly reportFiles: string[];
  readonly ok: boolean;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled'];

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? +(Number(m[1]) / 1024).toFixed(1) : 0;
  } catch {
    return 0;
  }
}

export function soakSpec(name: string, o: { repetitions: number; tunnels: readonly string[]; filters: readonly string[] }): Record<string, unknown> {
  return {
    name,
    hosts: ['h1', 'h2'],
    placement: 'multi-host',
    matrix: { network: ['bridge'], tunnel: [...o.tunnels], filter: [...o.filters], containers: [2] },
    workloads: [{ 'latency-basic': { count: 3, interval: 0.2 } }, { 'throughput-basic': { duration: 1, engine: 'iperf3' } }],
    repetitions: { min: o.repetitions, max: o.repetitions },
  };
}

/** Runs the agents' logs say they finished (a "stream ended" line with the run id). */
function agentReportedRuns(s: LabState): Set<string> {
  const out = new Set<string>();
  for (const h of s.hosts) {
    let text = '';
    try {
      text = readFileSync(h.agent?.logFile ?? join(s.dir, 'hosts', h.name, 'agent.log'), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes('stream ended') || !line.includes('runId')) continue;
      try {
        const j = JSON.parse(line) as { msg?: string; runId?: string };
        if (j.msg === 'stream ended' && typeof j.runId === 'string' && j.runId !== '') out.add(j.runId);
      } catch {
        /* a line cut by a kill */
      }
    }
  }
  return out;
}

/** An independent scan for anything of the lab's agents left in the kernel or as a process. */
export async function scanLeaks(runner: Runner, s: LabState): Promise<string[]> {
  const leaks: string[] = [];
  const prefixes = s.hosts.map((h) => h.prefix);
  const mine = (n: string): boolean => prefixes.some((p) => n.startsWith(p) || n.startsWith(p.toUpperCase()));
  const ns = (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
  for (const n of ns) if (mine(n)) leaks.push(`namespace ${n}`);
  const rootLinks = (await runner.run(['ip', '-o', 'link', 'show'])).stdout;
  for (const p of prefixes) if (new RegExp(`: ${p}[^:]*[:@]`).test(rootLinks)) leaks.push(`link with prefix ${p} in the root namespace`);
  for (const h of s.hosts) {
    if (!ns.includes(h.netns)) continue;
    const links = (await runner.run(['ip', '-n', h.netns, '-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0] ?? '');
    for (const l of links) if (mine(l)) leaks.push(`link ${l} in ${h.netns}`);
    const ipt = await runner.run(['iptables-save'], { netns: h.netns }).then((r) => r.stdout, () => '');
    for (const line of ipt.split('\n')) if (line.startsWith(':') && mine(line.slice(1))) leaks.push(`iptables chain ${line.slice(1).split(' ')[0]} in ${h.netns}`);
    const nft = await runner.run(['nft', 'list', 'tables'], { netns: h.netns }).then((r) => r.stdout, () => '');
    for (const line of nft.split('\n')) if (line.startsWith('table ') && mine(line.split(' ')[2] ?? '')) leaks.push(`nft ${line} in ${h.netns}`);
    const xfrm = await runner.run(['ip', '-n', h.netns, 'xfrm', 'policy', 'list']).then((r) => r.stdout.trim(), () => '');
    if (xfrm !== '') leaks.push(`xfrm policies in ${h.netns}`);
  }
  const runDirs = s.hosts.map((h) => join(s.dir, 'hosts', h.name, 'run'));
  const nsInodes = new Set<number>();
  for (const n of ns) {
    if (!mine(n)) continue;
    try {
      nsInodes.add(statSync(`/run/netns/${n}`).ino);
    } catch {
      /* gone */
    }
  }
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${e}/ns/net`))?.[1]);
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (nsInodes.has(ino)) leaks.push(`process ${e} (${argv[0]}) in a container namespace`);
      else if (argv.some((a) => runDirs.some((d) => a.includes(`${d}/`)))) leaks.push(`process ${e} (${argv[0]}) using an agent's run directory`);
    } catch {
      /* gone */
    }
  }
  return leaks;
}

/** The agents' own GC, keeping no scope: what it removes had leaked (it is repaired now). */
async function agentGc(s: LabState): Promise<string[]> {
  const cfg = loadControllerConfig(s.controller!.configFile);
  const out: string[] = [];
  for (const a of cfg.agents) {
    const c = connectAgent(a);
    try {
      const r = await c.gc({ requestId: `soak-gc-${Date.now()}`, keepScopes: [] }, { deadlineMs: 60_000 });
      for (const x of r.removed ?? []) out.push(`${a.name}: ${x}`);
    } catch (e) {
      out.push(`${a.name}: GC failed: ${(e as Error).message}`);
    } finally {
      c.close();
    }
  }
  return out;
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const log = o.log ?? (() => undefined);
  const runner = o.runner ?? new ExecRunner();
  const rng = mulberry32(o.seed);
  const tunnels = o.tunnels ?? ['none', 'vxlan'];
  const filters = o.filters ?? ['none', 'iptables', 'nftables'];
  const kinds = o.kinds ?? FAULT_KINDS;
  const nExp = o.experiments ?? 2;
  const startedAt = new Date();
  log(`soak seed ${o.seed}: ${o.faults} faults of ${kinds.join(', ')}; lab in ${o.labDir}`);
  const up = await labUpDetailed({ hosts: 2, runner, dir: o.labDir, timeoutMs: 120_000, say: (l) => log(`  ${l}`) });
  let s = up.state;
  const token = readFileSync(s.tokenFile, 'utf8').trim();
  const api = new ApiClient(s.apiUrl, token);
  const store: Store = openStore(join(o.labDir, 'controller', 'data'));
  const injector = new FaultInjector({
    runner,
    labDir: o.labDir,
    rng,
    kinds,
    log,
    phase: () => {
      const running = ids.flatMap((id) => store.runs(id).filter((r) => r.state === 'running'));
      return running.length > 0 ? `run ${running[0]!.id}` : 'no run in flight';
    },
    whole: async () => {
      const st = readLabState(o.labDir);
      if (st === undefined) return false;
      if (!st.redis || !isOurs(st.redis, REDIS_CMD) || !st.controller || !isOurs(st.controller, CONTROLLER_CMD)) return false;
      if (!st.hosts.every((h) => h.agent && isOurs(h.agent, AGENT_CMD))) return false;
      if (!(await api.health())) return false;
      const agents = await api.agents();
      return agents.length === st.hosts.length && agents.every((a) => a.healthy);
    },
  });
  const ids: string[] = [];
  try {
    for (let i = 0; i < nExp; i++) {
      const spec = soakSpec(`soak-${o.seed}-${i + 1}`, { repetitions: Math.max(1, Math.round(o.repetitions / nExp)), tunnels, filters });
      ids.push((await api.submit(JSON.stringify(spec), 'application/json')).id);
    }
    const planned = new Map(ids.map((id) => [id, store.runs(id).map((r) => r.id)]));
    const initialRuns = [...planned.values()].reduce((a, r) => a + r.length, 0);
    log(`submitted ${ids.join(', ')}: ${initialRuns} runs planned`);

    // Memory at the start: once the first run finished (the daemons are warm).
    const done = (): number => ids.reduce((a, id) => a + store.progress(id).runsDone, 0);
    for (let i = 0; i < 600 && done() === 0; i++) await sleep(200);
    s = readLabState(o.labDir)!;
    const memStart = { controller: rssMiB(s.controller?.pid), agents: s.hosts.reduce((a, h) => a + rssMiB(h.agent?.pid), 0) };
    const t0 = Date.now();
    const deadline = t0 + (o.timeoutMs ?? 3_600_000);
    const finished = (): boolean => ids.every((id) => TERMINAL.includes(store.getExperiment(id)?.state ?? ''));

    // Faults: spread over what is left of the sweep, judged from its pace so far. Recoveries
    // take time the pace does not foresee (a Redis restart, a controller resuming), so when the
    // sweep ends before every fault was injected, one more experiment of the same spec is queued
    // and the faults go on: the count asked for is a promise, not a hope.
    let runsPlanned = initialRuns;
    let extra = 0;
    while (injector.records.length < o.faults && Date.now() < deadline) {
      if (finished()) {
        extra++;
        const spec = soakSpec(`soak-${o.seed}-extra${extra}`, { repetitions: Math.max(1, Math.round(o.repetitions / nExp)), tunnels, filters });
        const id = (await api.submit(JSON.stringify(spec), 'application/json')).id;
        ids.push(id);
        planned.set(id, store.runs(id).map((r) => r.id));
        runsPlanned += planned.get(id)!.length;
        log(`the sweep ended with ${o.faults - injector.records.length} faults to go: submitted ${id}`);
      }
      const left = runsPlanned - done();
      const perRun = (Date.now() - t0) / Math.max(1, done());
      const budget = (left * perRun) / Math.max(1, o.faults - injector.records.length);
      const gap = Math.min(30_000, Math.max(500, budget * (0.1 + 0.7 * rng())));
      await sleep(gap);
      if (finished()) continue;
      await injector.injectOne();
    }
    await injector.restore();
    while (!finished() && Date.now() < deadline) await sleep(500);
    const wallSeconds = (Date.now() - startedAt.getTime()) / 1000;
    s = readLabState(o.labDir)!;
    const memEnd = { controller: rssMiB(s.controller?.pid), agents: s.hosts.reduce((a, h) => a + rssMiB(h.agent?.pid), 0) };

    // Outcomes, against the plan and against the agents' logs.
    const reported = agentReportedRuns(s);
    const runs: RunOutcome[] = [];
    let lost = 0;
    let duplicated = 0;
    let unreported = 0;
    let measuringMs = 0;
    for (const id of ids) {
      const stored = new Map(store.runs(id).map((r) => [r.id, r]));
      const rows = store.resultRows(id);
      const byRun = new Map<string, number>();
      const seen = new Set<string>();
      for (const r of rows) {
        byRun.set(r.run, (byRun.get(r.run) ?? 0) + 1);
        const k = `${r.run}\u0000${r.pair}\u0000${r.metric}`;
        if (seen.has(k)) duplicated++;
        seen.add(k);
      }
      for (const rid of planned.get(id)!) {
        const r = stored.get(rid);
        if (r === undefined || !['succeeded', 'failed', 'skipped'].includes(r.state)) {
          lost++;
          runs.push({ id: rid, experiment: id, state: r?.state ?? 'missing', attempts: r?.attempts ?? 0, rows: byRun.get(rid) ?? 0 });
          continue;
        }
        const n = byRun.get(rid) ?? 0;
        if (r.state === 'succeeded' && n === 0) lost++;
        if ((r.state === 'failed' || r.state === 'skipped') && (r.error ?? '') === '') lost++;
        if (r.state === 'succeeded' && !reported.has(rid)) unreported++;
        if (r.startedAt && r.finishedAt && r.state === 'succeeded') measuringMs += Date.parse(r.finishedAt) - Date.parse(r.startedAt);
        runs.push({ id: rid, experiment: id, state: r.state, attempts: r.attempts, rows: n, error: r.error });
      }
      for (const rid of stored.keys()) if (!planned.get(id)!.includes(rid)) duplicated++;
    }
    const experiments = ids.map((id) => ({ id, state: store.getExperiment(id)?.state ?? 'missing', runs: planned.get(id)!.length }));

    // Leaks: the agents' GC, then an independent scan; after lab down, the scan again.
    const leaked = [...(await agentGc(s)).map((x) => `agent GC removed ${x}`), ...(await scanLeaks(runner, s))];
    const faults = injector.records;
    const faultsByKind: Record<string, number> = {};
    for (const f of faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
    const boundMiB = 64;
    const withinBound = memEnd.controller <= memStart.controller * 1.5 + boundMiB && memEnd.agents <= memStart.agents * 1.5 + boundMiB;
    const report: SoakReport = {
      seed: o.seed,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      wallSeconds: +wallSeconds.toFixed(1),
      experiments,
      allTerminal: experiments.every((e) => TERMINAL.includes(e.state)),
      runsPlanned,
      runsSucceeded: runs.filter((r) => r.state === 'succeeded').length,
      runsFailed: runs.filter((r) => r.state === 'failed').length,
      runsSkipped: runs.filter((r) => r.state === 'skipped').length,
      runsRetried: runs.filter((r) => r.attempts > 1).length,
      lost,
      duplicated,
      unreported,
      leaked,
      faultsInjected: faults.length,
      faultsSurvived: faults.filter((f) => f.survived).length,
      faultsByKind,
      faultsSkipped: injector.skipped.length,
      measuringShare: +(measuringMs / 1000 / wallSeconds).toFixed(3),
      memory: { controller: { startMiB: memStart.controller, endMiB: memEnd.controller }, agents: { startMiB: memStart.agents, endMiB: memEnd.agents }, boundMiB, withinBound },
      faults,
      runs,
      reportFiles: [],
      ok: false,
    };
    const ok = report.allTerminal && lost === 0 && duplicated === 0 && unreported === 0 && leaked.length === 0 && report.faultsSurvived === report.faultsInjected && report.faultsInjected >= o.faults && withinBound;
    const files = ids.map((id) => join(store.dir, 'raw', id, 'soak-report.json'));
    const final: SoakReport = { ...report, reportFiles: files, ok };
    for (const f of files) {
      mkdirSync(join(f, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(f, `${JSON.stringify(final, null, 2)}\n`, { mode: 0o600 });
    }
    return final;
  } finally {
    await injector.restore();
    store.close();
    if (o.keepLab !== true) {
      const st = readLabState(o.labDir);
      if (st) await takeLabDown(runner, st, { keepFiles: true });
    }
  }
}

/** The figures, for humans. */
export function formatSoak(r: SoakReport): string {
  const kinds = Object.entries(r.faultsByKind).map(([k, n]) => `${k} ${n}`).join(', ');
  return [
    `soak seed ${r.seed}: ${r.ok ? 'PASS' : 'FAIL'} in ${r.wallSeconds} s`,
    `experiments         ${r.experiments.map((e) => `${e.id} ${e.state}`).join(', ')} (all terminal: ${r.allTerminal})`,
    `runs planned        ${r.runsPlanned}: ${r.runsSucceeded} succeeded, ${r.runsFailed} failed, ${r.runsSkipped} skipped, ${r.runsRetried} retried`,
    `result rows         lost ${r.lost}, duplicated ${r.duplicated}, not reported by an agent ${r.unreported}`,
    `leaked              ${r.leaked.length}${r.leaked.length > 0 ? `: ${r.leaked.slice(0, 10).join('; ')}` : ''}`,
    `faults              injected ${r.faultsInjected}, survived ${r.faultsSurvived}, skipped ${r.faultsSkipped} (${kinds})`,
    `memory (RSS MiB)    controller ${r.memory.controller.startMiB} -> ${r.memory.controller.endMiB}, agents ${r.memory.agents.startMiB} -> ${r.memory.agents.endMiB} (bound: 1.5x + ${r.memory.boundMiB}: ${r.memory.withinBound ? 'within' : 'EXCEEDED'})`,
    `measuring           ${(100 * r.measuringShare).toFixed(1)} % of wall time`,
    `report              ${r.reportFiles.join(', ')}`,
  ].join('\n');
}

/** For tests: the supervisor is recorded and alive. */
export function supervised(s: LabState): boolean {
  return s.supervisor !== undefined && isOurs(s.supervisor, SUPERVISOR_CMD);
}
