// A capability probe whose command timed out did not get the kernel's answer: the answer is
// marked transient and probed again (the per-kind cache on the next call, GetInfo in the
// background after a short wait), while the kernel's own "not supported" is kept. Before, a
// BPF or xfrm probe that timed out on a loaded host at the agent's start left the filter or
// the kernel IPsec variant unavailable until the agent restarted.
import t from 'tap';
import { pino } from 'pino';
import type { CapabilityReport, ProbeContext } from '../src/driver.js';
import type { HostEnv } from '../src/host-env.js';
import { CommandError, type CommandFailureKind } from '../src/runner/errors.js';
import type { Runner, RunResult } from '../src/runner/runner.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeconetError } from '@seconet/core';
import { isTransient, isTransientFailure, probeNotingTransient } from '../src/capabilities/transient.js';
import { ovsDriver } from '../src/solutions/ovs.js';
import { OvsFilter } from '../src/filters/ovs.js';
import { heldByProbe, holdingForProbe } from '../src/capabilities/in-flight.js';
import { findOrphans } from '../src/reconciler/orphans.js';
import { FakeRunner } from '../src/testing.js';
import { createInfoSource } from '../src/capabilities/info.js';
import { cachedProbe, report, resetProbeCache } from '../src/tunnels/probes.js';
import { ExecRunner } from '../src/runner/runner.js';

const env: HostEnv = { name: 'h1', prefix: 'sntr', hostNetns: undefined, stateDir: '/tmp', runDir: '/tmp', bpffs: '/tmp', underlayDev: 'eth0', underlayAddress: '198.18.0.1', underlayMtu: 1500 };
const log = pino({ level: 'silent' });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A runner whose `ip link add` fails with the given kinds, one per call, then succeeds. */
function scripted(failures: CommandFailureKind[]): Runner & { probes: number } {
  const r = {
    probes: 0,
    async run(argv: readonly string[]): Promise<RunResult> {
      if (argv[0] === 'ip' && argv.includes('add')) {
        r.probes++;
        const kind = failures.shift();
        if (kind !== undefined) throw new CommandError(kind, [...argv], { exitCode: kind === 'TimedOut' ? null : 2, signal: kind === 'TimedOut' ? 'SIGKILL' : null, stderr: kind === 'TimedOut' ? '' : 'Error: Unknown device type.', stdout: '' }, kind === 'TimedOut' ? { detail: 'timed out after 30000 ms' } : {});
      }
      return { stdout: '', stderr: '', exitCode: 0, durationMs: 1 };
    },
    spawn: new ExecRunner().spawn,
  };
  return r;
}

/** A tunnel-style probe (cached per kind): available when `ip link add` works. */
function probe(kind: string): (ctx: ProbeContext) => Promise<CapabilityReport[]> {
  return (ctx) => cachedProbe(kind, async () => {
    try {
      await ctx.runner.run(['ip', 'link', 'add', 'sntrprobe', 'type', kind]);
      return [report(kind, 'kernel', true, '6.1', '')];
    } catch (e) {
      return [report(kind, 'kernel', false, '', `ip link add type ${kind}: ${(e as Error).message}`)];
    }
  });
}

t.beforeEach(() => resetProbeCache());

t.test('a probe that timed out is marked and probed again; the next answer is the kernel\'s', async (t) => {
  const runner = scripted(['TimedOut']);
  const ctx: ProbeContext = { env, runner, log };
  const [first] = await probeNotingTransient(ctx, probe('xfrm'));
  t.equal(first!.available, false, 'the timed-out probe says unavailable');
  t.match(first!.reason, /timed out after 30000 ms/, 'with the timeout as the reason, not a guess');
  t.equal(isTransient(first!), true, 'marked transient');
  const [second] = await probeNotingTransient(ctx, probe('xfrm'));
  t.equal(runner.probes, 2, 'the cache did not keep it: probed again');
  t.equal(second!.available, true, 'the kernel has it');
  const [third] = await probeNotingTransient(ctx, probe('xfrm'));
  t.equal(runner.probes, 2, 'a real answer is kept');
  t.equal(third, second);
});

t.test('GetInfo: the kernel\'s "not supported" is not undetermined', async (t) => {
  const runner = scripted(['NotSupported']);
  const ctx: ProbeContext = { env, runner, log };
  const info = createInfoSource({ env, runner, log, probes: [() => probeNotingTransient(ctx, probe('gre'))], scopes: () => [], startedAt: 0 });
  const gre = (await info.getInfo()).capabilities?.find((c) => c.kind === 'gre');
  t.equal(gre?.available, false);
  t.equal(gre?.undetermined, false, 'a real "no" is not undetermined');
});

t.test('the kernel\'s "not supported" is kept, not probed again', async (t) => {
  const runner = scripted(['NotSupported', 'NotSupported']);
  const ctx: ProbeContext = { env, runner, log };
  const [first] = await probeNotingTransient(ctx, probe('gre'));
  t.equal(first!.available, false);
  t.equal(isTransient(first!), false, 'not transient');
  await probeNotingTransient(ctx, probe('gre'));
  t.equal(runner.probes, 1, 'answered from the cache');
});

