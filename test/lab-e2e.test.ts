// The CLI end to end against a real lab: real namespaces, Redis, agents and controller. Brings a
// lab up, runs a tiny experiment through submit/status/results/report, takes the lab down and
// checks that nothing is left; then simulates a crash (every lab process killed by PID, the
// namespaces left behind) and checks that the next `lab up` repairs the same lab.
import t from 'tap';
import type { Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '@seconet/core';
import { ExecRunner } from '../packages/agent/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState, type LabState } from '../packages/cli/src/lab/lab-state.js';
import { procStartTime } from '../packages/cli/src/lab/processes.js';
import { runCli } from './cli-helpers.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();

async function namespaces(): Promise<string[]> {
  return (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);
}

function alive(pid: number, startTime: string): boolean {
  if (procStartTime(pid) !== startTime) return false;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

function processes(s: LabState): Array<{ pid: number; startTime: string }> {
  return [s.supervisor, s.controller, s.redis, ...s.hosts.map((h) => h.agent)].filter((p): p is NonNullable<typeof p> => p !== undefined);
}

/** Nothing of lab `s` is left: namespaces (host, switch, containers), root-namespace rules, processes. */
async function assertNothingLeft(t: Test, s: LabState): Promise<void> {
  const prefixes = [`snlb${s.id}`, ...s.hosts.map((h) => h.prefix)];
  const ns = await namespaces();
  t.same(ns.filter((n) => prefixes.some((p) => n.startsWith(p))), [], 'no lab or container namespace is left');
  const links = (await runner.run(['ip', '-o', 'link', 'show'])).stdout;
  t.notOk(prefixes.some((p) => links.includes(p)), 'no link with a lab prefix in the root namespace');
  for (const tool of ['iptables-save', 'nft']) {
    const out = await runner.run(tool === 'nft' ? ['nft', 'list', 'ruleset'] : [tool]).then((r) => r.stdout, () => '');
    t.notOk(prefixes.some((p) => out.includes(p)), `no ${tool} rule with a lab prefix`);
  }
  for (const p of processes(s)) t.notOk(alive(p.pid, p.startTime), `process ${p.pid} is gone`);
}

t.test('lab up, an experiment through the CLI, lab down leaves nothing', { timeout: 480_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const dir = mkdtempSync(join(tmpdir(), 'snlab-e2e-'));
  const labDir = join(dir, 'lab');
  const env = { SECONET_LAB_DIR: labDir };
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(up.code, 0, `lab up: ${up.stderr}`);
  const info = JSON.parse(up.stdout) as { id: string; apiUrl: string; tokenFile: string; hosts: Array<{ name: string; netns: string }> };
  t.match(info.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.ok(existsSync(info.tokenFile), 'the token file exists');
  t.same(info.hosts.map((h) => h.name), ['h1', 'h2']);
  const state = readLabState(labDir)!;
  const ns = await namespaces();
  for (const h of state.hosts) t.ok(ns.includes(h.netns), `${h.netns} exists`);

  const health = await fetch(`${info.apiUrl}/healthz`);
  t.equal(health.status, 200);
  const unauth = await fetch(`${info.apiUrl}/v1/agents`);
  t.equal(unauth.status, 401, 'the lab API wants the token');

  const st = await runCli(['lab', 'status', '--json'], { env });
  t.equal(st.code, 0, st.stderr);
  t.equal(JSON.parse(st.stdout).running, true);

  const again1 = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 60_000 });
  t.equal(again1.code, 0, again1.stderr);
  t.equal(JSON.parse(again1.stdout).id, info.id, 'lab up on a healthy lab keeps it');
  const other = await runCli(['lab', 'up', '--hosts', '3'], { env, timeoutMs: 60_000 });
  t.equal(other.code, 6, 'lab up with another host count refuses (CONFLICT) instead of tearing a running lab down');
  t.match(other.stderr, /lab down/);
  t.equal(readLabState(labDir)?.id, info.id, 'the running lab is untouched');

  const spec = join(dir, 'tiny.yaml');
  writeFileSync(spec, ['name: lab-e2e', 'placement: multi-host', 'matrix: {network: [bridge], tunnel: [none], filter: [none], containers: [2]}', 'workloads:', '  - latency-basic: {count: 5, interval: 0.2}', 'repetitions: {min: 1, max: 1}', ''].join('\n'));
  const sub = await runCli(['submit', spec, '--json'], { env });
  t.equal(sub.code, 0, sub.stderr);
  const id = JSON.parse(sub.stdout).id as string;

  let exp: { state: string; progress: { runsDone: number; runsTotal: number } } | undefined;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const s = await runCli(['status', id, '--json'], { env });
    t.equal(s.code, 0, s.stderr);
    exp = JSON.parse(s.stdout);
    if (['succeeded', 'failed', 'cancelled'].includes(exp!.state)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  t.equal(exp?.state, 'succeeded', 'the experiment succeeded');
  t.same(exp?.progress.runsDone, exp?.progress.runsTotal);

  const csv = await runCli(['results', id, '--format', 'csv'], { env });
  t.equal(csv.code, 0, csv.stderr);
  const [head, ...rows] = csv.stdout.trim().split(/\r?\n/);
  const cols = head!.split(',');
  for (const c of ['experiment', 'cell', 'run', 'repetition', 'workload', 'network', 'tunnel', 'tunnel_variant', 'filter', 'filter_variant', 'rules', 'containers', 'pair', 'metric', 'value', 'unit']) t.ok(cols.includes(c), `column ${c}`);
  t.ok(rows.length > 0, 'rows');
  const rtt = rows.map((r) => r.split(',')).find((r) => r[cols.indexOf('metric')] === 'rtt_avg');
  t.ok(rtt, 'an rtt_avg row');
  const v = Number(rtt?.[cols.indexOf('value')]);
  t.ok(v > 0 && v < 100, `rtt_avg ${v} ms is a plausible loopback-lab RTT`);
  t.ok(rows.every((r) => r.split(',')[0] === id), 'every row belongs to the experiment');

  const html = join(dir, 'report.html');
  const rep = await runCli(['report', id, '-o', html], { env });
  t.equal(rep.code, 0, rep.stderr);
  t.match(readFileSync(html, 'utf8'), /<html/i);

  const down = await runCli(['lab', 'down', '--json'], { env, timeoutMs: 120_000 });
  t.equal(down.code, 0, down.stderr);
  await assertNothingLeft(t, state);
  t.notOk(existsSync(join(labDir, 'state.json')), 'the state file is gone');
  const again = await runCli(['lab', 'down'], { env });
  t.equal(again.code, 0, 'lab down twice succeeds');
  const gone = await runCli(['lab', 'status', '--json'], { env });
  t.equal(gone.code, 8, 'lab status without a lab exits 8');
});

t.test('lab up after a crash repairs the crashed lab instead of wiping it', { timeout: 480_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const dir = mkdtempSync(join(tmpdir(), 'snlab-crash-'));
  const labDir = join(dir, 'lab');
  const env = { SECONET_LAB_DIR: labDir };
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });
  const first = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(first.code, 0, first.stderr);
  const crashed = readLabState(labDir)!;
  for (const p of processes(crashed)) process.kill(p.pid, 'SIGKILL');
  // SIGKILL is delivered at once, but a loaded machine may take a while to tear a process down.
  for (const p of processes(crashed)) t.ok(await pollUntil(() => !alive(p.pid, p.startTime), 15_000, 100), `crashed process ${p.pid} is dead`);
  t.ok((await namespaces()).includes(crashed.hosts[0]!.netns), 'the crashed lab left its namespaces');

  const status = await runCli(['lab', 'status', '--json'], { env });
  t.equal(status.code, 8, 'lab status reports the crashed lab as not running');
  t.equal(JSON.parse(status.stdout).running, false);

  const second = await runCli(['lab', 'up', '--hosts', '2', '--json'], { env, timeoutMs: 180_000 });
  t.equal(second.code, 0, second.stderr);
  const out = JSON.parse(second.stdout) as { action: string; restarted: string[] };
  t.equal(out.action, 'repaired');
  t.same([...out.restarted].sort(), ['agent h1', 'agent h2', 'controller', 'redis']);
  const repaired = readLabState(labDir)!;
  t.equal(repaired.id, crashed.id, 'the same lab, repaired');
  t.equal(repaired.apiUrl, crashed.apiUrl, 'on the same port');
  const st = await runCli(['lab', 'status', '--json'], { env });
  t.equal(st.code, 0, `the repaired lab is fully up: ${st.stdout}`);

  const fresh = await runCli(['lab', 'up', '--hosts', '2', '--fresh', '--yes', '--json'], { env, timeoutMs: 180_000 });
  t.equal(fresh.code, 0, fresh.stderr);
  t.equal(JSON.parse(fresh.stdout).action, 'created');
  const renewed = readLabState(labDir)!;
  t.not(renewed.id, crashed.id, '--fresh --yes starts a new lab');
  await assertNothingLeft(t, repaired);

  const down = await runCli(['lab', 'down'], { env, timeoutMs: 120_000 });
  t.equal(down.code, 0, down.stderr);
  await assertNothingLeft(t, renewed);
});
