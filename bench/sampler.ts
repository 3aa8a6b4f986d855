// Benchmark: CPU cost of the metrics sampler (StreamMetrics) as the agent runs it, with the
// interfaces of N container namespaces (default 8). Three phases of D seconds each (default
// 60): idle baseline, sampling at 1 Hz, sampling at 10 Hz. Cost = CPU time of this process
// (process.cpuUsage) plus its reaped children (the per-namespace anchor processes), over wall
// time, minus the idle baseline, as a percentage of one core.
// Requirement: <= 1 % of a core at 1 Hz, <= 5 % at 10 Hz (exits non-zero otherwise).
// Run (root): node --import=tsx --conditions=seconet-source bench/sampler.ts [--duration S] [--namespaces N] [--json]

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { ExecRunner } from '../packages/agent/src/runner/runner.js';
import { streamMetrics, type MetricsDeps } from '../packages/agent/src/metrics/index.js';
import type { HostEnv } from '../packages/agent/src/host-env.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: a positive number`);
  return v;
};
const durationS = opt('--duration', 60);
const nsCount = Math.round(opt('--namespaces', 8));
if (nsCount % 2 !== 0) throw new Error('--namespaces: an even number (namespaces come in veth pairs)');

const runner = new ExecRunner();
const id = randomBytes(3).toString('hex');
const namespaces = Array.from({ length: nsCount }, (_, i) => `snbs${id}${i}`);
const CLK_TCK = 100;

/** CPU seconds of reaped children (cutime + cstime, proc(5) fields 16-17). */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK;
}

function cpuNowS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6 + childrenCpuS();
}

async function setup(): Promise<void> {
  for (let i = 0; i < nsCount; i += 2) {
    const a = namespaces[i]!;
    const b = namespaces[i + 1]!;
    await runner.run(['ip', 'netns', 'add', a]);
    await runner.run(['ip', 'netns', 'add', b]);
    await runner.run(['ip', '-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    for (const [ns, host] of [[a, 1], [b, 2]] as const) {
      await runner.run(['ip', '-n', ns, '-batch', '-'], { stdin: `link set lo up\naddr add 198.18.${240 + i / 2}.${host}/24 dev eth0\nlink set eth0 up\n` });
    }
  }
}

async function cleanup(): Promise<void> {
  for (const ns of namespaces) await runner.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
}

const env: HostEnv = { name: 'bench', prefix: 'snbs', hostNetns: undefined, stateDir: '/tmp', runDir: '/tmp', bpffs: '/tmp', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const deps: MetricsDeps = { env, runner, log: pino({ level: 'silent' }), scopeNamespaces: () => namespaces };

async function phase(intervalMs: number | undefined): Promise<{ cpuPct: number; samples: number; interfaces: number }> {
  const t0 = performance.now();
  const c0 = cpuNowS();
  let samples = 0;
  let interfaces = 0;
  if (intervalMs === undefined) {
    await new Promise((r) => setTimeout(r, durationS * 1000));
  } else {
    const ac = new AbortController();
    const stop = setTimeout(() => ac.abort(), durationS * 1000);
    for await (const s of streamMetrics(deps, { intervalMs, scope: 'bench', buffer: 0 }, ac.signal)) {
      samples++;
      interfaces = s.interfaces?.length ?? 0;
    }
    clearTimeout(stop);
  }
  const wallS = (performance.now() - t0) / 1000;
  return { cpuPct: (100 * (cpuNowS() - c0)) / wallS, samples, interfaces };
}

try {
  await setup();
  const idle = await phase(undefined);
  const hz1 = await phase(1000);
  const hz10 = await phase(100);
  const rows = [
    { phase: 'idle baseline', cpuPct: idle.cpuPct, overPct: 0, samples: 0, interfaces: 0, limitPct: Number.NaN },
    { phase: '1 Hz', cpuPct: hz1.cpuPct, overPct: hz1.cpuPct - idle.cpuPct, samples: hz1.samples, interfaces: hz1.interfaces, limitPct: 1 },
    { phase: '10 Hz', cpuPct: hz10.cpuPct, overPct: hz10.cpuPct - idle.cpuPct, samples: hz10.samples, interfaces: hz10.interfaces, limitPct: 5 },
  ];
  const ok = rows.every((r) => Number.isNaN(r.limitPct) || r.overPct <= r.limitPct);
  if (json) console.log(JSON.stringify({ durationS, namespaces: nsCount, rows, ok }));
  else {
    console.log(`sampler cost, ${durationS} s per phase, ${nsCount} container namespaces + host`);
    console.log('| phase | CPU of one core | over idle | limit | samples | interfaces per sample |');
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.phase} | ${r.cpuPct.toFixed(3)} % | ${r.overPct.toFixed(3)} % | ${Number.isNaN(r.limitPct) ? '' : `${r.limitPct} %`} | ${r.samples} | ${r.interfaces} |`);
    console.log(ok ? 'OK: within the limits' : 'FAIL: over a limit');
  }
  process.exitCode = ok ? 0 : 1;
} finally {
  await cleanup();
}
