// `seconet run FILE` end to end: it brings a lab up, runs the experiment, writes the report and
// the CSV, and takes down the lab it started; interrupted, it cancels and still cleans up.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecRunner } from '../packages/agent/src/index.js';
import { takeLabDown } from '../packages/cli/src/lab/lab-down.js';
import { readLabState } from '../packages/cli/src/lab/lab-state.js';
import { selfArgv } from '../packages/cli/src/self-invoke.js';
import { runCli } from './cli-helpers.js';
import { requireRoot } from './helpers/requirements.js';

const runner = new ExecRunner();
const TINY = ['name: lab-run', 'placement: multi-host', 'matrix: {network: [bridge], tunnel: [none], filter: [none], containers: [2]}', 'workloads:', '  - latency-basic: {count: 5, interval: 0.2}', 'repetitions: {min: 1, max: 1}', ''].join('\n');

async function namespaces(): Promise<string[]> {
  return (await runner.run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.length > 0);
}

function setup(t: Test): { dir: string; labDir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'snlab-run-'));
  const labDir = join(dir, 'lab');
  t.teardown(async () => {
    const s = readLabState(labDir);
    if (s) await takeLabDown(runner, s);
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, labDir, env: { SECONET_LAB_DIR: labDir } };
}

t.test('seconet run: lab up, experiment, report and CSV, lab down', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { dir, labDir, env } = setup(t);
  const spec = join(dir, 'tiny.yaml');
  writeFileSync(spec, TINY);
  const report = join(dir, 'out', 'tiny.html');
  mkdirSync(join(dir, 'out'));
  const r = await runCli(['run', spec, '-o', report, '--json'], { env, timeoutMs: 240_000 });
  t.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { id: string; state: string; report: string; results: string };
  t.equal(res.state, 'succeeded');
  t.equal(res.report, report);
  t.match(readFileSync(report, 'utf8'), /<html/i);
  t.equal(res.results, join(dir, 'out', 'tiny.csv'));
  const csv = readFileSync(res.results, 'utf8').trim().split(/\r?\n/);
  t.ok(csv.length > 1, 'the CSV has rows');
  t.ok(csv.slice(1).every((l) => l.startsWith(`${res.id},`)));
  t.notOk(existsSync(join(labDir, 'state.json')), 'the lab it started is down');
});

t.test('seconet run interrupted: cancels and takes its lab down', { timeout: 300_000 }, async (t) => {
  if (!requireRoot(t, 'network namespaces')) return;
  const { dir, labDir, env } = setup(t);
  const spec = join(dir, 'long.yaml');
  writeFileSync(spec, TINY.replace('lab-run', 'lab-run-long').replace('{count: 5, interval: 0.2}', '{duration: 120}'));
  const [node, ...args] = selfArgv(['run', spec, '-o', join(dir, 'r.html')]);
  const child = spawn(node!, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const submitted = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (/submitted /.test(stdout)) resolve();
  }));
  const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
  await Promise.race([submitted, exited]);
  t.match(stdout, /submitted /, 'the experiment was submitted');
  const state = readLabState(labDir);
  t.ok(state, 'a lab is running');
  const containersUp = async (): Promise<boolean> => (await namespaces()).some((n) => state!.hosts.some((h) => n.startsWith(h.prefix)));
  for (let i = 0; i < 60 && !(await containersUp()); i++) await new Promise((r) => setTimeout(r, 500));
  t.ok(await containersUp(), 'the agents made container namespaces before the interrupt');
  await new Promise((r) => setTimeout(r, 2000));
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(timer);
  t.equal(code, 10, `exit CANCELLED (stdout: ${stdout.slice(-300)} stderr: ${stderr.slice(-300)})`);
  t.match(stdout, /interrupted: cancelling the experiment/);
  t.notOk(existsSync(join(labDir, 'state.json')), 'the lab it started is down');
  const prefixes = state ? [`snlb${state.id}`, ...state.hosts.map((h) => h.prefix)] : [];
  t.same((await namespaces()).filter((n) => prefixes.some((p) => n.startsWith(p))), [], 'its host, switch and container namespaces are gone');
});