t.test('GetInfo answers at once and probes a transient capability again in the background', async (t) => {
  const runner = scripted(['TimedOut']);
  const ctx: ProbeContext = { env, runner, log };
  const info = createInfoSource({ env, runner, log, probes: [() => probeNotingTransient(ctx, probe('bpf'))], scopes: () => [], startedAt: 0 }, { retryMs: 50 });
  const cap = async (): Promise<boolean | undefined> => (await info.getInfo()).capabilities?.find((c) => c.kind === 'bpf')?.available;
  t.equal(await cap(), false, 'first answer: unavailable (timed out)');
  const first = (await info.getInfo()).capabilities?.find((c) => c.kind === 'bpf');
  t.equal(first?.undetermined, true, 'GetInfo says the answer is undetermined, not the kernel\'s');
  t.match(first?.reason, /timed out after 30000 ms/, 'and keeps the cause');
  t.equal(await cap(), false, 'within the wait: the same answer, nothing probed');
  t.equal(runner.probes, 1);
  await sleep(80);
  // The call after the wait starts the new probe and still answers with what it had.
  t.equal(await cap(), false, 'answered at once, not after the probe');
  let now: boolean | undefined = false;
  for (let i = 0; i < 100 && now !== true; i++) {
    await sleep(50);
    now = await cap();
  }
  t.equal(runner.probes, 2, 'probed again after the wait, once');
  t.equal(now, true, 'the controller now sees the capability');
  t.equal((await info.getInfo()).capabilities?.find((c) => c.kind === 'bpf')?.undetermined, false, 'the kernel\'s answer is not undetermined');
});

t.test('OVS: a test switch that failed for a reason that may pass is marked and probed again; a real failure is kept', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'sntr-ovs-'));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const kinds: CommandFailureKind[] = ['TimedOut', 'NotFound'];
  let creates = 0;
  const runner: Runner = {
    async run(argv: readonly string[]): Promise<RunResult> {
      if (argv[0] === 'ovs-vswitchd' && argv[1] === '--version') return { stdout: 'ovs-vswitchd (Open vSwitch) 3.1.0\n', stderr: '', exitCode: 0, durationMs: 1 };
      if (argv[0] === 'ovsdb-tool') {
        creates++;
        const kind = kinds.shift() ?? 'NotFound';
        throw new CommandError(kind, [...argv], { exitCode: kind === 'TimedOut' ? null : 1, signal: kind === 'TimedOut' ? 'SIGKILL' : null, stderr: kind === 'TimedOut' ? '' : 'ovsdb-tool: no such file', stdout: '' }, kind === 'TimedOut' ? { detail: 'timed out after 30000 ms' } : {});
      }
      return { stdout: '', stderr: '', exitCode: 0, durationMs: 1 };
    },
    spawn: new ExecRunner().spawn,
  };
  const ctx: ProbeContext = { env: { ...env, runDir }, runner, log };
  const info = createInfoSource({ env, runner, log, probes: [() => probeNotingTransient(ctx, (c) => ovsDriver.probe(c)), () => new OvsFilter().probe(ctx)], scopes: () => [], startedAt: 0 });
  const caps = (await info.getInfo()).capabilities!.filter((c) => c.kind === 'ovs');
  t.equal(caps.length, 2, 'the network and the filter');
  for (const c of caps) {
    t.equal(c.available, false, `${c.category} ovs: not available as far as the probe got`);
    t.equal(c.undetermined, true, `${c.category} ovs: undetermined, not the host's answer`);
    t.match(c.reason, /timed out after 30000 ms/, `${c.category} ovs: the cause is kept`);
  }
  t.equal(creates, 1, 'one test switch for both (they share the probe)');
  const [again] = await ovsDriver.probe(ctx);
  t.equal(creates, 2, 'the timed-out test switch was not kept: probed again');
  t.equal(isTransient(again!), false, 'a real failure is the host\'s answer');
  t.match(again!.reason, /a test switch did not work: .*ovsdb-tool: no such file/);
  await ovsDriver.probe(ctx);
  t.equal(creates, 2, 'and it is kept');
});

t.test('a deadline of the agent\'s own (TIMEOUT) may pass; a command that failed does not', async (t) => {
  t.equal(isTransientFailure(new SeconetError('TIMEOUT', 'ovs-vswitchd did not come up within 30000 ms')), true);
  t.equal(isTransientFailure(new SeconetError('COMMAND_FAILED', 'x')), false);
  t.equal(isTransientFailure(new CommandError('TimedOut', ['x'], { exitCode: null, signal: 'SIGALRM', stderr: '', stdout: '' })), true);
  t.equal(isTransientFailure(new CommandError('NotFound', ['x'], { exitCode: 1, signal: null, stderr: '', stdout: '' })), false);
});

t.test('GC leaves what a running probe holds (its run directory, its namespace), and finds it again after', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'sntr-gc-'));
  t.teardown(() => rmSync(runDir, { recursive: true, force: true }));
  const probeDir = join(runDir, 'sntrdprobe1');
  mkdirSync(probeDir);
  const gcEnv: HostEnv = { ...env, runDir, bpffs: join(runDir, 'no-bpffs') };
  const runner = new FakeRunner();
  const found = async (): Promise<string[]> => (await findOrphans({ runner, env: gcEnv }, [])).flatMap((o) => (o.type === 'path' ? [o.path] : []));
  t.ok((await found()).includes(probeDir), 'an unjournalled directory with the prefix is an orphan');
  await holdingForProbe([probeDir, 'sntrzprobe'], async () => {
    t.notOk((await found()).includes(probeDir), 'while a probe holds it, GC does not take it');
    t.equal(heldByProbe('sntrzprobe'), true, 'the probe\'s namespace is held too');
  });
  t.ok((await found()).includes(probeDir), 'released: an orphan again');
  t.equal(heldByProbe('sntrzprobe'), false);
});
